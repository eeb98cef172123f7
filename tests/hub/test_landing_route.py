"""Where Lab's new notebooks land, through a real user server (issue 10, point 1).

``PUT datadive/api/current-project`` (the panel says which project is open) and ``POST
api/contents/`` at the read-only root, as Lab's Launcher and File → New do.
"""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest
import requests
from user_server import wait_for_server

pytestmark = [pytest.mark.hub, pytest.mark.slow]


def server(platform, user) -> str:
    r = platform.hub("POST", f"users/{user.name}/server")
    assert r.status_code in (201, 202), r.text
    return f"{platform.url}{wait_for_server(platform, user)}"


def test_current_project_route_needs_the_owner(platform):
    alice, bob = platform.user(), platform.user()
    base = server(platform, alice)
    url = f"{base}datadive/api/current-project"
    r = requests.put(url, json={"project": "x"}, timeout=30)
    assert r.status_code in (401, 403), (r.status_code, r.text[:200])
    assert requests.get(url, timeout=30, allow_redirects=False).status_code in (302, 401, 403)
    r = requests.put(url, json={"project": "x"}, headers=bob.headers, timeout=30)
    assert r.status_code == 403, r.text[:200]
    r = requests.put(url, json={"nothing": 1}, headers=alice.headers, timeout=30)
    assert r.status_code == 400 and '{"project"' in r.json()["message"], r.text
    r = requests.get(url, headers=alice.headers, timeout=30)
    assert r.status_code == 200
    assert r.json() == {"project": None, "personal_project": "My work"}
    platform.stop_server(alice.name)


def test_new_notebook_at_the_root_lands_in_the_open_then_the_personal_project(platform):
    user = platform.user()
    project = platform.project(user, "Thesis")
    base = server(platform, user)
    h = user.headers
    assert requests.get(f"{base}api/contents/", headers=h, timeout=60).status_code == 200
    r = requests.put(
        f"{base}datadive/api/current-project",
        json={"project": project["id"]},
        headers=h,
        timeout=30,
    )
    assert r.status_code == 200, r.text
    # the Launcher's "Python 3" notebook, made in the root
    r = requests.post(f"{base}api/contents/", json={"type": "notebook"}, headers=h, timeout=60)
    assert r.status_code == 201, r.text
    assert r.json()["path"] == "Thesis/Untitled.ipynb"
    # nothing open in the panel: the personal project, made on first use, owned by the user
    r = requests.put(
        f"{base}datadive/api/current-project", json={"project": None}, headers=h, timeout=30
    )
    assert r.status_code == 200, r.text
    r = requests.post(
        f"{base}api/contents/", json={"type": "file", "ext": ".py"}, headers=h, timeout=60
    )
    assert r.status_code == 201, r.text
    assert r.json()["path"] == "My work/untitled.py"
    mine = platform.call("GET", "projects", user).json()["projects"]
    personal = [p for p in mine if p["name"] == "My work"]
    assert len(personal) == 1 and personal[0]["role"] == "owner"
    # the file reaches the personal project's store (readable with the server stopped)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        got = platform.call(
            "GET", f"projects/{personal[0]['id']}/files/{quote('untitled.py')}", user
        )
        if got.status_code == 200:
            break
        time.sleep(0.5)
    assert got.status_code == 200, got.text
    platform.stop_server(user.name)
