"""History benchmark: a page of versions with authors, and a snapshot of 10,000 files, on one
moto S3 endpoint (versioned bucket), through the same functions the service's handlers call
(``datadive_hub.history``) with the service's database schema (SQLite, migrated by Alembic).

Run: ``./dev bench`` or ``python benchmarks/history.py [--files 10000] [--versions 1000]``;
the last line of output is one JSON object.

Keys:
- ``versions_1000_p50_ms``: the first page (50, the API's default) of the versions of a file
  that has 1,000 versions, each with its author — median of 25; ``versions_1000_requests``: S3
  requests one page costs (one LIST of the versions, one HEAD for "is current"; authors come
  from the service's index, one SQL query);
- ``raw_list_versions_page_p50_ms``: the endpoint's floor, that page's one LIST alone;
- peer ``metadata_authors_versions_1000_p50_ms`` / ``..._requests``: the same page with the
  authors read from each version's S3 metadata (a HEAD per version): what a store-only design
  without the service's index would cost;
- ``snapshot_10000_s``: taking a snapshot of a project of 10,000 files (median of 3);
  ``raw_list_versions_10000_s``: the endpoint's floor, the same ListObjectVersions pages alone
  (moto answers them far slower than ListObjectsV2: ``raw_list_objects_10000_s``);
  ``snapshot_vs_raw_list_versions``: ours over that floor;
  ``snapshot_10000_requests``: S3 requests it made (target: one LIST per 1,000 keys + one PUT
  of the manifest); ``snapshot_bytes_copied``: bytes of project files copied (0: only version
  ids are recorded); ``snapshot_manifest_bytes``: size of the manifest object;
- peer ``copy_snapshot_1000_s`` / ``copy_snapshot_1000_requests`` / ``..._bytes_copied``: a
  snapshot made by server-side copies of 1,000 of the files (what "snapshot = copy the folder"
  costs; 10,000 copies take minutes on this endpoint, so 1,000, measured once);
- ``local_snapshot_10000_s``: the same snapshot on the local directory store;
- ``diff_200_s``: comparing two versions of a notebook of 200 code cells with outputs (text
  in each, a 20 KB image in every 10th; a fifth of the cells changed, 5 added, 5 removed) cell
  by cell, as the panel's Compare does (``datadive_server_ext.notebookdiff.compare``: parse,
  nbdime's diff, the per-cell summary) — median of 3; ``diff_200_changed_cells``: cells it
  reports changed; peer ``nbdiff_direct_s``: nbdime's own ``nbdiff`` command on the same two
  files (a process: its start-up included), median of 3; ``nbdiff_startup_s``: that
  process's start-up alone (``python -c "import nbdime.nbdiffapp"``), so the peer's own work is
  the difference; ``nbdime_diff_inprocess_s``: nbdime's ``diff_notebooks`` on the parsed
  notebooks in this process (what our summary adds is ``diff_200_s`` minus it and the parse);
- ``load_average`` and ``cpus``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for p in (str(ROOT / "tests"), str(ROOT / "contents"), str(ROOT)):
    if p not in sys.path:
        sys.path.insert(0, p)

from datadive_contents.stores.local import LocalDirectoryStore  # noqa: E402
from datadive_contents.stores.s3 import S3Store  # noqa: E402
from moto_s3 import MotoServer  # noqa: E402

from datadive_hub import db, history  # noqa: E402
from datadive_hub.models import Membership, PrincipalKind, Project, Role  # noqa: E402

PAGE = 50


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def sessions_for(tmp: str):
    url = f"sqlite:///{tmp}/history-bench.sqlite"
    db.upgrade(url)
    return db.session_factory(db.make_engine(url))


def new_project(sessions, name: str) -> str:
    with sessions() as s:
        p = Project(name=name, name_key=name, created_by="bench")
        p.members.append(Membership(kind=PrincipalKind.user, name="bench", role=Role.owner))
        s.add(p)
        s.commit()
        return p.id


async def fill(store, keys_and_data, parallel: int = 32, author: str | None = None) -> list:
    sem = asyncio.Semaphore(parallel)

    async def put(key, data):
        async with sem:
            return await store.put(key, data, author=author)

    return list(await asyncio.gather(*(put(k, d) for k, d in keys_and_data)))


async def timed(make, runs: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        await make()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times


async def bench_versions(root: S3Store, sessions, n: int) -> dict:
    pid = new_project(sessions, "versions")
    files = root.sub(f"projects/{pid}")
    authors = ["alice", "bob", "carol"]
    for start in range(0, n, 100):  # batches, so that the versions have an order
        infos = await fill(
            files,
            [("results.csv", f"{i}\n".encode()) for i in range(start, min(n, start + 100))],
            author=authors[start // 100 % 3],
        )
        history.record_writes(sessions, pid, infos, authors[start // 100 % 3])
    before = root.request_count
    page = await history.versions_page(files, sessions, pid, "results.csv", PAGE, None)
    requests = root.request_count - before
    assert len(page["versions"]) == PAGE and all(v["author"] for v in page["versions"])
    p50, _ = await timed(
        lambda: history.versions_page(files, sessions, pid, "results.csv", PAGE, None), 25
    )

    async def by_metadata():
        versions, _ = await files.list_versions_page("results.csv", PAGE)
        await files.head("results.csv")
        heads = await asyncio.gather(
            *(files.head("results.csv", version_id=v.version_id) for v in versions)
        )
        assert all(h.author for h in heads)

    async def raw_page():  # the endpoint's floor: the one LIST of the page, nothing else
        await root._call(
            "list_object_versions", Prefix=f"{root.prefix}projects/{pid}/results.csv", MaxKeys=51
        )

    floor_p50, _ = await timed(raw_page, 25)
    before = root.request_count
    await by_metadata()
    peer_requests = root.request_count - before
    peer_p50, _ = await timed(by_metadata, 25)
    return {
        "versions_1000_p50_ms": round(p50 * 1000, 1),
        "versions_1000_requests": requests,
        "raw_list_versions_page_p50_ms": round(floor_p50 * 1000, 1),
        "metadata_authors_versions_1000_p50_ms": round(peer_p50 * 1000, 1),
        "metadata_authors_versions_1000_requests": peer_requests,
    }


async def bench_snapshot(root, sessions, n: int, runs: int = 3) -> dict:
    pid = new_project(sessions, f"snap-{type(root).__name__}")
    files = root.sub(f"projects/{pid}")
    await fill(files, [(f"data/{i // 500:02d}/{i:05d}.csv", f"{i},x\n".encode()) for i in range(n)])
    times, requests, copied = [], [], []
    for run in range(runs):
        stored = await stored_bytes(root)
        t = time.perf_counter()
        taken = await history.take_snapshot(root, files, sessions, pid, f"s{run}", "bench")
        times.append(time.perf_counter() - t)
        assert taken.snapshot["files"] == n
        requests.append(taken.requests)
        snap = history.find_snapshot(sessions, pid, f"s{run}")
        manifest = len((await root.get(snap.manifest_key))[0])
        # what the store holds now, minus what it held before and the manifest
        copied.append(await stored_bytes(root) - stored - manifest)
    floors = await list_floors(root, f"projects/{pid}/") if isinstance(root, S3Store) else {}
    return {
        **floors,
        "s": round(statistics.median(times), 3),
        "runs_s": [round(t, 3) for t in times],
        "requests": max(requests),
        "bytes_copied": max(copied),
        "manifest_bytes": manifest,
        "pid": pid,
    }


async def list_floors(root: S3Store, prefix: str) -> dict:
    """The endpoint's floor: the same LIST pages, with nothing else done (same client)."""
    out = {}
    for op, key in (("list_object_versions", "versions"), ("list_objects_v2", "objects")):
        t = time.perf_counter()
        kwargs: dict = {"Prefix": root.prefix + prefix, "MaxKeys": 1000}
        pages = 0
        while True:
            resp = await root._call(op, **kwargs)
            pages += 1
            if not resp.get("IsTruncated"):
                break
            kwargs = {"Prefix": root.prefix + prefix, "MaxKeys": 1000}
            if op == "list_objects_v2":
                kwargs["ContinuationToken"] = resp["NextContinuationToken"]
            else:
                kwargs["KeyMarker"] = resp["NextKeyMarker"]
                kwargs["VersionIdMarker"] = resp["NextVersionIdMarker"]
        out[f"raw_list_{key}_s"] = round(time.perf_counter() - t, 3)
        out[f"raw_list_{key}_pages"] = pages
    return out


async def stored_bytes(root) -> int:
    """Bytes of every stored version (S3: the version listing; local: each inode once)."""
    if isinstance(root, S3Store):
        total, kwargs = 0, {"Prefix": ""}
        while True:
            resp = await root._call("list_object_versions", **kwargs)
            total += sum(v["Size"] for v in resp.get("Versions", []))
            if not resp.get("IsTruncated"):
                return total
            kwargs = {
                "KeyMarker": resp.get("NextKeyMarker"),
                "VersionIdMarker": resp.get("NextVersionIdMarker"),
            }
    seen, total = set(), 0
    for dirpath, _dirs, names in os.walk(root.root):
        for name in names:
            if ".datadive-tmp-" in name:
                continue
            st = os.stat(os.path.join(dirpath, name))
            if st.st_ino not in seen and not name.startswith("."):
                seen.add(st.st_ino)
                total += st.st_size
    return total


async def bench_copy_peer(root: S3Store, pid: str, n: int) -> dict:
    files = root.sub(f"projects/{pid}")
    listing = (await files.list("", recursive=True)).files[:n]
    before = root.request_count
    sem = asyncio.Semaphore(32)

    async def copy(f):
        async with sem:
            await root.copy(f"projects/{pid}/{f.key}", f"copies/{pid}/{f.key}")

    t = time.perf_counter()
    await asyncio.gather(*map(copy, listing))
    return {
        "copy_snapshot_1000_s": round(time.perf_counter() - t, 3),
        "copy_snapshot_1000_requests": root.request_count - before,
        "copy_snapshot_1000_bytes_copied": sum(f.size for f in listing),
    }


def two_notebooks(n_cells: int) -> tuple[bytes, bytes]:
    """Two versions of a notebook of ``n_cells`` code cells with outputs (see ``diff_200_s``)."""
    import base64
    import random

    import nbformat

    v4, rnd = nbformat.v4, random.Random(13)

    def cell(i: int, changed: bool):
        source = "\n".join(
            f"x{i}_{k} = {i * k}{' + 1' if changed and k == 2 else ''}" for k in range(5)
        )
        outputs = [v4.new_output("stream", text=f"result {i}: {i * (3 if changed else 2)}\n")]
        if i % 10 == 0:
            png = base64.b64encode(rnd.randbytes(20_000) if changed else bytes(20_000)).decode()
            outputs.append(
                v4.new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"})
            )
        return v4.new_code_cell(source, id=f"c{i}", execution_count=i + 1, outputs=outputs)

    old = [cell(i, False) for i in range(n_cells)]
    new = [cell(i, i % 5 == 0) for i in range(5, n_cells)] + [
        cell(n_cells + i, False) for i in range(5)
    ]
    return tuple(  # type: ignore[return-value]
        nbformat.writes(v4.new_notebook(cells=cells)).encode() for cells in (old, new)
    )


def bench_diff(n_cells: int, tmp: str) -> dict:
    """Our comparison against nbdime's ``nbdiff`` command, on the same two files."""
    import subprocess

    from datadive_server_ext.notebookdiff import compare

    old, new = two_notebooks(n_cells)
    a, b = Path(tmp, "old.ipynb"), Path(tmp, "new.ipynb")
    a.write_bytes(old)
    b.write_bytes(new)
    import nbformat
    from nbdime import diff_notebooks

    ours, peer, startup, inproc, result = [], [], [], [], {}
    nbdiff = Path(sys.executable).with_name("nbdiff")
    for _ in range(3):
        parsed = [nbformat.reads(x.decode(), as_version=4) for x in (old, new)]
        t = time.perf_counter()
        diff_notebooks(*parsed)
        inproc.append(time.perf_counter() - t)
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import nbdime.nbdiffapp"], check=True)
        startup.append(time.perf_counter() - t)
        t = time.perf_counter()
        result = compare(a.read_bytes(), b.read_bytes())
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        subprocess.run(
            [str(nbdiff), "--no-color", str(a), str(b)],
            check=True,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        peer.append(time.perf_counter() - t)
    return {
        "diff_200_s": round(statistics.median(ours), 3),
        "diff_200_changed_cells": result["counts"]["changed"],
        "diff_200_counts": result["counts"],
        "diff_200_notebook_bytes": [len(old), len(new)],
        "nbdiff_direct_s": round(statistics.median(peer), 3),
        "nbdiff_startup_s": round(statistics.median(startup), 3),
        "nbdime_diff_inprocess_s": round(statistics.median(inproc), 3),
    }


async def main(n_files: int, n_versions: int, n_cells: int = 200) -> dict:
    moto = MotoServer()
    moto.start()
    out: dict = {}
    try:
        bucket = moto.make_bucket()
        with tempfile.TemporaryDirectory() as tmp:
            sessions = sessions_for(tmp)
            s3 = S3Store(
                bucket, "dd", endpoint_url=moto.url, access_key_id="t", secret_access_key="t"
            )
            log(f"versions: {n_versions} versions of one file on S3 ...")
            out.update(await bench_versions(s3, sessions, n_versions))
            log(json.dumps(out))
            log(f"snapshot: {n_files} files on S3 ...")
            snap = await bench_snapshot(s3, sessions, n_files)
            out.update(
                snapshot_10000_s=snap["s"],
                snapshot_10000_runs_s=snap["runs_s"],
                snapshot_10000_requests=snap["requests"],
                snapshot_bytes_copied=snap["bytes_copied"],
                snapshot_manifest_bytes=snap["manifest_bytes"],
                raw_list_versions_10000_s=snap["raw_list_versions_s"],
                raw_list_versions_10000_pages=snap["raw_list_versions_pages"],
                raw_list_objects_10000_s=snap["raw_list_objects_s"],
                snapshot_vs_raw_list_versions=round(snap["s"] / snap["raw_list_versions_s"], 2),
            )
            log(json.dumps(out))
            log("peer: a snapshot by server-side copies of 1,000 files ...")
            out.update(await bench_copy_peer(s3, snap["pid"], 1000))
            await s3.close()
            log(f"snapshot: {n_files} files on the local directory store ...")
            local = LocalDirectoryStore(os.path.join(tmp, "store"))
            lsnap = await bench_snapshot(local, sessions, n_files)
            out.update(
                local_snapshot_10000_s=lsnap["s"],
                local_snapshot_10000_bytes_copied=lsnap["bytes_copied"],
            )
    finally:
        moto.stop()
    log(f"diff: two versions of a notebook of {n_cells} cells, ours and nbdiff ...")
    with tempfile.TemporaryDirectory() as tmp:
        out.update(bench_diff(n_cells, tmp))
    out["files"], out["versions"], out["cells"] = n_files, n_versions, n_cells
    out["load_average"] = [round(x, 2) for x in os.getloadavg()]
    out["cpus"] = os.cpu_count()
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=10000)
    ap.add_argument("--versions", type=int, default=1000)
    ap.add_argument("--cells", type=int, default=200)
    args = ap.parse_args()
    print(json.dumps(asyncio.run(main(args.files, args.versions, args.cells))))
