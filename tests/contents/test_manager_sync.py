"""DatadiveContentsManager in-process on the local directory store: sync status, kernel-written
files, conflicts, offline saves, checkpoints backed by store versions."""

from __future__ import annotations

import asyncio
import os
import time

import pytest
from datadive_contents.manager import DatadiveContentsManager
from datadive_contents.stores.local import LocalDirectoryStore
from datadive_contents.stores.s3 import S3Store
from datadive_contents.workingcopy import SyncConflict, SyncError
from helpers import free_port
from tornado.web import HTTPError


def text(s: str) -> dict:
    return {"type": "file", "format": "text", "content": s}


@pytest.fixture
def cm(tmp_path):
    return DatadiveContentsManager(
        root_dir=str(tmp_path / "work"),
        store_url=f"file://{tmp_path / 'store'}",
        poll_interval=0,
        username="carol",
    )


async def settled_status(cm, timeout: float = 10.0) -> dict:
    """The sync status once no upload is in flight (a scan may still be running under load)."""
    deadline = time.monotonic() + timeout
    status = await cm.sync_status()
    while status["state"] == "syncing" and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        status = await cm.sync_status()
    return status


async def test_save_is_synced_and_kernel_files_upload(cm, tmp_path):
    await cm.save(text("hello"), "notes.txt")
    status = await settled_status(cm)
    assert status["state"] == "synced" and status["pending"] == 0
    assert (tmp_path / "store" / "notes.txt").read_text() == "hello"
    (tmp_path / "work" / "out.csv").write_text("a\n1\n")  # what a kernel writes
    listing = await cm.get("", content=True)
    assert "out.csv" in [e["name"] for e in listing["content"]]
    left = await cm.flush_all()
    assert left == {"": 0}
    assert (tmp_path / "store" / "out.csv").read_text() == "a\n1\n"


async def test_conflicting_save_is_409_and_both_versions_kept(cm, tmp_path):
    await cm.save(text("base"), "report.txt")
    other = LocalDirectoryStore(str(tmp_path / "store"))
    await other.put("report.txt", b"someone else's")
    with pytest.raises(HTTPError) as e:
        await cm.save(text("mine"), "report.txt")
    assert (
        e.value.status_code == 409
        and "yours was saved as report.conflict-carol-" in e.value.log_message
    )
    names = os.listdir(tmp_path / "store")
    conflict = next(n for n in names if n.startswith("report.conflict-carol-"))
    assert (tmp_path / "store" / conflict).read_text() == "mine"
    assert (tmp_path / "store" / "report.txt").read_text() == "someone else's"
    assert (await cm.get("report.txt"))["content"] == "someone else's"
    assert (await cm.sync_status())["state"] == "conflict"


async def test_offline_save_is_503_and_journaled(tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"
    store = S3Store(
        "nobucket",
        "",
        endpoint_url=dead,
        access_key_id="x",
        secret_access_key="x",
        max_attempts=1,
        connect_timeout=1,
    )
    cm = DatadiveContentsManager(root_dir=str(tmp_path / "w"), single_store=store, poll_interval=0)
    try:
        with pytest.raises(HTTPError) as e:
            await cm.save(text("kept"), "a.txt")
        assert e.value.status_code in (503,)
        assert dead.split("//")[1] in e.value.log_message
        assert (tmp_path / "w" / "a.txt").read_text() == "kept"
        status = await cm.sync_status()
        assert status["state"] == "offline" and status["pending"] == 1
        assert dead.split("//")[1] in status["projects"][0]["message"]
    finally:
        await store.close()  # its aiohttp session ("Unclosed client session" otherwise)


async def test_checkpoints_are_store_versions(cm, tmp_path):
    await cm.save(text("v1"), "doc.txt")
    cp = await cm.create_checkpoint("doc.txt")
    await cm.save(text("v2"), "doc.txt")
    versions = await LocalDirectoryStore(str(tmp_path / "store")).list_versions("doc.txt")
    assert cp["id"] in [v.version_id for v in versions]
    assert [c["id"] for c in await cm.list_checkpoints("doc.txt")] == [cp["id"]]
    await cm.restore_checkpoint(cp["id"], "doc.txt")
    assert (await cm.get("doc.txt"))["content"] == "v1"
    assert (tmp_path / "work" / "doc.txt").read_text() == "v1"


async def test_empty_folder_marker_is_hidden(cm, tmp_path):
    await cm.save({"type": "directory"}, "empty")
    assert (tmp_path / "store" / "empty" / ".datadive-keep").exists()
    listing = await cm.get("empty", content=True)
    assert listing["content"] == []
    root = await cm.get("", content=True)
    assert [e["name"] for e in root["content"]] == ["empty"]


def nb_with_rich_output(trusted: bool) -> dict:
    import json

    from nbformat.v4 import new_code_cell, new_notebook, new_output

    cell = new_code_cell(
        "df", outputs=[new_output("display_data", data={"text/html": "<b>table</b>"})]
    )
    if trusted:
        cell.metadata["trusted"] = True
    nb = json.loads(json.dumps(new_notebook(cells=[cell, new_code_cell("x = 1")])))
    return {"type": "notebook", "content": nb}


def s3_manager(tmp_path, endpoint: str, bucket: str) -> DatadiveContentsManager:
    """A single-root manager on ``s3://<bucket>/root`` of the moto server, polling off."""
    return DatadiveContentsManager(
        root_dir=str(tmp_path / "w"),
        store_url=f"s3://{bucket}/root",
        s3_endpoint_url=endpoint,
        s3_access_key_id="test",
        s3_secret_access_key="test",
        poll_interval=0,
    )


async def test_saved_notebook_is_signed_and_reopens_trusted(tmp_path, moto, s3_bucket):
    """check_and_sign's guarantee: the user's own (trusted) outputs stay trusted after a save;
    untrusted ones are not signed. The notary database is a file, as in a real server."""
    from nbformat.sign import NotebookNotary

    cm = s3_manager(tmp_path, moto.url, s3_bucket)
    cm.notary = NotebookNotary(db_file=str(tmp_path / "nbsignatures.db"), secret=b"k")
    await cm.save(nb_with_rich_output(trusted=True), "mine.ipynb")
    await cm.save(nb_with_rich_output(trusted=False), "theirs.ipynb")
    await cm.signatures_stored()
    mine = await cm.get("mine.ipynb")
    assert mine["content"].cells[0].metadata.trusted is True
    theirs = await cm.get("theirs.ipynb")
    assert theirs["content"].cells[0].metadata.trusted is False
    # saved again (now from the cache): still signed
    again = nb_with_rich_output(trusted=True)
    again["content"]["cells"][1]["source"] = "x = 2"
    await cm.save(again, "mine.ipynb")
    await cm.signatures_stored()
    assert (await cm.get("mine.ipynb"))["content"].cells[0].metadata.trusted is True
    await cm.single_store.close()


async def test_save_of_a_synced_file_costs_one_put(tmp_path, moto, s3_bucket):
    """No LIST or HEAD around the PUT: the working copy knows the file; a file over a folder
    that only exists in the store is still refused."""
    import boto3

    cm = s3_manager(tmp_path, moto.url, s3_bucket)
    await cm.save(nb_with_rich_output(trusted=True), "nb.ipynb")
    store = cm.single_store
    before = dict(store.requests)
    model = await cm.save(nb_with_rich_output(trusted=False), "nb.ipynb")
    made = {k: v - before.get(k, 0) for k, v in store.requests.items() if v - before.get(k, 0)}
    assert made == {"put_object": 1}
    assert model["type"] == "notebook" and model["size"] > 0
    boto3.client(
        "s3",
        endpoint_url=moto.url,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    ).put_object(Bucket=s3_bucket, Key="root/made-elsewhere.ipynb/data.csv", Body=b"a\n")
    with pytest.raises(HTTPError) as e:
        await cm.save(nb_with_rich_output(trusted=True), "made-elsewhere.ipynb")
    assert e.value.status_code == 400 and "is a directory" in e.value.log_message
    await store.close()


# --- the working copy's sync decisions, on the local store (upload, pull, deletion) ----------


@pytest.fixture
def wc(tmp_path):
    from datadive_contents.workingcopy import WorkingCopy

    store = LocalDirectoryStore(str(tmp_path / "store"))
    w = WorkingCopy(
        store,
        str(tmp_path / "wc"),
        str(tmp_path / "state" / "wc.db"),
        user="carol",
        project_id="p1",
    )
    yield w
    w.close()


def stored(tmp_path, name):
    p = tmp_path / "store" / name
    return p.read_text() if p.exists() else None


def conflict_files(tmp_path, stem):
    return sorted(n for n in os.listdir(tmp_path / "store") if n.startswith(f"{stem}.conflict-"))


async def test_kernel_written_file_never_overwrites_one_created_meanwhile(wc, tmp_path):
    """A file a kernel wrote is uploaded only if the store has none (If-None-Match): another
    member's file of the same name stays, ours is kept next to it."""
    await wc.store.put("out.csv", b"theirs")
    (tmp_path / "wc" / "out.csv").write_text("ours")
    with pytest.raises(SyncConflict) as e:
        await wc.push("out.csv")
    assert stored(tmp_path, "out.csv") == "theirs"
    [mine] = conflict_files(tmp_path, "out")
    assert stored(tmp_path, mine) == "ours" and e.value.conflict_path == mine
    assert (tmp_path / "wc" / "out.csv").read_text() == "theirs"
    assert (tmp_path / "wc" / mine).read_text() == "ours"
    assert "yours was saved as " + mine in str(e.value)
    assert [c["conflict_path"] for c in wc.conflicts] == [mine]


async def test_edited_file_is_uploaded_only_over_the_version_it_started_from(wc, tmp_path):
    await wc.write("a.txt", b"v1")
    (tmp_path / "wc" / "a.txt").write_text("mine, longer")  # a kernel edits it
    await wc.store.put("a.txt", b"theirs")  # someone else saved meanwhile
    with pytest.raises(SyncConflict):
        await wc.push("a.txt")
    assert stored(tmp_path, "a.txt") == "theirs"
    [mine] = conflict_files(tmp_path, "a")
    assert stored(tmp_path, mine) == "mine, longer"
    # without a competing change the edit goes through, once
    (tmp_path / "wc" / "a.txt").write_text("next")
    info = await wc.push("a.txt")
    assert stored(tmp_path, "a.txt") == "next" and info.etag == wc.base("a.txt").etag
    assert not wc.local_changed("a.txt")
    versions = len(await wc.store.list_versions("a.txt"))
    assert (await wc.push("a.txt")).etag == info.etag  # unchanged: nothing sent
    assert len(await wc.store.list_versions("a.txt")) == versions


async def test_same_bytes_on_both_sides_is_no_conflict(wc, tmp_path):
    (tmp_path / "wc" / "same.txt").write_text("same")
    await wc.store.put("same.txt", b"same")
    info = await wc.push("same.txt")
    assert info.etag == wc.base("same.txt").etag and conflict_files(tmp_path, "same") == []


async def test_a_file_deleted_in_the_store_meanwhile_is_recreated(wc, tmp_path):
    await wc.write("gone.txt", b"v1")
    await wc.store.delete("gone.txt")
    (tmp_path / "wc" / "gone.txt").write_text("v2 of mine")
    await wc.push("gone.txt")
    assert stored(tmp_path, "gone.txt") == "v2 of mine"


async def test_local_deletion_reaches_the_store_only_over_the_version_deleted(wc, tmp_path):
    await wc.write("old.txt", b"v1")
    await wc.write("kept.txt", b"v1")
    os.remove(tmp_path / "wc" / "old.txt")
    assert await wc.push("old.txt") is None
    assert stored(tmp_path, "old.txt") is None and wc.base("old.txt") is None
    # someone else changed it after we read it: our deletion does not delete their version
    await wc.store.put("kept.txt", b"theirs")
    os.remove(tmp_path / "wc" / "kept.txt")
    assert await wc.push("kept.txt") is None
    assert stored(tmp_path, "kept.txt") == "theirs" and wc.base("kept.txt") is None


async def test_pull_never_overwrites_unsaved_local_edits(wc, tmp_path):
    await wc.write("r.txt", b"v1")
    (tmp_path / "wc" / "r.txt").write_text("local edit")
    theirs = await wc.store.put("r.txt", b"their v2")
    await wc.pull("r.txt", theirs)  # conflict: logged, both kept
    assert (tmp_path / "wc" / "r.txt").read_text() == "their v2"
    [mine] = conflict_files(tmp_path, "r")
    assert stored(tmp_path, mine) == "local edit"
    assert (tmp_path / "wc" / mine).read_text() == "local edit"


async def test_pull_takes_remote_changes_only_when_there_are_some(wc, tmp_path):
    await wc.write("p.txt", b"v1")
    same = await wc.store.head("p.txt")
    (tmp_path / "wc" / "p.txt").write_text("unsent edit")
    await wc.pull("p.txt", same)  # the store has what we started from: keep the edit
    assert (tmp_path / "wc" / "p.txt").read_text() == "unsent edit"
    theirs = await wc.store.put("q.txt", b"new file")
    await wc.pull("q.txt", theirs)  # not here yet: downloaded
    assert (tmp_path / "wc" / "q.txt").read_text() == "new file"
    assert wc.base("q.txt").etag == theirs.etag and not wc.local_changed("q.txt")
    # an unchanged local copy follows the store
    theirs = await wc.store.put("q.txt", b"newer")
    await wc.pull("q.txt", theirs)
    assert (tmp_path / "wc" / "q.txt").read_text() == "newer"
    # a local edit identical to the remote change is simply adopted
    (tmp_path / "wc" / "q.txt").write_text("both")
    theirs = await wc.store.put("q.txt", b"both")
    await wc.pull("q.txt", theirs)
    assert wc.base("q.txt").etag == theirs.etag and conflict_files(tmp_path, "q") == []


async def test_an_unbound_working_copy_sends_nothing(wc, tmp_path):
    (tmp_path / "wc" / "x.txt").write_text("x")
    (tmp_path / "wc" / ".datadive-project").write_text("another-project\n")
    with pytest.raises(SyncError, match="belongs to another project; x.txt was not sent"):
        await wc.push("x.txt")
    assert stored(tmp_path, "x.txt") is None


async def test_conflict_copy_is_recorded_and_reported(wc, tmp_path, caplog):
    await wc.write("d/r.txt", b"v1")
    (tmp_path / "wc" / "d" / "r.txt").write_text("local edit")
    theirs = await wc.store.put("d/r.txt", b"their v2")
    with caplog.at_level("WARNING", logger="datadive_contents"):
        await wc.pull("d/r.txt", theirs)
    [mine] = [n for n in os.listdir(tmp_path / "store" / "d") if n.startswith("r.conflict-")]
    conflict = "d/" + mine
    assert [r.getMessage() for r in caplog.records] == [
        f"d/r.txt was changed by someone else since this server last read it. Their version is "
        f"kept as d/r.txt; yours was saved as {conflict}. Reopen d/r.txt and merge your changes "
        f"from {conflict}."
    ]
    # the copy is known to be in the store as it is: not changed, not uploaded again
    assert not wc.local_changed(conflict)
    assert wc.base(conflict).etag == (await wc.store.head(conflict)).etag
    [c] = wc.conflicts
    assert c["path"] == "d/r.txt" and c["conflict_path"] == conflict and c["time"] > 0
    assert wc.status()["state"] == "conflict" and wc.status()["conflicts"] == [c]


async def test_a_taken_conflict_name_gets_the_next_number(wc, tmp_path):
    from datetime import UTC, datetime, timedelta

    from datadive_contents.workingcopy import conflict_name, numbered

    now = datetime.now(UTC)
    taken = [conflict_name("t.txt", "carol", now + timedelta(seconds=s)) for s in range(-1, 4)]
    for name in taken:
        await wc.store.put(name, b"an earlier conflict")
    await wc.write("t.txt", b"v1")
    await wc.store.put("t.txt", b"theirs")
    with pytest.raises(SyncConflict) as e:
        await wc.write("t.txt", b"mine")
    assert e.value.path == "t.txt"
    assert e.value.conflict_path in [numbered(n, 2) for n in taken]
    assert stored(tmp_path, e.value.conflict_path) == "mine"
    assert all(stored(tmp_path, n) == "an earlier conflict" for n in taken)


async def test_ensure_local_fetches_what_the_store_has(wc, tmp_path):
    info = await wc.store.put("e.txt", b"from the store")
    got = await wc.ensure_local("e.txt")
    assert got.etag == info.etag and (tmp_path / "wc" / "e.txt").read_text() == "from the store"
    assert await wc.ensure_local("nowhere.txt") is None
    assert not (tmp_path / "wc" / "nowhere.txt").exists()
    assert not wc.local_changed("nowhere.txt")  # nothing local, nothing to send


async def test_journal_is_cleared_by_every_finished_push(wc, tmp_path):
    (tmp_path / "wc" / "k.txt").write_text("kernel output")
    wc._journal("k.txt")  # what a save or a kernel-file scan records before uploading
    await wc.push("k.txt")
    assert wc.pending() == [] and wc.status()["message"] is None
    wc._journal("k.txt")
    await wc.push("k.txt")  # unchanged since uploaded
    assert wc.pending() == []
    os.remove(tmp_path / "wc" / "k.txt")
    wc._journal("k.txt")
    await wc.push("k.txt")  # deleted
    assert wc.pending() == [] and stored(tmp_path, "k.txt") is None


async def test_offline_push_keeps_the_file_journaled_and_says_so(tmp_path):
    from datadive_contents.workingcopy import SyncOffline, WorkingCopy

    dead = f"127.0.0.1:{free_port()}"
    store = S3Store(
        "nobucket",
        "",
        endpoint_url=f"http://{dead}",
        access_key_id="x",
        secret_access_key="x",
        max_attempts=1,
        connect_timeout=1,
    )
    w = WorkingCopy(store, str(tmp_path / "wc"), str(tmp_path / "s" / "db"), project_id="p")
    try:
        (tmp_path / "wc" / "o.txt").write_text("kept")
        with pytest.raises(SyncOffline) as e:
            await w.push("o.txt")
        assert str(e.value).startswith("o.txt is saved on this server but not yet in the project")
        assert str(e.value).endswith(
            "It will be uploaded automatically when the store is reachable again."
        )
        assert w.pending() == ["o.txt"]
        assert dead in w.status()["message"] and w.status()["state"] == "offline"
    finally:
        w.close()
        await store.close()


# --- a kernel appending to a file while a folder listing pulls it ------------------------------


class RacingStore(LocalDirectoryStore):
    """Runs ``on_list`` after answering a LIST (so the listing is older than what happens next)
    and ``on_get`` while a GET is in flight."""

    on_list = None
    on_get = None
    on_head = None
    on_put = None

    async def list(self, prefix="", recursive=False):
        listing = await super().list(prefix, recursive)
        if self.on_list:
            await self.on_list()
        return listing

    async def get(self, key, **kw):
        got = await super().get(key, **kw)
        if self.on_get:
            self.on_get()
        return got

    async def head(self, key, **kw):
        got = await super().head(key, **kw)
        if self.on_head:
            await self.on_head()
        return got

    async def put(self, key, data, **kw):
        got = await super().put(key, data, **kw)
        if self.on_put:
            await self.on_put()
        return got


@pytest.fixture
def racing(tmp_path):
    from datadive_contents.workingcopy import WorkingCopy

    store = RacingStore(str(tmp_path / "store"))
    w = WorkingCopy(store, str(tmp_path / "wc"), str(tmp_path / "s" / "db"), project_id="p1")
    yield w
    w.close()


def append(tmp_path, line):
    with open(tmp_path / "wc" / "log.txt", "a") as f:
        f.write(f"{line}\n")


def lines(path):
    return path.read_text().split() if path.exists() else None


async def test_a_listing_older_than_the_last_upload_loses_no_appended_line(racing, tmp_path):
    """The listing is taken outside the lock; the periodic scan uploads the log before the
    listing's pull runs, and the kernel appends while that pull's GET is in flight. Every line
    stays in the file and reaches the store (the pull used to rewrite the file with the store's
    copy, dropping the line appended during the GET)."""

    async def scan_between():
        racing.store.on_list = None
        append(tmp_path, 2)
        await racing.scan()

    append(tmp_path, 1)
    await racing.scan()
    racing.store.on_list = scan_between
    racing.store.on_get = lambda: append(tmp_path, 3)
    await racing.refresh_dir("")
    append(tmp_path, 4)
    await racing.scan()
    assert lines(tmp_path / "wc" / "log.txt") == ["1", "2", "3", "4"]
    assert lines(tmp_path / "store" / "log.txt") == ["1", "2", "3", "4"]
    assert racing.conflicts == [] and conflict_files(tmp_path, "log") == []


async def test_a_listing_older_than_the_last_upload_is_no_conflict(racing, tmp_path):
    """Same stale listing, with the kernel appending after that upload: the store still has what
    this server sent last, so nothing is moved aside as a conflict copy."""

    async def scan_then_append():
        racing.store.on_list = None
        append(tmp_path, 2)
        await racing.scan()
        append(tmp_path, 3)

    append(tmp_path, 1)
    await racing.scan()
    racing.store.on_list = scan_then_append
    await racing.refresh_dir("")
    await racing.scan()
    assert lines(tmp_path / "wc" / "log.txt") == ["1", "2", "3"]
    assert lines(tmp_path / "store" / "log.txt") == ["1", "2", "3"]
    assert racing.conflicts == [] and conflict_files(tmp_path, "log") == []


async def test_a_remote_change_never_overwrites_a_line_appended_during_its_download(
    racing, tmp_path
):
    """Someone else changed the file; the local copy was unchanged when the pull began, but the
    kernel appends while the GET is in flight: the file is not replaced under it, both versions
    are kept as for any conflict."""
    append(tmp_path, 1)
    await racing.scan()
    theirs = await racing.store.put("log.txt", b"their line\n")
    racing.store.on_get = lambda: (setattr(racing.store, "on_get", None), append(tmp_path, 2))
    await racing.pull("log.txt", theirs)
    [mine] = conflict_files(tmp_path, "log")
    assert lines(tmp_path / "store" / mine) == ["1", "2"], "the appended line is kept"
    assert lines(tmp_path / "store" / "log.txt") == ["their", "line"]
    assert lines(tmp_path / "wc" / "log.txt") == ["their", "line"]
    assert [c["conflict_path"] for c in racing.conflicts] == [mine]


# --- the save path's remaining decisions (mutants of write / _confirm / _resolve_conflict) -------


async def test_a_save_over_8_mib_goes_through_the_local_file(wc, tmp_path):
    from datadive_contents.workingcopy import STREAM_THRESHOLD

    big = bytes(range(256)) * (STREAM_THRESHOLD // 256) + b"tail"
    info = await wc.write("big/data.bin", big)
    assert (tmp_path / "wc" / "big" / "data.bin").read_bytes() == big
    assert (tmp_path / "store" / "big" / "data.bin").read_bytes() == big
    assert wc.base("big/data.bin").etag == info.etag and wc.pending() == []
    assert not wc.local_changed("big/data.bin")


async def test_a_new_file_saved_over_one_created_meanwhile_is_a_conflict(wc, tmp_path):
    """No base: the save is sent only if the store has no such file (If-None-Match)."""
    await wc.store.put("new.txt", b"theirs, created first")
    with pytest.raises(SyncConflict) as e:
        await wc.write("new.txt", b"mine")
    assert stored(tmp_path, "new.txt") == "theirs, created first"
    assert stored(tmp_path, e.value.conflict_path) == "mine"


async def test_a_file_recreated_in_the_store_while_we_recreate_it_is_not_overwritten(
    racing, tmp_path
):
    """Deleted in the store, edited here: ours is recreated only if nobody recreated it in
    between (If-None-Match); if someone did, theirs stays and ours becomes a conflict copy."""
    from datadive_contents.stores.base import Conflict

    await racing.write("gone.txt", b"v1")
    await racing.store.delete("gone.txt")
    (tmp_path / "wc" / "gone.txt").write_text("v2 of mine")

    async def someone_recreates_it():
        racing.store.on_head = None
        await LocalDirectoryStore(str(tmp_path / "store")).put("gone.txt", b"theirs")

    racing.store.on_head = someone_recreates_it
    with pytest.raises(Conflict):
        await racing.push("gone.txt")
    assert stored(tmp_path, "gone.txt") == "theirs"
    with pytest.raises(SyncConflict) as e:
        await racing.push("gone.txt")
    assert stored(tmp_path, "gone.txt") == "theirs"
    assert stored(tmp_path, e.value.conflict_path) == "v2 of mine"


async def test_a_file_changed_again_while_its_save_is_in_flight_is_sent_next(racing, tmp_path):
    """A kernel appends while the PUT of a save is in flight: the base keeps the stat of what was
    sent, so the next scan uploads the appended line."""
    import asyncio

    async def kernel_appends():
        racing.store.on_put = None
        path = tmp_path / "wc" / "log.txt"
        for _ in range(500):  # the local write runs in a thread beside the PUT
            if path.exists() and path.read_bytes() == b"1\n":
                break
            await asyncio.sleep(0.01)
        append(tmp_path, 2)

    racing.store.on_put = kernel_appends
    await racing.write("log.txt", b"1\n")
    assert lines(tmp_path / "store" / "log.txt") == ["1"]
    assert racing.local_changed("log.txt")
    assert await racing.scan() == 1
    assert lines(tmp_path / "store" / "log.txt") == ["1", "2"]


async def test_a_failed_confirm_keeps_the_journal_and_reports_the_original_error(wc, tmp_path):
    """The base and journal update is one transaction: when SQLite fails inside it, the error
    that happened is raised (not one from the rollback), the file stays journaled, and the next
    scan finds the store already has it: no conflict, nothing pending."""
    import sqlite3

    real = wc.state.db

    class Failing:
        def execute(self, sql, *args):
            if sql.startswith("INSERT OR REPLACE INTO base"):
                raise sqlite3.OperationalError("disk I/O error")
            return real.execute(sql, *args)

        def __getattr__(self, name):
            return getattr(real, name)

    wc.state.db = Failing()
    try:
        with pytest.raises(sqlite3.OperationalError, match="^disk I/O error$"):
            await wc.write("j.txt", b"sent")
    finally:
        wc.state.db = real
    assert wc.pending() == ["j.txt"] and stored(tmp_path, "j.txt") == "sent"
    await wc.scan()
    assert wc.pending() == [] and wc.conflicts == [] and not wc.local_changed("j.txt")
    assert wc.base("j.txt").etag == (await wc.store.head("j.txt")).etag
