"""Working copies belong to project ids, never to folder names (issue: data safety).

Each test runs real user servers under the running ``platform`` and a kernel that keeps writing
files while another person renames the project, makes a look-alike, removes the member or
changes their role. What is checked is what the people would notice: the files in the
project's store (read through the service as the owner), what each server lists, and the sync
status the panel shows.
"""

from __future__ import annotations

import time
import uuid
from urllib.parse import quote

import pytest
import requests
from user_server import Server

pytestmark = [pytest.mark.hub, pytest.mark.slow]


def stored(platform, owner, project_id) -> dict[str, bytes]:
    """Every file of the project in the store, read through the service as ``owner``."""
    r = platform.call("GET", f"projects/{project_id}/files?recursive=1", owner)
    assert r.status_code == 200, r.text
    out = {}
    for f in r.json()["files"]:
        got = platform.call("GET", f"projects/{project_id}/files/{quote(f['path'])}", owner)
        assert got.status_code == 200, got.text
        out[f["path"]] = got.content
    return out


def put(platform, user, project_id, path, data: bytes) -> None:
    r = platform.call("PUT", f"projects/{project_id}/files/{quote(path)}", user, data=data)
    assert r.status_code in (200, 201), r.text


#: a kernel that keeps writing: one new file and one growing file every 0.3 s until stopped
WRITER = """
import threading, time, os
stop = threading.Event()
def _write():
    i = 0
    while not stop.is_set():
        i += 1
        with open(f"kernel-{i:03d}.txt", "w") as f:
            f.write(f"written by the kernel, step {i}\\n")
        with open("log.txt", "a") as f:
            f.write(f"{i}\\n")
        time.sleep(0.3)
writer = threading.Thread(target=_write, daemon=True)
writer.start()
print(os.getcwd())
"""


def kernel_files(files: dict[str, bytes]) -> set[str]:
    return {p for p in files if p.startswith("kernel-")}


def test_rename_while_open_and_kernel_writing_keeps_every_file(platform):
    alice, bob = platform.user(), platform.user()
    project = platform.project(alice, f"Study {uuid.uuid4().hex[:4]}")
    pid, old_name = project["id"], project["name"]
    originals = {
        "survey.csv": b"id,age\n1,34\n2,41\n",
        "data/raw.csv": b"x\n1\n",
        "notes.md": b"# notes\n",
    }
    for path, data in originals.items():
        put(platform, alice, pid, path, data)
    platform.share(alice, pid, (bob, "editor"))
    srv = Server(platform, bob)
    try:
        assert srv.folders().get(old_name) is True
        listing = srv.contents(old_name).json()["content"]
        assert {e["name"] for e in listing} == {"survey.csv", "data", "notes.md"}
        kid = srv.kernel(f"{old_name}/analysis.ipynb")
        cwd = srv.run(kid, WRITER).strip()
        assert pid in cwd, f"the kernel works in the project's own working copy: {cwd}"

        new_name = f"{old_name} renamed"
        r = platform.call("PATCH", f"projects/{pid}", alice, json={"name": new_name})
        assert r.status_code == 200, r.text
        srv.wait_until("the new folder name", lambda: new_name in srv.folders())
        assert old_name not in srv.folders()
        assert srv.contents(f"{old_name}/survey.csv").status_code == 404
        listing = srv.contents(new_name).json()["content"]
        assert {"survey.csv", "data", "notes.md"} <= {e["name"] for e in listing}
        time.sleep(6)  # three more scans of the working copy under its new name
        steps = int(
            srv.run(kid, "stop.set(); writer.join(); print(len(open('log.txt').read().split()))")
        )
        written = srv.run(kid, "print(sorted(n for n in os.listdir() if n.startswith('kernel-')))")
        in_kernel = set(eval(written))  # a list literal printed by the kernel

        def all_uploaded():
            files = stored(platform, alice, pid)
            log = files.get("log.txt", b"").decode().split()
            return files if kernel_files(files) >= in_kernel and len(log) == steps else None

        files = srv.wait_until("every kernel file in the store", all_uploaded)
        for path, data in originals.items():
            assert files.get(path) == data, f"{path} lost or changed by the rename"
        log = files["log.txt"].decode().split()
        assert log == [str(i) for i in range(1, steps + 1)], "log.txt kept every line"
        assert srv.sync()["state"] == "synced", srv.sync()
    finally:
        srv.stop()


def test_look_alike_project_never_receives_the_victims_files(platform):
    alice, bob = platform.user(), platform.user()
    name = f"Thesis {uuid.uuid4().hex[:4]}"
    real = platform.project(alice, name)
    put(platform, alice, real["id"], "chapter1.md", b"the real chapter\n")
    platform.share(alice, real["id"], (bob, "editor"))
    srv = Server(platform, bob)
    try:
        assert srv.folders().get(name) is True
        kid = srv.kernel(f"{name}/write.ipynb")
        srv.run(kid, WRITER)
        # a stranger makes projects with the same name (one that sorts before the real one by
        # id, as folder names used to be handed out) and makes bob a member of each
        fakes = []
        for _ in range(12):
            stranger = platform.user()  # one project per name and owner
            fake = platform.project(stranger, name)
            platform.share(stranger, fake["id"], (bob, "editor"))
            fakes.append((stranger, fake))
            if fake["id"] < real["id"]:
                break
        srv.wait_until(
            "the look-alikes as folders of their own",
            lambda: len([f for f in srv.folders() if f.startswith(name)]) == len(fakes) + 1,
        )
        assert name in srv.folders(), "the real project keeps its folder"
        r = requests.put(
            f"{srv.base}api/contents/{quote(name)}/chapter2.md",
            headers=bob.headers,
            json={"type": "file", "format": "text", "content": "bob's chapter\n"},
            timeout=60,
        )
        assert r.status_code in (200, 201), r.text
        time.sleep(6)
        srv.run(kid, "stop.set(); writer.join()")
        real_files = srv.wait_until(
            "the kernel's files in the real project",
            lambda: (f := stored(platform, alice, real["id"])) and kernel_files(f) and f,
        )
        assert real_files["chapter1.md"] == b"the real chapter\n"
        assert real_files["chapter2.md"] == b"bob's chapter\n"
        for stranger, fake in fakes:
            assert stored(platform, stranger, fake["id"]) == {}, "nothing reached a look-alike"
    finally:
        srv.stop()


def test_removed_deleted_and_downgraded_projects_are_never_synced_elsewhere(platform):
    alice, bob = platform.user(), platform.user()
    project = platform.project(alice, f"Lab {uuid.uuid4().hex[:4]}")
    pid, name = project["id"], project["name"]
    put(platform, alice, pid, "data.csv", b"a\n1\n")
    platform.share(alice, pid, (bob, "editor"))
    srv = Server(platform, bob)
    try:
        kid = srv.kernel(f"{name}/work.ipynb")
        srv.run(kid, "open('first.txt', 'w').write('uploaded while a member')")
        srv.wait_until("first.txt uploaded", lambda: "first.txt" in stored(platform, alice, pid))

        # removed from the project: the folder goes, what the kernel writes stays on the server
        r = platform.call("DELETE", f"projects/{pid}/members/user/{bob.name}", alice)
        assert r.status_code in (200, 204), r.text
        srv.wait_until("the folder gone", lambda: name not in srv.folders())
        srv.run(kid, "open('after-removal.txt', 'w').write('kept here')")

        def detached():
            mine = [p for p in srv.sync()["projects"] if p["project_id"] == pid]
            return mine and mine[0]["state"] == "detached" and mine[0]

        status = srv.wait_until("the project reported as detached", detached)
        assert "after-removal.txt" in status["unsent"], status
        assert "not synced" in status["message"] and "after-removal.txt" not in stored(
            platform, alice, pid
        )

        # back as a viewer: nothing the kernel wrote is uploaded, and the panel says why
        platform.share(alice, pid, (bob, "viewer"))
        srv.wait_until("the folder back, read-only", lambda: srv.folders().get(name) is False)
        srv.run(kid, "open('as-viewer.txt', 'w').write('a viewer wrote this')")
        time.sleep(5)
        files = stored(platform, alice, pid)
        assert "after-removal.txt" not in files and "as-viewer.txt" not in files
        mine = [p for p in srv.sync()["projects"] if p["project_id"] == pid][0]
        assert "viewer" in mine["message"] and "as-viewer.txt" in mine["unsent"], mine

        # editor again: the kept changes go up to the same project, nowhere else
        r = platform.call(
            "PATCH", f"projects/{pid}/members/user/{bob.name}", alice, json={"role": "editor"}
        )
        assert r.status_code == 200, r.text
        srv.wait_until(
            "the kept files uploaded",
            lambda: {"after-removal.txt", "as-viewer.txt"} <= set(stored(platform, alice, pid)),
        )

        # the owner deletes the project: detached again; restored: in step again
        assert platform.call("DELETE", f"projects/{pid}", alice).status_code in (200, 204)
        srv.wait_until("the deleted project's folder gone", lambda: name not in srv.folders())
        srv.run(kid, "open('during-delete.txt', 'w').write('kept')")
        assert platform.call("POST", f"projects/{pid}/restore", alice).status_code == 200
        srv.wait_until("the restored project's folder", lambda: name in srv.folders())
        srv.wait_until(
            "during-delete.txt uploaded after the restore",
            lambda: "during-delete.txt" in stored(platform, alice, pid),
        )
        assert stored(platform, alice, pid)["data.csv"] == b"a\n1\n"
    finally:
        srv.stop()


def test_download_and_root_relative_paths(platform):
    """JupyterLab's Download (/files/...) serves the file; a DELETE that normalises to the
    project itself is refused and the project keeps its files."""
    alice = platform.user()
    project = platform.project(alice, f"Downloads {uuid.uuid4().hex[:4]}")
    put(platform, alice, project["id"], "data/survey.csv", b"id,age\n1,34\n")
    srv = Server(platform, alice)
    try:
        name = project["name"]
        assert name in srv.folders()
        r = srv.get(f"files/{quote(name)}/data/survey.csv?download=1")
        assert r.status_code == 200, r.text[:300]
        assert r.content == b"id,age\n1,34\n"
        assert "attachment" in r.headers.get("Content-Disposition", "")
        assert srv.get(f"files/{quote(name)}/data/missing.csv").status_code == 404
        for path in (f"{name}/data/..", f"{name}/.", f"{name}/data/../..", f"{name}/"):
            encoded = quote(path).replace(".", "%2E")  # sent as typed, not resolved by requests
            r = requests.delete(
                f"{srv.base}api/contents/{encoded}", headers=alice.headers, timeout=60
            )
            assert r.status_code in (400, 403, 404, 405), (path, r.status_code, r.text)
        assert stored(platform, alice, project["id"]) == {"data/survey.csv": b"id,age\n1,34\n"}

        # two tabs on this one server, as JupyterLab's document context does it: tab B loads
        # (with the hash), tab A saves, then B's check before saving sees that the file changed
        nb = f"{quote(name)}/data/notes.md"
        first = requests.put(
            f"{srv.base}api/contents/{nb}",
            headers=alice.headers,
            json={"type": "file", "format": "text", "content": "v1\n"},
            timeout=60,
        )
        assert first.status_code == 201, first.text
        tab_b = srv.get(f"api/contents/{nb}?content=1&hash=1").json()
        time.sleep(1.1)  # Lab allows 0.5 s of clock slack when it compares last_modified
        saved = requests.put(
            f"{srv.base}api/contents/{nb}",
            headers=alice.headers,
            json={"type": "file", "format": "text", "content": "v2 from tab A\n"},
            timeout=60,
        )
        assert saved.status_code == 200, saved.text
        check = srv.get(f"api/contents/{nb}?content=0&hash=1").json()
        assert tab_b["hash"] and check["hash"] and check["hash"] != tab_b["hash"], (tab_b, check)
        moved = _ts(check["last_modified"]) - _ts(tab_b["last_modified"])
        assert moved > 0.5, f"last_modified moved by {moved:.2f}s only"
    finally:
        srv.stop()


def _ts(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
