"""Storage benchmark: DatadiveContentsManager vs s3contents on one moto S3 endpoint, one run.

Run: ``./dev bench`` or ``python benchmarks/contents.py``; the last line of output is one JSON object.

Keys:
- ``list_1000_s`` / ``list_10000_s``: listing a folder of 1,000 / 10,000 files through the
  ContentsManager (``get(dir, content=True)``) on a fresh manager and working copy, median of 3
  (``list_*_runs_s``); ``list_10000_requests``: S3 requests that listing made (target:
  ceil(N/1000) LIST, no per-object request);
- ``raw_list_*_s``: the paginated LIST calls alone (same parameters, same aiobotocore client as
  the manager's store), run right after each listing, median of 3; ``raw_list_*_http_s``: the
  same pages fetched as presigned HTTP GETs without parsing them — the endpoint's own floor;
  ``list_*_vs_raw_list``: our listing over the raw LIST;
- ``s3contents_fresh_list_10000_s``: s3contents with its s3fs listing cache invalidated first
  (median of 2); ``s3contents_cached_list_10000_s``: s3contents again with its default (warm)
  cache; plus the request counts of both; ``fresh_list_speedup_vs_s3contents``;
  ``max_speedup_vs_s3contents_at_endpoint_floor``: s3contents fresh over the endpoint floor
  (the best any client could reach on this endpoint);
- ``open_1_s``: opening one file (content) on a fresh manager; ``s3contents_open_1_s``;
- ``save_1mb_s``: saving a 1 MB (1,000-cell) notebook through the manager, one cell changed
  before each save, median of 25, vs ``raw_put_1mb_s``, a raw S3 PUT of the same bytes with the
  same client, interleaved, median of 25; ``save_vs_raw_put`` (ratio of the medians) and
  ``save_vs_raw_put_per_round`` (median of the 25 per-round ratios: each save and the PUT right
  after it see about the same load); ``save_1mb_first_s``: the first
  save of that notebook in the server (nothing cached); ``jupyter_local_save_1mb_s``:
  jupyter_server's AsyncFileContentsManager saving the same model to local disk (peer);
- ``preview_*`` and ``spawn_and_read_s``: from benchmarks/preview.py ``measure_preview()``
  (the files-API engineer's benchmark), or null with the reason;
- ``load_average`` (1, 5, 15 min) at the end of the run and ``cpus``.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import math
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for p in (str(ROOT / "tests"), str(ROOT / "contents"), str(ROOT)):
    if p not in sys.path:
        sys.path.insert(0, p)

import boto3  # noqa: E402
import nbformat  # noqa: E402
from moto_s3 import MotoServer  # noqa: E402
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


async def raw_list(client, bucket: str, prefix: str) -> tuple[int, int]:
    """The paginated LIST alone (same parameters as S3Store.list): (objects, requests)."""
    n = requests = 0
    token = None
    while True:
        kwargs = {"Bucket": bucket, "Prefix": prefix, "Delimiter": "/", "MaxKeys": 1000}
        if token:
            kwargs["ContinuationToken"] = token
        resp = await client.list_objects_v2(**kwargs)
        requests += 1
        n += len(resp.get("Contents", []))
        if not resp.get("IsTruncated"):
            return n, requests
        token = resp["NextContinuationToken"]


async def raw_list_http(client, bucket: str, prefix: str) -> int:
    """The same pages as presigned HTTP GETs, bytes only (no XML parsing): the endpoint's own
    time, i.e. the floor no S3 client on this endpoint can go below. Returns the pages."""
    import re

    import aiohttp

    pages = 0
    token = None
    async with aiohttp.ClientSession() as http:
        while True:
            params = {"Bucket": bucket, "Prefix": prefix, "Delimiter": "/", "MaxKeys": 1000}
            if token:
                params["ContinuationToken"] = token
            url = await client.generate_presigned_url("list_objects_v2", Params=params)
            async with http.get(url) as resp:
                body = await resp.read()
            pages += 1
            m = re.search(rb"<NextContinuationToken>([^<]+)</NextContinuationToken>", body)
            if b"<IsTruncated>true</IsTruncated>" not in body or not m:
                return pages
            token = m.group(1).decode()


async def ours(endpoint: str, bucket: str, workdir: str) -> dict:
    out: dict = {}
    # listings: ours (fresh manager, fresh working copy each time) alternating with the raw
    # paginated LIST on the same client, so both see the same load; medians
    for n, rounds in ((1000, 3), (10000, 3)):
        times, raws, raws_http = [], [], []
        for _ in range(rounds):
            cm = make_manager(endpoint, bucket, workdir)
            await cm.get("", content=False)  # build the store client outside the timing
            store = cm.single_store
            await store.head("warmup")
            before = store.request_count
            kinds_before = dict(store.requests)
            t0 = time.perf_counter()
            model = await cm.get(f"list{n}", content=True)
            times.append(time.perf_counter() - t0)
            assert len(model["content"]) == n, len(model["content"])
            out[f"list_{n}_requests"] = store.request_count - before
            out[f"list_{n}_request_kinds"] = {
                k: v - kinds_before.get(k, 0)
                for k, v in store.requests.items()
                if v - kinds_before.get(k, 0)
            }
            client = await store._get_client()
            t0 = time.perf_counter()
            got, pages = await raw_list(client, bucket, f"bench/list{n}/")
            raws.append(time.perf_counter() - t0)
            assert got == n
            t0 = time.perf_counter()
            await raw_list_http(client, bucket, f"bench/list{n}/")
            raws_http.append(time.perf_counter() - t0)
            await store.close()
        out[f"list_{n}_s"] = round(statistics.median(times), 4)
        out[f"list_{n}_runs_s"] = [round(t, 3) for t in times]
        out[f"raw_list_{n}_s"] = round(statistics.median(raws), 4)
        out[f"raw_list_{n}_http_s"] = round(statistics.median(raws_http), 4)
        out[f"raw_list_{n}_requests"] = pages
        out[f"list_{n}_vs_raw_list"] = round(out[f"list_{n}_s"] / out[f"raw_list_{n}_s"], 2)
    cm = make_manager(endpoint, bucket, workdir)
    await cm.get("", content=False)
    await cm.single_store.head("warmup")
    t0 = time.perf_counter()
    await cm.get("list1000/f00007.csv", content=True)
    out["open_1_s"] = round(time.perf_counter() - t0, 4)
    # save a 1 MB notebook vs a raw PUT of the same bytes. The model's content is what the
    # contents API handler passes to save(): parsed JSON (plain dicts, joined lines). Each save
    # changes one cell (an edit, then save); the first save of the notebook in this server is
    # reported on its own (nothing cached yet: every cell serialised, validated and hashed).
    nb = new_notebook(cells=[new_code_cell("x = 1\n" + "#" * 1000) for _ in range(1000)])
    body = nbformat.writes(nb).encode()
    out["notebook_bytes"] = len(body)
    content = json.loads(json.dumps(nbformat.reads(body.decode(), 4)))
    model = {"type": "notebook", "content": content}
    client = cm.single_store
    raw = await client._get_client()
    t0 = time.perf_counter()
    await cm.save(model, "save/nb.ipynb")
    out["save_1mb_first_s"] = round(time.perf_counter() - t0, 4)
    saves, puts = [], []
    for i in range(25):
        content["cells"][i]["source"] = f"y = {i}\n" + "#" * 1000
        t0 = time.perf_counter()
        await cm.save(model, "save/nb.ipynb")
        saves.append(time.perf_counter() - t0)
        # the notary's database write runs after the save returns: let it finish before the
        # raw PUT is timed, so it does not slow the peer down
        await cm.signatures_stored()
        t0 = time.perf_counter()
        await raw.put_object(Bucket=bucket, Key=f"raw/nb{i}.ipynb", Body=body)
        puts.append(time.perf_counter() - t0)
    out["save_1mb_s"] = round(statistics.median(saves), 4)
    out["raw_put_1mb_s"] = round(statistics.median(puts), 4)
    out["save_vs_raw_put"] = round(out["save_1mb_s"] / out["raw_put_1mb_s"], 2)
    out["save_vs_raw_put_per_round"] = round(
        statistics.median(s / p for s, p in zip(saves, puts, strict=True)), 2
    )
    await client.close()
    out.update(await jupyter_local_save(model, workdir))
    return out


async def jupyter_local_save(model: dict, workdir: str) -> dict:
    """Peer: jupyter_server's own AsyncFileContentsManager saving the same model to local disk
    (check_and_sign + nbformat validation and serialisation + atomic write), median of 5."""
    from jupyter_server.services.contents.filemanager import AsyncFileContentsManager

    fcm = AsyncFileContentsManager(root_dir=tempfile.mkdtemp(dir=workdir))
    times = []
    for i in range(6):
        model["content"]["cells"][i]["source"] = f"z = {i}\n" + "#" * 1000
        t0 = time.perf_counter()
        await fcm.save(model, "nb.ipynb")
        times.append(time.perf_counter() - t0)
    return {"jupyter_local_save_1mb_s": round(statistics.median(times[1:]), 4)}


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
    fresh = []
    for _ in range(2):
        fs.invalidate_cache()
        counter["n"] = 0
        t0 = time.perf_counter()
        model = cm.get("list10000", content=True)
        fresh.append(time.perf_counter() - t0)
    out["s3contents_fresh_list_10000_s"] = round(statistics.median(fresh), 4)
    out["s3contents_fresh_list_10000_runs_s"] = [round(t, 3) for t in fresh]
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
            fresh = result["s3contents_fresh_list_10000_s"]
            result["fresh_list_speedup_vs_s3contents"] = round(fresh / result["list_10000_s"], 2)
            # no client can list faster than the endpoint answers the same pages
            result["max_speedup_vs_s3contents_at_endpoint_floor"] = round(
                fresh / result["raw_list_10000_http_s"], 2
            )
        result["load_average"] = [round(x, 2) for x in os.getloadavg()]
        result["cpus"] = os.cpu_count()
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
