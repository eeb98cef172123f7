"""History through the service, on the local directory store and on S3 (moto, versioned):
versions with their authors across saves, renames and deletes; restore (roll forward); the
trash; snapshots of a project with many files while a file is written, and their restore;
bad input (a version or snapshot that does not exist, a duplicate name) changes nothing.
Every answer is checked against the OpenAPI document (``team.call``)."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest


def versions(team, path, user=None, **params) -> list[dict]:
    """Every version of ``path`` (following the pages)."""
    out, cursor = [], None
    while True:
        q = {**params, **({"cursor": cursor} if cursor else {})}
        r = team.call("GET", f"versions/{path}", user, params=q)
        assert r.status_code == 200, r.text
        out += r.json()["versions"]
        cursor = r.json()["next"]
        if not cursor:
            return out


def content(team, path) -> bytes | None:
    r = team.get(path)
    return r.content if r.status_code == 200 else None


def files(team) -> dict[str, bytes]:
    r = team.call("GET", "files", params={"recursive": "1"})
    assert r.status_code == 200, r.text
    return {f["path"]: content(team, f["path"]) for f in r.json()["files"]}


def remove_version(team, path: str, version_id: str) -> None:
    """What a retention rule does: one stored version disappears."""
    p = team.platform
    if p.kind == "s3":
        key = f"{p.store_prefix}projects/{team.pid}/{path}"
        p.s3.delete_object(Bucket=p.bucket, Key=key, VersionId=version_id)
    else:
        os.remove(
            p.data_dir / "store" / ".datadive-versions" / "projects" / team.pid / path / version_id
        )


def test_versions_carry_their_authors_across_saves_renames_and_deletes(team):
    assert team.put("report.csv", b"a\n1\n").status_code == 201
    assert team.put("report.csv", b"a\n2\n", team.editor).status_code == 200
    assert team.put("report.csv", b"a\n3\n").status_code == 200
    got = versions(team, "report.csv", team.viewer)
    assert [v["author"] for v in got] == [team.owner.name, team.editor.name, team.owner.name]
    assert [v["is_current"] for v in got] == [True, False, False]
    assert [v["size"] for v in got] == [4, 4, 4]
    stamps = [v["last_modified"] for v in got]
    assert stamps == sorted(stamps, reverse=True)

    # a rename: the new name's first version was written by whoever moved it, and the file's
    # history under its old name follows it
    r = team.call("POST", "files:move", team.editor, json={"from": "report.csv", "to": "final.csv"})
    assert r.status_code == 200, r.text
    moved = versions(team, "final.csv")
    assert [v["author"] for v in moved] == [team.editor.name] + [v["author"] for v in got]
    assert [v["path"] for v in moved] == ["final.csv"] + ["report.csv"] * 3
    assert content(team, "final.csv") == b"a\n3\n"

    # a delete keeps the history, readable and restorable
    assert team.call("DELETE", "files/final.csv", team.editor).status_code == 200
    after = versions(team, "final.csv")
    assert len(after) == 4 and not any(v["is_current"] for v in after)
    old = versions(team, "report.csv")
    assert len(old) == 3 and not any(v["is_current"] for v in old)


def test_versions_are_paged_newest_first(team):
    for i in range(5):
        team.put("log.txt", f"{i}\n".encode())
    r = team.call("GET", "versions/log.txt", params={"limit": 2})
    page = r.json()
    assert len(page["versions"]) == 2 and page["next"]
    every = versions(team, "log.txt", limit=2)
    assert len(every) == 5
    assert len({v["version_id"] for v in every}) == 5
    bodies = [team.get("log.txt", params={"version_id": v["version_id"]}).content for v in every]
    assert bodies == [b"4\n", b"3\n", b"2\n", b"1\n", b"0\n"]
    r = team.call("GET", "versions/log.txt", params={"cursor": "not-a-cursor"})
    assert r.status_code == 400 and "next" in r.json()["message"]
    r = team.call("GET", "versions/log.txt", params={"limit": "0"})
    assert r.status_code == 400


def test_restore_rolls_forward_as_the_restorer(team):
    team.put("model.py", b"v1\n")
    team.put("model.py", b"v2\n")
    first = versions(team, "model.py")[-1]
    r = team.call(
        "POST", "versions/model.py", team.editor, json={"version_id": first["version_id"]}
    )
    assert r.status_code == 200, r.text
    assert content(team, "model.py") == b"v1\n"
    now = versions(team, "model.py")
    assert len(now) == 3  # nothing destroyed
    assert now[0]["author"] == team.editor.name and now[0]["is_current"]


def test_restoring_a_version_that_no_longer_exists_changes_nothing(team):
    team.put("gone.txt", b"old\n")
    team.put("gone.txt", b"new\n")
    old = versions(team, "gone.txt")[-1]
    remove_version(team, "gone.txt", old["version_id"])
    r = team.call("POST", "versions/gone.txt", json={"version_id": old["version_id"]})
    assert r.status_code == 404
    message = r.json()["message"]
    assert "nothing was changed" in message and "GET .../versions/gone.txt" in message
    assert content(team, "gone.txt") == b"new\n"
    assert len(versions(team, "gone.txt")) == 1


def test_trash_lists_deleted_files_and_folders_and_restores_them(team):
    team.put("keep.csv", b"k\n")
    team.put("old.csv", b"o1\n")
    team.put("old.csv", b"o2\n", team.editor)
    for name in ("a.csv", "b/c.csv"):
        team.put(f"raw/{name}", name.encode())
    assert team.call("DELETE", "files/old.csv", team.editor).status_code == 200
    assert team.call("DELETE", "files/raw").status_code == 200

    r = team.call("GET", "trash", team.viewer)
    assert r.status_code == 200, r.text
    trash = r.json()["trash"]
    assert [(t["path"], t["kind"], t["files"], t["deleted_by"]) for t in trash] == [
        ("raw", "folder", 2, team.owner.name),
        ("old.csv", "file", 1, team.editor.name),
    ]
    assert all(t["deleted_at"] for t in trash)

    # a viewer sees the trash but cannot restore from it
    assert team.call("POST", "trash", team.viewer, json={"path": "old.csv"}).status_code == 403
    r = team.call("POST", "trash", team.editor, json={"path": "old.csv"})
    assert r.status_code == 200, r.text
    assert content(team, "old.csv") == b"o2\n"
    assert versions(team, "old.csv")[0]["author"] == team.editor.name
    assert len(versions(team, "old.csv")) == 3  # o1, o2 and the restored o2

    # a folder that has a new file under an old name: 409, nothing restored
    team.put("raw/a.csv", b"new a\n")
    r = team.call("POST", "trash", json={"path": "raw"})
    assert r.status_code == 409
    assert "raw/a.csv" in r.json()["message"] and "rename or delete" in r.json()["message"].lower()
    assert content(team, "raw/a.csv") == b"new a\n"
    assert content(team, "raw/b/c.csv") is None
    team.call("DELETE", "files/raw/a.csv")
    r = team.call("POST", "trash", json={"path": "raw"})
    assert r.status_code == 200, r.text
    assert r.json()["files"] == 2
    assert content(team, "raw/a.csv") == b"a.csv" and content(team, "raw/b/c.csv") == b"b/c.csv"

    # restored entries leave the trash; the newer delete of raw/a.csv is still there
    left = [t["path"] for t in team.call("GET", "trash").json()["trash"]]
    assert left == ["raw/a.csv"]
    r = team.call("POST", "trash", json={"path": "never-deleted.csv"})
    assert r.status_code == 404 and "GET .../trash" in r.json()["message"]
    r = team.call("POST", "trash", json={"path": "../escape"})
    assert r.status_code == 400


def test_trash_is_paged(team):
    for i in range(3):
        team.put(f"t{i}.txt", b"x")
        team.call("DELETE", f"files/t{i}.txt")
    r = team.call("GET", "trash", params={"limit": 2})
    first = r.json()
    assert [t["path"] for t in first["trash"]] == ["t2.txt", "t1.txt"] and first["next"]
    r = team.call("GET", "trash", params={"limit": 2, "cursor": first["next"]})
    assert [t["path"] for t in r.json()["trash"]] == ["t0.txt"] and r.json()["next"] is None
    assert team.call("GET", "trash", params={"cursor": "x"}).status_code == 400


def test_a_deleted_notebook_goes_to_the_trash(team):
    r = team.call("POST", "notebooks", json={"name": "analysis"})
    assert r.status_code == 201, r.text
    nb = r.json()
    assert versions(team, "analysis.ipynb")[0]["author"] == team.owner.name
    assert team.call("DELETE", f"notebooks/{nb['id']}", team.editor).status_code == 204
    trash = team.call("GET", "trash").json()["trash"]
    assert [(t["path"], t["deleted_by"]) for t in trash] == [("analysis.ipynb", team.editor.name)]
    assert team.call("POST", "trash", json={"path": "analysis.ipynb"}).status_code == 200
    assert b'"nbformat"' in content(team, "analysis.ipynb")


MANY = 1000  # the issue: "a project with 1,000 files while a kernel writes a file"


def test_snapshot_and_restore_of_many_files_while_a_file_is_written(team):
    with ThreadPoolExecutor(8) as pool:
        done = list(
            pool.map(lambda i: team.put(f"data/{i:04d}.csv", f"{i}\n".encode()), range(MANY))
        )
    assert all(r.status_code == 201 for r in done)
    team.put("notebook.log", b"start\n")

    stop = threading.Event()
    writes: list[int] = []

    def writer():  # a kernel appending to a file while the snapshot is taken
        n = 0
        while not stop.is_set():
            n += 1
            writes.append(team.put("notebook.log", f"line {n}\n".encode()).status_code)
            time.sleep(0.02)

    t = threading.Thread(target=writer)
    t.start()
    try:
        r = team.call("POST", "snapshots", team.editor, json={"name": "submitted"})
    finally:
        stop.set()
        t.join()
    assert set(writes) == {200}
    if r.status_code == 409:  # every try saw a write: the message says so, nothing was made
        assert "written to while the snapshot" in r.json()["message"]
        assert team.call("GET", "snapshots").json()["snapshots"] == []
        r = team.call("POST", "snapshots", team.editor, json={"name": "submitted"})
    assert r.status_code == 201, r.text
    snap = r.json()
    assert snap["name"] == "submitted" and snap["created_by"] == team.editor.name
    assert snap["files"] == MANY + 1
    manifest = team.call("GET", "snapshots/submitted", team.viewer).json()["manifest"]
    assert len(manifest) == MANY + 1
    log_version = next(m for m in manifest if m["path"] == "notebook.log")["version_id"]
    assert log_version in {v["version_id"] for v in versions(team, "notebook.log")}
    snapshot_log = team.get("notebook.log", params={"version_id": log_version}).content
    before = files(team)
    before["notebook.log"] = snapshot_log

    # after the snapshot: files change, some are deleted, new ones appear
    team.put("data/0000.csv", b"changed\n")
    team.call("DELETE", "files/data/0001.csv")
    team.put("data/new.csv", b"new\n", team.editor)
    team.put("notebook.log", b"later\n")

    r = team.call("POST", "snapshots/submitted/restore", team.editor)
    assert r.status_code == 200, r.text
    assert r.json()["restored"] == 3 and r.json()["trashed"] == 1  # 0000, 0001, notebook.log
    assert files(team) == before
    # nothing was lost: the new file is in the trash, the overwritten text in history
    trash = team.call("GET", "trash").json()["trash"]
    assert ("data/new.csv", team.editor.name) in [(t["path"], t["deleted_by"]) for t in trash]
    assert b"changed\n" in [
        team.get("data/0000.csv", params={"version_id": v["version_id"]}).content
        for v in versions(team, "data/0000.csv")
    ]
    assert team.call("POST", "trash", json={"path": "data/new.csv"}).status_code == 200


def test_snapshot_bad_input_changes_nothing(team):
    team.put("x.csv", b"1\n")
    assert team.call("POST", "snapshots", json={"name": "v1"}).status_code == 201
    r = team.call("POST", "snapshots", json={"name": "v1"})
    assert r.status_code == 409 and "choose another name" in r.json()["message"]
    for bad in ("", "../x", "a/b", 5, "x" * 101):
        r = team.call("POST", "snapshots", json={"name": bad})
        assert r.status_code == 400, (bad, r.text)
    assert r.json()["message"].startswith("name must be")
    assert [s["name"] for s in team.call("GET", "snapshots").json()["snapshots"]] == ["v1"]
    for method, rest in (("GET", "snapshots/nope"), ("POST", "snapshots/nope/restore")):
        r = team.call(method, rest)
        assert r.status_code == 404 and "GET .../snapshots" in r.json()["message"]
    assert team.call("POST", "snapshots/v1/restore", team.viewer).status_code == 403

    # a recorded version that is gone: 404 and the project as it was
    team.put("x.csv", b"2\n")
    first = versions(team, "x.csv")[-1]
    remove_version(team, "x.csv", first["version_id"])
    r = team.call("POST", "snapshots/v1/restore")
    assert r.status_code == 404 and "nothing was changed" in r.json()["message"]
    assert content(team, "x.csv") == b"2\n"


@pytest.mark.parametrize("role", ["viewer", "outsider"])
def test_who_may_take_snapshots(team, role):
    user = getattr(team, role)
    r = team.call("POST", "snapshots", user, json={"name": "mine"})
    assert r.status_code == (403 if role == "viewer" else 404)
    assert team.call("GET", "snapshots").json()["snapshots"] == []


async def test_a_user_servers_working_copy_records_its_user(team, tmp_path):
    """A user server holds no storage credentials: its saves, a kernel's files, renames and
    deletes reach the store through the service with the user's token, so each version names
    that user; a rename moves the history's head, it does not put the old name in the trash."""
    from datadive_contents.stores.hub import HubServiceStore
    from datadive_contents.workingcopy import WorkingCopy

    def server_store(user):
        return HubServiceStore(
            team.pid, service_url=f"{team.platform.url}/services/datadive/", token=user.token
        )

    owner_store, editor_store = server_store(team.owner), server_store(team.editor)
    wc = WorkingCopy(
        editor_store, str(tmp_path / "wc"), str(tmp_path / "state.db"), project_id=team.pid
    )
    try:
        await owner_store.put("analysis.py", b"print(1)\n", author="someone-else")
        await wc.ensure_local("analysis.py")  # the editor opens it in Lab
        await wc.write("analysis.py", b"print(2)\n")  # and saves
        (tmp_path / "wc" / "out.csv").write_bytes(b"a\n1\n")  # a kernel writes a file
        assert await wc.scan() == 1
        await editor_store.move("analysis.py", "main.py")  # a rename in Lab
        await owner_store.delete("out.csv")
    finally:
        wc.close()
        await owner_store.close()
        await editor_store.close()
    assert [v["author"] for v in versions(team, "analysis.py")] == [
        team.editor.name,
        team.owner.name,
    ]
    assert [v["author"] for v in versions(team, "out.csv")] == [team.editor.name]
    # the renamed file's history follows it: the rename, then its two versions as analysis.py
    renamed = versions(team, "main.py")
    assert [v["author"] for v in renamed] == [team.editor.name, team.editor.name, team.owner.name]
    assert [v["path"] for v in renamed] == ["main.py", "analysis.py", "analysis.py"]
    assert content(team, "main.py") == b"print(2)\n"
    trash = team.call("GET", "trash").json()["trash"]
    assert [(t["path"], t["deleted_by"]) for t in trash] == [("out.csv", team.owner.name)]
