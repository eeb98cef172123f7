"""The environment routes through a real ``jupyter server`` with the datadive extension and
Datadive's contents manager in project mode (two projects on local directory stores: Alpha,
where the user is owner, and Shared, where the user is a viewer). uv installs from the test
wheel folder only."""

from __future__ import annotations

import json
import time

import pytest
from datadive_contents.stores.local import LocalDirectoryStore

from datadive_server_ext.environments.lock import compile_lock
from datadive_server_ext.environments.uvcli import Sources

CONFIG = """
import os
from datadive_contents.stores.local import LocalDirectoryStore

STORE = {store!r}
c.ServerApp.contents_manager_class = "datadive_contents.manager.DatadiveContentsManager"
c.DatadiveContentsManager.project_source = lambda: [
    {{"id": "p1", "name": "Alpha", "role": "owner", "created_at": "2026-01-01"}},
    {{"id": "p2", "name": "Shared", "role": "viewer", "created_at": "2026-01-02"}},
]
c.DatadiveContentsManager.project_store_factory = lambda pid: LocalDirectoryStore(
    os.path.join(STORE, pid)
)
c.DatadiveContentsManager.project_cache_seconds = 0
c.DatadiveExtension.environments_index_urls = []
c.DatadiveExtension.environments_find_links = [{wheels!r}]
c.DatadiveExtension.environments_cache_dir = {cache!r}
c.DatadiveExtension.assistant_preload = False
"""


def start(base, name: str, store, cache, wheels):
    """A user's server (own home and Jupyter data dir) over the shared store and cache."""
    from jpserver import JupyterServer

    root = base / f"{name}-home"
    root.mkdir(exist_ok=True)
    env = {"JUPYTER_DATA_DIR": str(base / f"{name}-data")}
    srv = JupyterServer(root, base / f"{name}-srv", env=env)
    (srv.workdir / "config" / "jupyter_server_config.py").write_text(
        CONFIG.format(store=str(store), wheels=str(wheels), cache=str(cache))
    )
    srv.start()
    srv.store, srv.data, srv.cache = store, base / f"{name}-data", cache
    return srv


@pytest.fixture(scope="module")
async def server(tmp_path_factory, wheels):
    base = tmp_path_factory.mktemp("envroutes")
    store, cache = base / "store", base / "cache"
    # the viewer's project already has a lock (made by its owner)
    shared = LocalDirectoryStore(str(store / "p2"))
    lock = compile_lock(
        "tinypkg==2.0\n", Sources(cache_dir=cache, index_urls=(), find_links=(str(wheels),))
    )
    await shared.put("requirements.txt", b"tinypkg==2.0\n")
    await shared.put("requirements.lock", lock.encode())
    await shared.close()
    srv = start(base, "carol", store, cache, wheels)
    srv.base, srv.wheels = base, wheels
    try:
        yield srv
    finally:
        srv.stop()


def call(server, method, path, body=None, expect=200, token=None):
    code, data = server.request(method, f"datadive/api/environments/{path}", body, token=token)
    assert code == expect, (code, data, server.log()[-3000:])
    return data


def built(server, folder: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = call(server, "GET", f"status/{folder}")
        if status["build"] and not status["build"]["running"]:
            return status
        time.sleep(0.2)
    raise AssertionError(f"the build of {folder} did not finish in {timeout}s")


def test_add_a_package_build_and_the_kernel_is_listed(server):
    status = call(server, "GET", "status/Alpha")
    assert status["enabled"] and status["project"]["writable"]
    assert not status["requirements"]["present"] and status["environment"] is None
    status = call(server, "POST", "packages/Alpha", {"add": "tinypkg==1.0"})
    assert status["requirements"]["packages"] == ["tinypkg==1.0"]
    assert status["lock"]["pins"] == ["tinypkg==1.0"] and not status["lock"]["stale"]
    # the files are project files: in the store (versioned, seen by other members)
    assert (server.store / "p1" / "requirements.txt").read_text() == "tinypkg==1.0\n"
    assert "tinypkg==1.0" in (server.store / "p1" / "requirements.lock").read_text()
    started = call(server, "POST", "build/Alpha", expect=202)
    assert started["build"]["running"] or started["build"]["phase"] == "done"
    status = built(server, "Alpha")
    assert status["build"]["error"] is None, status["build"]["log"]
    assert status["environment"]["installed"] == ["tinypkg==1.0"]
    assert status["environment"]["kernel_display_name"] == "Python (Alpha)"
    code, specs = server.request("GET", "api/kernelspecs")
    assert code == 200
    kernel = specs["kernelspecs"][status["environment"]["kernel"]]
    assert kernel["spec"]["display_name"] == "Python (Alpha)"


def test_add_and_build_in_one_call_then_remove(server):
    status = call(server, "POST", "packages/Alpha", {"add": "tinytop", "build": True}, expect=202)
    status = built(server, "Alpha")
    assert sorted(status["environment"]["installed"]) == [
        "tinydep==1.0",
        "tinypkg==1.0",
        "tinytop==1.0",
    ]
    status = call(server, "POST", "packages/Alpha", {"remove": "tinytop"})
    assert status["lock"]["pins"] == ["tinypkg==1.0"]
    assert not status["environment"]["current"], "built for the previous lock until rebuilt"


def test_an_unknown_package_is_refused_and_nothing_is_written(server):
    before = (server.store / "p1" / "requirements.txt").read_text()
    data = call(server, "POST", "packages/Alpha", {"add": "nosuchpkg>=1"}, expect=400)
    assert "No package named 'nosuchpkg'" in data["message"]
    data = call(
        server, "POST", "packages/Alpha", {"add": "git+https://example.org/x.git"}, expect=400
    )
    assert "URLs and local paths are not allowed" in data["message"]
    data = call(server, "POST", "packages/Alpha", {"remove": "numpy"}, expect=400)
    assert "'numpy' is not in requirements.txt" in data["message"]
    for body in ({}, {"add": 3}, {"add": "a", "remove": "b"}, ["tinypkg"]):
        call(server, "POST", "packages/Alpha", body, expect=400)
    assert (server.store / "p1" / "requirements.txt").read_text() == before


def test_two_edits_at_once_keep_both(server):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        codes = list(
            pool.map(
                lambda spec: server.request(
                    "POST", "datadive/api/environments/packages/Alpha", {"add": spec}
                )[0],
                ["tinytop", "tinydep>=1"],
            )
        )
    assert codes == [200, 200]
    text = (server.store / "p1" / "requirements.txt").read_text()
    assert "tinytop" in text and "tinydep>=1" in text
    status = call(server, "POST", "packages/Alpha", {"remove": "tinytop"})
    status = call(server, "POST", "packages/Alpha", {"remove": "tinydep"})
    assert status["requirements"]["packages"] == ["tinypkg==1.0"]


def test_a_failed_build_keeps_the_environment_and_shows_why(server):
    good = call(server, "GET", "status/Alpha")["environment"]["key"]
    call(server, "POST", "packages/Alpha", {"add": "tinybroken"})
    call(server, "POST", "build/Alpha", expect=202)
    status = built(server, "Alpha")
    assert status["last_error"]["package"] == "tinybroken"
    assert "tinybroken failed to build" in status["build"]["error"]
    assert "needs a C compiler" in status["build"]["log"]
    assert status["environment"]["key"] == good
    call(server, "POST", "packages/Alpha", {"remove": "tinybroken"})


def test_a_viewer_cannot_change_the_packages_but_can_build_the_lock(server):
    status = call(server, "GET", "status/Shared")
    assert not status["project"]["writable"] and status["lock"]["pins"] == ["tinypkg==2.0"]
    data = call(server, "POST", "packages/Shared", {"add": "tinytop"}, expect=403)
    assert "You are a viewer of project 'Shared'" in data["message"]
    assert (server.store / "p2" / "requirements.txt").read_text() == "tinypkg==2.0\n"
    call(server, "POST", "build/Shared", expect=202)
    status = built(server, "Shared")
    assert (
        status["environment"]["installed"] == ["tinypkg==2.0"] and status["environment"]["current"]
    )
    kernel = json.loads((server.data / "kernels" / "datadive-env-p2" / "kernel.json").read_text())
    assert kernel["display_name"] == "Python (Shared)"


def test_project_notebooks_start_with_the_project_kernel(server):
    def session(path: str, kernel: str) -> str:
        body = {"path": path, "type": "notebook", "name": path, "kernel": {"name": kernel}}
        code, data = server.request("POST", "api/sessions", body)
        assert code == 201, (code, data)
        server.request("DELETE", f"api/sessions/{data['id']}")
        return data["kernel"]["name"]

    assert session("Alpha/analysis.ipynb", "python3") == "datadive-env-p1"
    assert session("Alpha/sub/deeper.ipynb", "python3") == "datadive-env-p1"
    # another kernel chosen in the picker starts as asked
    assert session("Alpha/other.ipynb", "datadive-env-p2") == "datadive-env-p2"


def test_routes_need_authentication_and_a_project(server):
    for method, path in (
        ("GET", "status/Alpha"),
        ("POST", "packages/Alpha"),
        ("POST", "build/Alpha"),
    ):
        code, _ = server.request(method, f"datadive/api/environments/{path}", token="wrong")
        assert code in (401, 403)
    call(server, "GET", "status/Nope", expect=404)
    data = call(server, "GET", "status", expect=400)
    assert "Give a project folder" in data["message"]


def test_after_a_restart_and_for_another_member_the_environment_comes_from_the_cache(server):
    call(server, "POST", "build/Alpha", expect=202)
    mine = built(server, "Alpha")["environment"]
    assert mine["current"]
    envs = sorted(p.name for p in (server.cache / "envs").iterdir())
    # another member of Alpha, on their own server, sharing the cache volume
    bob = start(server.base, "bob", server.store, server.cache, server.wheels)
    try:
        status = call(bob, "GET", "status/Alpha")
        assert status["lock"]["pins"] == ["tinypkg==1.0"], "the lock came with the project"
        assert status["cached"] and status["environment"] is None
        call(bob, "POST", "build/Alpha", expect=202)
        status = built(bob, "Alpha")
        assert status["environment"]["key"] == mine["key"]
        assert "from the cache" in status["build"]["log"]
        assert status["environment"]["kernel_display_name"] == "Python (Alpha)"
    finally:
        bob.stop()
    # carol's server restarts: the environment and the kernel are still there, nothing built
    server.stop()
    server.start()
    status = call(server, "GET", "status/Alpha")
    assert status["environment"]["key"] == mine["key"] and status["environment"]["current"]
    code, specs = server.request("GET", "api/kernelspecs")
    assert mine["kernel"] in specs["kernelspecs"]
    assert sorted(p.name for p in (server.cache / "envs").iterdir()) == envs, "nothing rebuilt"


def test_turned_off_by_the_admin(tmp_path):
    from jpserver import JupyterServer

    root = tmp_path / "root"
    root.mkdir()
    (root / "requirements.txt").write_text("tinypkg\n")
    srv = JupyterServer(
        root, tmp_path / "srv", args=["--DatadiveExtension.environments_enabled=False"]
    ).start()
    try:
        status = call(srv, "GET", "status")
        assert status == {"enabled": False, "message": status["message"]}
        assert "turned off on this hub" in status["message"]
        data = call(srv, "POST", "build", expect=403)
        assert "environments_enabled" in data["message"]
        call(srv, "POST", "packages", {"add": "tinytop"}, expect=403)
        assert (root / "requirements.txt").read_text() == "tinypkg\n"
    finally:
        srv.stop()


def test_a_wrong_index_setting_turns_environments_off_and_says_why(tmp_path):
    from jpserver import JupyterServer

    (tmp_path / "root").mkdir()
    srv = JupyterServer(
        tmp_path / "root",
        tmp_path / "srv",
        args=["--DatadiveExtension.environments_index_urls=pypi.org/simple"],
    ).start()
    try:
        status = call(srv, "GET", "status")
        assert not status["enabled"]
        assert "'pypi.org/simple', which is not an index URL" in status["message"]
        data = call(srv, "POST", "build", expect=403)
        assert "give http(s):// or file:// URLs" in data["message"]
    finally:
        srv.stop()
