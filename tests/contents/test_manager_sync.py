"""DatadiveContentsManager in-process on the local directory store: sync status, kernel-written
files, conflicts, offline saves, checkpoints backed by store versions."""

from __future__ import annotations

import os

import pytest
from datadive_contents.manager import DatadiveContentsManager
from datadive_contents.stores.local import LocalDirectoryStore
from datadive_contents.stores.s3 import S3Store
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


async def test_save_is_synced_and_kernel_files_upload(cm, tmp_path):
    await cm.save(text("hello"), "notes.txt")
    status = await cm.sync_status()
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
    with pytest.raises(HTTPError) as e:
        await cm.save(text("kept"), "a.txt")
    assert e.value.status_code in (503,)
    assert dead.split("//")[1] in e.value.log_message
    assert (tmp_path / "w" / "a.txt").read_text() == "kept"
    status = await cm.sync_status()
    assert status["state"] == "offline" and status["pending"] == 1


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


async def test_saved_notebook_is_signed_and_reopens_trusted(tmp_path, moto_server, s3_bucket):
    """check_and_sign's guarantee: the user's own (trusted) outputs stay trusted after a save;
    untrusted ones are not signed. The notary database is a file, as in a real server."""
    from nbformat.sign import NotebookNotary

    cm = DatadiveContentsManager(
        root_dir=str(tmp_path / "w"),
        store_url=f"s3://{s3_bucket}/root",
        s3_endpoint_url=moto_server,
        s3_access_key_id="test",
        s3_secret_access_key="test",
        poll_interval=0,
    )
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


async def test_save_of_a_synced_file_costs_one_put(tmp_path, moto_server, s3_bucket):
    """No LIST or HEAD around the PUT: the working copy knows the file; a file over a folder
    that only exists in the store is still refused."""
    import boto3

    cm = DatadiveContentsManager(
        root_dir=str(tmp_path / "w"),
        store_url=f"s3://{s3_bucket}/root",
        s3_endpoint_url=moto_server,
        s3_access_key_id="test",
        s3_secret_access_key="test",
        poll_interval=0,
    )
    await cm.save(nb_with_rich_output(trusted=True), "nb.ipynb")
    store = cm.single_store
    before = dict(store.requests)
    model = await cm.save(nb_with_rich_output(trusted=False), "nb.ipynb")
    made = {k: v - before.get(k, 0) for k, v in store.requests.items() if v - before.get(k, 0)}
    assert made == {"put_object": 1}
    assert model["type"] == "notebook" and model["size"] > 0
    boto3.client(
        "s3",
        endpoint_url=moto_server,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    ).put_object(Bucket=s3_bucket, Key="root/made-elsewhere.ipynb/data.csv", Body=b"a\n")
    with pytest.raises(HTTPError) as e:
        await cm.save(nb_with_rich_output(trusted=True), "made-elsewhere.ipynb")
    assert e.value.status_code == 400 and "is a directory" in e.value.log_message
    await store.close()
