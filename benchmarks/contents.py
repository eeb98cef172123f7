"""Storage benchmark: DatadiveContentsManager vs s3contents on one moto S3 endpoint, one run.

Run: ``./dev bench`` or ``python benchmarks/contents.py``; the last line of output is one JSON object.

Keys:
- ``list_1000_s`` / ``list_10000_s``: listing a folder of 1,000 / 10,000 files through the
  ContentsManager (``get(dir, content=True)``) on a fresh manager; ``list_10000_requests``: S3
  requests that listing made (target: ceil(N/1000) LIST, no per-object request);
- ``s3contents_fresh_list_10000_s``: s3contents with its s3fs listing cache invalidated first;
  ``s3contents_cached_list_10000_s``: s3contents again with its default (warm) cache; plus the
  request counts of both;
- ``open_1_s``: opening one file (content) on a fresh manager; ``s3contents_open_1_s``;
- ``save_1mb_s``: saving a 1 MB notebook through the manager (median of 5) vs ``raw_put_1mb_s``,
  a raw S3 PUT of the same bytes with the same client library (median of 5);
- ``preview_*`` and ``spawn_and_read_s``: from benchmarks/preview.py ``measure_preview()``
  (the files-API engineer's benchmark), or null with the reason.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import math
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for p in (str(ROOT / "tests" / "contents"), str(ROOT / "contents"), str(ROOT)):
    if p not in sys.path:
        sys.path.insert(0, p)

import boto3  # noqa: E402
import nbformat  # noqa: E402
from helpers import MotoServer  # noqa: E402
from nbformat.v4 import new_code_cell, new_notebook  # noqa: E402

KEYS = dict(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def populate(endpoint: str, bucket: str, prefix: str, n: int) -> None:
    s3 = boto3.client("s3", endpoint_url=endpoint, **KEYS)
    with ThreadPoolExecutor(16) as ex:
        list(
            ex.map(
                lambda i: s3.put_object(
                    Bucket=bucket, Key=f"{prefix}/f{i:05d}.csv", Body=f"a,b\n{i},{i}\n".encode()
                ),
                range(n),
            )
        )


def make_manager(endpoint: str, bucket: str, workdir: str):
    from datadive_contents.manager import DatadiveContentsManager

    return DatadiveContentsManager(
        root_dir=tempfile.mkdtemp(dir=workdir),
        store_url=f"s3://{bucket}/bench",
        s3_endpoint_url=endpoint,
        s3_access_key_id="test",
        s3_secret_access_key="test",
        poll_interval=0,
    )


async def ours(endpoint: str, bucket: str, workdir: str) -> dict:
    out: dict = {}
    for n in (1000, 10000):
        cm = make_manager(endpoint, bucket, workdir)
        await cm.get("", content=False)  # build the store client outside the timing
        store = cm.single_store
        await store.head("warmup")
        before = store.request_count
        t0 = time.perf_counter()
        model = await cm.get(f"list{n}", content=True)
        out[f"list_{n}_s"] = round(time.perf_counter() - t0, 4)
        assert len(model["content"]) == n, len(model["content"])
        out[f"list_{n}_requests"] = store.request_count - before
        out[f"list_{n}_request_kinds"] = dict(store.requests)
        await store.close()
    cm = make_manager(endpoint, bucket, workdir)
    await cm.get("", content=False)
    await cm.single_store.head("warmup")
    t0 = time.perf_counter()
    await cm.get("list1000/f00007.csv", content=True)
    out["open_1_s"] = round(time.perf_counter() - t0, 4)
    # save a 1 MB notebook vs a raw PUT of the same bytes
    nb = new_notebook(cells=[new_code_cell("x = 1\n" + "#" * 1000) for _ in range(1000)])
    body = nbformat.writes(nb).encode()
    out["notebook_bytes"] = len(body)
    model = {"type": "notebook", "content": nbformat.reads(body.decode(), 4)}
    saves, puts = [], []
    client = cm.single_store
    raw = await client._get_client()
    for i in range(6):
        t0 = time.perf_counter()
        await cm.save(model, "save/nb.ipynb")
        saves.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        await raw.put_object(Bucket=bucket, Key=f"raw/nb{i}.ipynb", Body=body)
        puts.append(time.perf_counter() - t0)
    out["save_1mb_s"] = round(statistics.median(saves[1:]), 4)
    out["raw_put_1mb_s"] = round(statistics.median(puts[1:]), 4)
    out["save_vs_raw_put"] = round(out["save_1mb_s"] / out["raw_put_1mb_s"], 2)
    await client.close()
    return out


def peer(endpoint: str, bucket: str) -> dict:
    out: dict = {}
    try:
        import s3contents
        from s3contents import S3ContentsManager
    except ImportError as e:
        return {"s3contents_error": f"s3contents not installed: {e}"}
    out["s3contents_version"] = (
        s3contents.__version__ if hasattr(s3contents, "__version__") else "0.11.2"
    )
    cm = S3ContentsManager(
        bucket=bucket,
        prefix="bench",
        endpoint_url=endpoint,
        access_key_id="test",
        secret_access_key="test",
    )
    fs = cm._fs.fs if hasattr(cm, "_fs") else cm.fs.fs
    counter = {"n": 0}
    fs.s3.meta.events.register(
        "before-call.s3", lambda **kw: counter.__setitem__("n", counter["n"] + 1)
    )
    fs.invalidate_cache()
    counter["n"] = 0
    t0 = time.perf_counter()
    model = cm.get("list10000", content=True)
    out["s3contents_fresh_list_10000_s"] = round(time.perf_counter() - t0, 4)
    out["s3contents_fresh_list_10000_requests"] = counter["n"]
    out["s3contents_list_10000_entries"] = len(model["content"])
    counter["n"] = 0
    t0 = time.perf_counter()
    cm.get("list10000", content=True)
    out["s3contents_cached_list_10000_s"] = round(time.perf_counter() - t0, 4)
    out["s3contents_cached_list_10000_requests"] = counter["n"]
    fs.invalidate_cache()
    t0 = time.perf_counter()
    cm.get("list1000/f00007.csv", content=True)
    out["s3contents_open_1_s"] = round(time.perf_counter() - t0, 4)
    return out


def preview() -> dict:
    path = ROOT / "benchmarks" / "preview.py"
    keys = ("preview_100mb_s", "preview_100mb_bytes_read", "spawn_and_read_s")
    if not path.exists():
        return {k: None for k in keys} | {"preview_note": "benchmarks/preview.py not present"}
    try:
        spec = importlib.util.spec_from_file_location("_dd_bench_preview", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        res = mod.measure_preview()
        return {k: res.get(k) for k in keys} | {
            "preview_extra": {k: v for k, v in res.items() if k not in keys}
        }
    except Exception as e:  # report, do not hide
        return {k: None for k in keys} | {
            "preview_note": f"measure_preview() failed: {type(e).__name__}: {e}"
        }


def main() -> dict:
    moto = MotoServer()
    moto.start()
    workdir = tempfile.mkdtemp(prefix="dd-bench-")
    try:
        s3 = boto3.client("s3", endpoint_url=moto.url, **KEYS)
        bucket = "bench"
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        t0 = time.perf_counter()
        populate(moto.url, bucket, "bench/list1000", 1000)
        populate(moto.url, bucket, "bench/list10000", 10000)
        log(f"populated 11,000 objects in {time.perf_counter() - t0:.1f} s")
        result = asyncio.run(ours(moto.url, bucket, workdir))
        log("datadive:", json.dumps(result))
        p = peer(moto.url, bucket)
        log("s3contents:", json.dumps(p))
        result.update(p)
        if result.get("s3contents_fresh_list_10000_s"):
            result["fresh_list_speedup_vs_s3contents"] = round(
                result["s3contents_fresh_list_10000_s"] / result["list_10000_s"], 1
            )
        result["list_10000_request_target"] = math.ceil(10000 / 1000)
    finally:
        moto.stop()
    result.update(preview())
    return result


if __name__ == "__main__":
    out = main()
    for k, v in out.items():
        log(f"{k:40s} {v}")
    print(json.dumps(out, default=str))
