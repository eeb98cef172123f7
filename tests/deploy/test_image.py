"""The user image (images/singleuser), checked without Docker.

Docker cannot run here, so ``image_env`` builds the image's Python environment the way the
Dockerfile does (``tests/deploy/image_env.py``): a fresh ``python -m venv`` (no system or test
site-packages) standing for ``${CONDA_DIR}``, the Dockerfile's own ``pip install`` arguments (same
constraints and requirement files, the datadive wheel built from this source tree for ``dist/``),
then its ``COPY ... ${CONDA_DIR}/...`` lines (the server configuration into ``etc/jupyter/``, Lab's
``overrides.json`` into ``share/jupyter/lab/settings/``). Cached in ``.venv/image-env/``; the
first build takes about a minute.

Then, from that environment only: ``jupyter server extension list`` and ``jupyter labextension
list`` show the datadive parts enabled and valid; a real hub spawns ``datadive-singleuser`` from
it (``configure(c, contents_manager=False)`` and no PYTHONPATH, so the ContentsManager class and
the code can come from nowhere but the image's files), the ContentsManager serves the Datadive
projects, the server extension answers, a kernel imports the analysis stack, and Lab (headless
Chromium) shows the Datadive panel with the interfering features off.

Module fixtures: ``wheel_dir`` (the wheel built from the source tree), ``image_env``
(``image_env.ImageEnv``), ``image_hub`` (a ``Hub`` spawning servers from it), ``researcher``
(a user with a project and a running server: name, password, headers, base URL, server model).
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from user_server import execute

from . import image_env as image_env_module
from .conftest import Hub, unavailable

pytestmark = [pytest.mark.hub, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
IMAGE = REPO / "images" / "singleuser"
CHROMIUM = "/usr/bin/chromium"
DISABLED = json.loads((IMAGE / "jupyter-config/labconfig/page_config.json").read_text())[
    "disabledExtensions"
]

CONFIG = """
import datadive_hub
datadive_hub.configure(c, data_dir={data_dir!r}, service_port={service_port}, contents_manager=False)
# the user server is the image's: its datadive-singleuser, its PATH, none of the hub's Python
c.Spawner.cmd = [{singleuser!r}]
c.Spawner.env_keep = ["LANG", "LC_ALL"]
c.Spawner.environment = {{**c.Spawner.environment, "PATH": {path!r}}}
c.Spawner.default_url = "/lab"
"""


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.strip().lower())


def _pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements/constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, pin = line.split("==", 1)
            pins[_norm(name.split("[")[0])] = pin.strip()
    return pins


@pytest.fixture(scope="module")
def wheel_dir(tmp_path_factory) -> Path:
    """The datadive wheel built from this source tree, as ./dev setup builds dist/."""
    out = tmp_path_factory.mktemp("dist")
    r = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
        + ["-w", str(out), str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, f"building the datadive wheel failed:\n{r.stdout}{r.stderr}"
    return out


@pytest.fixture(scope="module")
def image_env(wheel_dir) -> image_env_module.ImageEnv:
    env = image_env_module.build(wheel_dir)
    sys.stderr.write(
        f"\n[tests/deploy] user-image environment {env.prefix} "
        f"({'built' if env.built_now else 'cached'}, {env.seconds:.0f} s)\n"
    )
    return env


def _installed(env: image_env_module.ImageEnv) -> dict[str, str]:
    code = (
        "import json, importlib.metadata as m; "
        "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    )
    r = env.run(str(env.python), "-c", code)
    assert r.returncode == 0, r.stderr
    return {_norm(k): v for k, v in json.loads(r.stdout).items()}


def test_the_image_environment_has_the_pinned_requirements_and_nothing_from_the_tests(image_env):
    pins = _pins()
    installed = _installed(image_env)
    for line in (IMAGE / "requirements.txt").read_text().splitlines():
        name = line.split("#")[0].strip()
        if not name:
            continue
        key = _norm(name)
        assert key in pins, f"{name} (images/singleuser/requirements.txt) has no pin"
        assert installed.get(key) == pins[key], f"{name}: image has {installed.get(key)}"
    # every installed distribution is pinned (nothing resolved to whatever is newest) ...
    unpinned = sorted(k for k in installed if k not in pins and k != "datadive")
    assert unpinned == [], f"installed in the image without a pin in constraints.txt: {unpinned}"
    assert {k: v for k, v in installed.items() if k in pins and pins[k] != v} == {}
    # ... and test-only packages are not there: the image would not have them either
    for test_only in ("pytest", "moto", "playwright", "jupyterhub-kubespawner", "s3contents"):
        assert test_only not in installed, test_only


def test_datadive_comes_from_the_wheel_in_the_image_environment(image_env):
    code = (
        "import json, datadive_hub, datadive_server_ext, datadive_contents, importlib.metadata as m;"
        "eps = {e.name: e.value for e in m.entry_points(group='jupyterhub.authenticators')};"
        "print(json.dumps({'files': [datadive_hub.__file__, datadive_server_ext.__file__,"
        " datadive_contents.__file__], 'eps': eps}))"
    )
    r = image_env.run(str(image_env.python), "-c", code)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    site = str(image_env.prefix / "lib")
    assert all(f.startswith(site) for f in out["files"]), out["files"]
    assert out["eps"]["datadive"] == "datadive_hub.auth.oidc:DatadiveOAuthenticator"


def test_server_and_lab_extensions_listed_enabled_and_valid(image_env):
    r = image_env.run(str(image_env.bin / "jupyter"), "server", "extension", "list")
    text = re.sub(r"\x1b\[[0-9;]*m", "", r.stdout + r.stderr)
    assert r.returncode == 0, text
    assert f"Config dir: {image_env.prefix}/etc/jupyter" in text
    assert re.search(r"^\s*datadive_server_ext enabled$", text, re.M), text
    assert re.search(r"^\s*datadive_server_ext \S+ OK$", text, re.M), text
    r = image_env.run(str(image_env.bin / "jupyter"), "labextension", "list")
    text = re.sub(r"\x1b\[[0-9;]*m", "", r.stdout + r.stderr)
    assert r.returncode == 0, text
    assert f"{image_env.prefix}/share/jupyter/labextensions" in text
    assert re.search(r"@datadive/labextension v\S+ enabled OK \(python, datadive\)", text), text
    # the features the image switches off (those installed here) are reported disabled
    assert "@jupyterlab/extensionmanager-extension" in text.split("Disabled extensions:")[1]


def test_the_image_config_names_the_contents_manager(image_env):
    r = image_env.run(
        str(image_env.bin / "jupyter"), "server", "--show-config", "--allow-root", timeout=120
    )
    text = r.stdout + r.stderr
    assert "datadive_contents.DatadiveContentsManager" in text, text[-3000:]


def test_dockerfile_pins_the_base_installs_the_wheel_and_ends_unprivileged():
    text = (IMAGE / "Dockerfile").read_text()
    base = re.search(r"^ARG BASE_IMAGE=(\S+)", text, re.M).group(1)
    assert re.fullmatch(r"quay\.io/jupyter/scipy-notebook:\d{4}-\d{2}-\d{2}", base), base
    assert "-c /tmp/datadive/constraints.txt" in text
    assert "dist/datadive-*.whl" in text
    assert "${CONDA_DIR}/etc/jupyter/" in text
    assert "${CONDA_DIR}/share/jupyter/lab/settings/overrides.json" in text
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users[-1] == "${NB_UID}", "the image must not end as root"


def test_every_disabled_feature_is_explained_in_the_docs():
    doc = (REPO / "docs/admin/user-image.md").read_text()
    for name in DISABLED:
        assert f"`{name}`" in doc, f"docs/admin/user-image.md does not explain {name}"
    overrides = json.loads((IMAGE / "lab-settings/overrides.json").read_text())
    for plugin in overrides:
        assert f"`{plugin}`" in doc, f"docs/admin/user-image.md does not explain {plugin}"


@pytest.fixture(scope="module")
async def image_hub(start_hub, tmp_path_factory, free_port, image_env) -> Hub:
    data_dir = tmp_path_factory.mktemp("image-data")
    config = CONFIG.format(
        data_dir=str(data_dir),
        service_port=free_port(),
        singleuser=str(image_env.bin / "datadive-singleuser"),
        path=image_env.clean_env()["PATH"],
    )
    hub = await start_hub(config)
    hub.data_dir = data_dir
    return hub


@pytest.fixture(scope="module")
async def researcher(image_hub):
    from datadive_hub.auth.local import PasswordFile

    name = f"ines{uuid.uuid4().hex[:6]}"
    assert image_hub.api("POST", f"users/{name}").status_code == 201
    r = image_hub.api("POST", f"users/{name}/tokens", json={"note": "test", "expires_in": 3600})
    password = PasswordFile(image_hub.data_dir / "passwords.json").set_password(name)
    headers = {"Authorization": f"token {r.json()['token']}"}
    api = image_hub.url + "/services/datadive/api/v1"
    deadline = time.monotonic() + 90
    while True:  # the Datadive service starts after the hub
        r = await asyncio.to_thread(
            requests.post,
            f"{api}/projects",
            headers=headers,
            json={"name": "Image check"},
            timeout=10,
        )
        if r.status_code == 201 or time.monotonic() > deadline:
            break
        await asyncio.sleep(1)
    assert r.status_code == 201, r.text
    assert image_hub.api("POST", f"users/{name}/server").status_code in (201, 202)
    while time.monotonic() < deadline + 120:
        server = image_hub.api("GET", f"users/{name}").json().get("servers", {}).get("")
        if server and server.get("ready"):
            break
        await asyncio.sleep(0.5)
    else:
        pytest.fail(f"the server did not start:\n{image_hub.log()[-3000:]}")
    return {
        "name": name,
        "password": password,
        "headers": headers,
        "base": image_hub.url + server["url"],
        "server": server,
    }


def test_the_server_runs_from_the_image_environment(image_env, researcher):
    pid = researcher["server"]["state"]["pid"]
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert argv[1].decode() == str(image_env.bin / "datadive-singleuser"), argv
    assert argv[0].decode().startswith(str(image_env.bin)), argv
    environ = dict(
        item.split("=", 1)
        for item in Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0")
        if "=" in item
    )
    assert "PYTHONPATH" not in environ and "VIRTUAL_ENV" not in environ
    assert environ["PATH"].startswith(str(image_env.bin))


def test_contents_manager_and_extension_from_the_image_config(image_hub, researcher):
    base, headers = researcher["base"], researcher["headers"]
    r = requests.get(f"{base}api/contents", headers=headers, timeout=60)
    assert r.status_code == 200, r.text
    assert [c["name"] for c in r.json()["content"]] == ["Image check"]  # Datadive mode
    r = requests.get(f"{base}api/contents/{quote('Image check')}", headers=headers, timeout=60)
    assert r.status_code == 200 and r.json()["type"] == "directory", r.text
    # the server extension's own start-up line names the ContentsManager the image configured
    assert re.search(
        r"Datadive server extension \S+: service http://127\.0\.0\.1:\d+/services/datadive/, "
        r"contents manager DatadiveContentsManager",
        image_hub.log(),
    ), image_hub.log()[-3000:]
    r = requests.get(f"{base}datadive/api/hub/projects", headers=headers, timeout=60)
    assert r.status_code == 200, r.text
    r = requests.get(f"{base}datadive/api/sync", headers=headers, timeout=60)
    assert r.status_code == 200 and r.json()["state"] != "unavailable", r.text


async def test_a_kernel_has_the_image_analysis_stack(image_env, researcher):
    base, headers = researcher["base"], researcher["headers"]
    r = requests.post(f"{base}api/kernels", headers=headers, json={"name": "python3"}, timeout=60)
    assert r.status_code == 201, r.text
    kernel_id = r.json()["id"]
    try:
        ws = base.replace("http://", "ws://") + f"api/kernels/{kernel_id}/channels"
        code = (
            "import sys, pandas, pyarrow, openpyxl, scipy, statsmodels, matplotlib, pingouin\n"
            "print(sys.prefix)\n"
        )
        result = await execute(ws, code, headers, timeout=120)
        assert result["error"] is None, result
        assert result["stdout"].strip() == str(image_env.prefix), result
    finally:
        requests.delete(f"{base}api/kernels/{kernel_id}", headers=headers, timeout=60)


def test_lab_page_has_the_panel_and_the_interfering_features_off(researcher):
    base, headers = researcher["base"], researcher["headers"]
    r = requests.get(f"{base}lab", headers=headers, timeout=60)
    assert r.status_code == 200
    raw = re.search(r'id="jupyter-config-data"[^>]*>(.*?)</script>', r.text, re.S).group(1)
    page = json.loads(html.unescape(raw))
    ours = [e for e in page["federated_extensions"] if e["name"] == "@datadive/labextension"]
    assert len(ours) == 1, page["federated_extensions"]
    # the panel's code is served from the image environment's labextensions folder
    entry = f"{base}lab/extensions/@datadive/labextension/{ours[0]['load']}"
    r = requests.get(entry, headers=headers, timeout=60)
    assert r.status_code == 200 and "@datadive/labextension" in r.text, entry
    for name in DISABLED:
        assert name in page["disabledExtensions"], name
    r = requests.get(
        f"{base}lab/api/settings/@jupyterlab/apputils-extension:notification",
        headers=headers,
        timeout=60,
    )
    props = r.json()["schema"]["properties"]
    assert props["fetchNews"]["default"] == "false"
    assert props["checkForUpdates"]["default"] is False


async def test_panel_loads_in_chromium(image_hub, researcher):
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium; ./dev test does it)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = await browser.new_page()
            await page.goto(f"{image_hub.url}/hub/login")
            await page.fill("#username_input", researcher["name"])
            await page.fill("#password_input", researcher["password"])
            await page.click("#login_submit")
            await page.wait_for_url(re.compile(rf"/user/{researcher['name']}/lab"), timeout=120_000)
            await page.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
            tab = page.locator(".jp-SideBar [data-id='datadive-panel']")
            await tab.wait_for(timeout=60_000)
            await tab.click()
            await (
                page.locator("#datadive-panel")
                .get_by_text("Image check")
                .first.wait_for(timeout=60_000)
            )
            # the file browser (behind the panel) lists the project folder from the ContentsManager
            await page.locator(".jp-DirListing-itemText", has_text="Image check").first.wait_for(
                state="attached", timeout=60_000
            )
        finally:
            await browser.close()
