"""Listing a folder costs one store LIST per 1,000 entries and O(1) working-copy queries, and
gives the same entries jupyter_server's rules would (hide_globs, hidden files, mimetypes)."""

from __future__ import annotations

import fnmatch
import math
import mimetypes
import os

import pytest
from datadive_contents.manager import DatadiveContentsManager
from datadive_contents.models import mimetype as _mimetype
from datadive_contents.stores.s3 import S3Store
from jupyter_server.services.contents.manager import ContentsManager

N = 2500


@pytest.fixture
async def big_folder(moto, s3_bucket):
    store = S3Store(
        s3_bucket, "root", endpoint_url=moto.url, access_key_id="test", secret_access_key="test"
    )
    import asyncio

    sem = asyncio.Semaphore(16)

    async def one(i):
        async with sem:
            await store.put(f"big/f{i:05d}.csv", f"a\n{i}\n".encode())

    await asyncio.gather(*(one(i) for i in range(N)))
    await store.put("big/sub/x.txt", b"x")  # a folder
    await store.put("big/__pycache__/y.pyc", b"y")  # hidden by hide_globs
    await store.put("big/skip.pyc", b"z")  # hidden by hide_globs
    await store.close()
    return s3_bucket


def make_cm(tmp_path, endpoint, bucket, **kw):
    return DatadiveContentsManager(
        root_dir=str(tmp_path / "work"),
        store_url=f"s3://{bucket}/root",
        s3_endpoint_url=endpoint,
        s3_access_key_id="test",
        s3_secret_access_key="test",
        poll_interval=0,
        **kw,
    )


async def test_listing_requests_and_queries_do_not_grow_per_entry(tmp_path, moto, big_folder):
    cm = make_cm(tmp_path, moto.url, big_folder)
    await cm.get("", content=False)
    m = cm.mounts.by_key[""]
    store = cm.single_store
    statements: list[str] = []
    m.wc.state.db.set_trace_callback(statements.append)
    before = dict(store.requests)
    model = await cm.get("big", content=True)
    made = {k: v - before.get(k, 0) for k, v in store.requests.items() if v - before.get(k, 0)}
    names = {e["name"]: e for e in model["content"]}
    assert len([n for n in names if n.endswith(".csv")]) == N
    assert names["sub"]["type"] == "directory"
    assert "skip.pyc" not in names and "__pycache__" not in names
    assert names["f00001.csv"]["mimetype"] == mimetypes.guess_type("f00001.csv")[0]
    assert made.get("list_objects_v2", 0) <= math.ceil((N + 3) / 1000)
    assert set(made) <= {"list_objects_v2", "head_object"} and made.get("head_object", 0) <= 1
    assert len(statements) < 10, statements[:10]  # not one per entry (N = 2,500)
    # every file now has a local copy (materialized): a second listing still costs O(1) queries
    await m.wc.materialize()
    statements.clear()
    model = await cm.get("big", content=True)
    assert len(model["content"]) == N + 1
    assert len(statements) < 10, statements[:10]  # not one per entry (N = 2,500)
    m.wc.state.db.set_trace_callback(None)
    await store.close()


def test_list_filter_matches_should_list(tmp_path):
    cm = DatadiveContentsManager(
        root_dir=str(tmp_path), store_url=f"file://{tmp_path / 's'}", poll_interval=0
    )
    cm.hide_globs = ["__pycache__", "*.pyc", "*~", "[ab]?.tmp", ".DS_Store", "*.so"]
    listed = cm._list_filter()
    for name in ["a.py", "x.pyc", "__pycache__", "b1.tmp", "c1.tmp", "n~", "lib.so", "ok.txt"]:
        assert listed(name) == ContentsManager.should_list(cm, name), name
    assert not listed(".hidden") and not listed(".datadive-keep")
    cm.allow_hidden = True
    assert cm._list_filter()(".hidden") and not cm._list_filter()(".datadive-keep")
    assert fnmatch.fnmatch("x.pyc", "*.pyc")


@pytest.mark.parametrize(
    "name",
    ["a.csv", "A.CSV", "x.tar.gz", "x.tgz", "noext", ".bashrc", "r.ipynb", "p.parquet", "d:x.png"],
)
def test_mimetype_cache_matches_mimetypes(name):
    assert _mimetype(name) == mimetypes.guess_type(name)[0]
    assert _mimetype(name) == mimetypes.guess_type(name)[0]  # from the cache


def test_bases_in_returns_direct_children_only(tmp_path):
    from datadive_contents.stores.local import LocalDirectoryStore
    from datadive_contents.workingcopy import WorkingCopy

    wc = WorkingCopy(
        LocalDirectoryStore(str(tmp_path / "s")), str(tmp_path / "w"), str(tmp_path / "st.db")
    )
    for rel in ["a.txt", "d/b.txt", "d/e/c.txt", "d2/x.txt", "d.txt"]:
        p = wc.local(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        open(p, "w").close()
        wc._set_base(rel, "etag-" + rel, p)
    assert set(wc.bases_in("")) == {"a.txt", "d.txt"}
    assert set(wc.bases_in("d")) == {"b.txt"}
    assert wc.bases_in("d")["b.txt"].etag == "etag-d/b.txt"
    assert set(wc.bases_in("d/e")) == {"c.txt"}
    wc.close()
