"""The platform end to end: sign in, project, notebook, user server, kernel runs code."""

import re
from urllib.parse import quote

import pytest
import requests
from user_server import execute, wait_for_server

pytestmark = pytest.mark.hub


def sign_in(platform, user) -> requests.Session:
    """Sign in through the hub's login form, as a person in a browser would."""
    s = requests.Session()
    r = s.get(f"{platform.url}/hub/login", timeout=30)
    xsrf = s.cookies.get("_xsrf") or re.search(r'name="_xsrf" value="([^"]+)"', r.text).group(1)
    r = s.post(
        f"{platform.url}/hub/login",
        timeout=60,
        data={"username": user.name, "password": user.password, "_xsrf": xsrf},
    )
    assert r.status_code == 200, r.text[:500]
    assert "jupyterhub-session-id" in s.cookies or any(
        c.name.startswith("jupyterhub-hub-login") for c in s.cookies
    ), "not signed in"
    return s


def test_wrong_password_is_refused(platform):
    user = platform.user(password=True)
    s = requests.Session()
    s.get(f"{platform.url}/hub/login", timeout=30)
    r = s.post(
        f"{platform.url}/hub/login",
        timeout=30,
        data={"username": user.name, "password": "not-it", "_xsrf": s.cookies.get("_xsrf")},
    )
    assert "Invalid username or password" in r.text


async def test_sign_in_create_project_notebook_and_run_code(platform):
    user = platform.user(password=True)
    browser = sign_in(platform, user)

    # Opening the service signs the browser in to it (OAuth, no consent page) ...
    r = browser.get(f"{platform.url}/services/datadive/", timeout=60)
    assert r.status_code == 200 and r.url.endswith("/services/datadive/"), (r.status_code, r.url)
    assert "<h1>Your projects</h1>" in r.text
    # ... so the API answers with the service cookie alone.
    r = browser.get(f"{platform.api}/projects", timeout=60)
    assert r.status_code == 200, r.text
    assert r.json() == {"projects": [], "next": None}

    project = platform.project(user, "Survey 2026")
    r = platform.call(
        "POST", f"projects/{project['id']}/notebooks", user, json={"name": "analysis"}
    )
    assert r.status_code == 201, r.text
    assert r.json()["path"] == "analysis.ipynb"

    # The notebook is a real .ipynb in the project's storage, readable with the server stopped.
    stored = platform.data_dir / "store" / "projects" / project["id"] / "analysis.ipynb"
    assert stored.exists()

    r = platform.hub("POST", f"users/{user.name}/server")
    assert r.status_code in (201, 202), r.text
    server_url = wait_for_server(platform, user)
    base = f"{platform.url}{server_url}"

    # The server extension reaches the service with the server's own token (the panel's path).
    r = requests.get(f"{base}datadive/api/hub/projects", headers=user.headers, timeout=60)
    assert r.status_code == 200, r.text
    assert [p["name"] for p in r.json()["projects"]] == ["Survey 2026"]

    # The project is a folder in the file browser and the notebook opens.
    r = requests.get(f"{base}api/contents/{quote('Survey 2026')}", headers=user.headers, timeout=60)
    assert r.status_code == 200, r.text
    assert "analysis.ipynb" in [c["name"] for c in r.json()["content"]]

    # Run 1 + 1 in a kernel through the server's websocket.
    r = requests.post(
        f"{base}api/sessions",
        headers=user.headers,
        timeout=60,
        json={
            "path": "Survey 2026/analysis.ipynb",
            "type": "notebook",
            "name": "analysis.ipynb",
            "kernel": {"name": "python3"},
        },
    )
    assert r.status_code == 201, r.text
    kernel_id = r.json()["kernel"]["id"]
    ws_url = base.replace("http://", "ws://") + f"api/kernels/{kernel_id}/channels"
    result = await execute(ws_url, "1 + 1", user.headers)
    assert result["error"] is None
    assert result["text/plain"] == "2"

    # The panel's status bar: the project's working copy is in step with the store.
    r = requests.get(f"{base}datadive/api/sync", headers=user.headers, timeout=60)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "synced", r.json()
    assert project["id"] in [p["project_id"] for p in r.json()["projects"]]

    platform.stop_server(user.name)


def test_extensions_are_enabled_in_the_installed_environment():
    """`jupyter server extension list` / `jupyter labextension list` show datadive OK."""
    import subprocess
    import sys
    from pathlib import Path

    def run(*args) -> str:
        jupyter = str(Path(sys.executable).parent / "jupyter")
        out = subprocess.run([jupyter, *args], capture_output=True, text=True, timeout=120)
        return re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)  # drop colours

    text = run("server", "extension", "list")
    assert re.search(r"datadive_server_ext\s+enabled", text), text
    assert re.search(r"datadive_server_ext\s+[\d.]+\s+OK", text), text
    text = run("labextension", "list")
    # "(python, datadive)": installed by the datadive wheel into this environment
    assert re.search(
        r"@datadive/labextension\s+v[\d.]+\s+enabled\s+OK\s+\(python, datadive\)", text
    ), text
    share = Path(sys.prefix) / "share/jupyter/labextensions/@datadive/labextension"
    assert (share / "package.json").exists(), "the wheel installs the prebuilt labextension"
