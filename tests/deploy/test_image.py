"""The user image (images/singleuser), checked without Docker.

Docker cannot run here, so the image's Python environment is the project's ``.venv``, built from
the same pins (``requirements/constraints.txt``; the first test checks every requirement of the
image is installed at exactly that pin). A real hub spawns a user server whose configuration
comes from the image's files only: ``JUPYTER_CONFIG_PATH`` = ``images/singleuser/jupyter-config``
(``configure(c, contents_manager=False)`` so the ContentsManager class can come from nowhere else)
and Lab's settings directory = ``images/singleuser/lab-settings``. Then: the ContentsManager serves
the Datadive projects, the server extension answers, and Lab (headless Chromium) shows the
Datadive panel with the interfering features off.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import time
import uuid
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
import requests

from .conftest import Hub

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
c.Spawner.environment = {{**c.Spawner.environment, "JUPYTER_CONFIG_PATH": {config_path!r}}}
c.Spawner.args = [*c.Spawner.args, "--LabApp.app_settings_dir={settings_dir}"]
c.Spawner.default_url = "/lab"
"""


def _pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements/constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, pin = line.split("==", 1)
            pins[re.sub(r"[-_.]+", "-", name.strip().lower())] = pin.strip()
    return pins


def test_image_requirements_are_the_tested_environment():
    pins = _pins()
    for line in (IMAGE / "requirements.txt").read_text().splitlines():
        name = line.split("#")[0].strip()
        if not name:
            continue
        key = re.sub(r"[-_.]+", "-", name.lower())
        assert key in pins, (
            f"{name} (images/singleuser/requirements.txt) has no pin in constraints.txt"
        )
        try:
            assert version(name) == pins[key], f"{name}: .venv has {version(name)}, pin {pins[key]}"
        except PackageNotFoundError:
            pytest.fail(f"{name} is not installed in .venv: run ./dev setup")


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
async def image_hub(start_hub, tmp_path_factory, free_port) -> Hub:
    data_dir = tmp_path_factory.mktemp("image-data")
    config = CONFIG.format(
        data_dir=str(data_dir),
        service_port=free_port(),
        config_path=str(IMAGE / "jupyter-config"),
        settings_dir=str(IMAGE / "lab-settings"),
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
    }


def test_contents_manager_and_extension_from_the_image_config(image_hub, researcher):
    base, headers = researcher["base"], researcher["headers"]
    r = requests.get(f"{base}api/contents", headers=headers, timeout=60)
    assert r.status_code == 200, r.text
    assert [c["name"] for c in r.json()["content"]] == ["Image check"]  # Datadive mode
    assert "DatadiveContentsManager" in image_hub.log()
    r = requests.get(f"{base}datadive/api/hub/projects", headers=headers, timeout=60)
    assert r.status_code == 200, r.text


def test_lab_page_has_the_panel_and_the_interfering_features_off(researcher):
    base, headers = researcher["base"], researcher["headers"]
    r = requests.get(f"{base}lab", headers=headers, timeout=60)
    assert r.status_code == 200
    raw = re.search(r'id="jupyter-config-data"[^>]*>(.*?)</script>', r.text, re.S).group(1)
    page = json.loads(html.unescape(raw))
    assert "@datadive/labextension" in [e["name"] for e in page["federated_extensions"]]
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
        print(f"SKIP: {CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
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
