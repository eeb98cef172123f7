"""Public links benchmark: the public page of a 200-cell notebook, one run.

A real ``datadive up`` (embedded defaults: SQLite, local store). An editor uploads a notebook of
200 code cells with outputs (text and a small PNG every tenth cell) and publishes it N times
(each link is a page the service has not rendered yet). Time to first byte of the public page,
signed out, through the proxy: ``public_page_cold_ms`` (p50 over the N first requests, each one a
render), ``public_page_cached_ms`` (p50 of repeated requests) and, in this process, nbconvert's
``HTMLExporter`` on the same notebook called directly (``nbconvert_direct_ms``, p50 after a warm
call). ``public_page_first_ms`` is the very first request (the service imports nbconvert then).

Linked datasets: a second ``datadive up`` whose store is S3 on a moto server (versioned bucket).
A ``--dataset-mb`` (100) CSV lies in project A; it is linked into project B (three times, at three
paths: ``link_ms`` is the median), read once through B, then one link is copied into B
("copy", the peer: a server-side CopyObject). ``linked_bytes_copied`` is what the bucket grew by
(every version of every object) while the link was made and read once through B, and
``linked_write_requests`` the PUT/POST requests in moto's own request log meanwhile (both must
be 0); ``copy_bytes_copied`` the same growth for the copy. ``linked_read_ms`` reads the whole
file through B (pinned version of A's object), ``direct_read_ms`` the same bytes through A.

Run: ``./dev bench`` or ``python benchmarks/sharing.py [--links N] [--dataset-mb MB]``; the last
line is JSON.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "contents"), str(ROOT / "tests")]

import nbformat  # noqa: E402
import requests  # noqa: E402
from datadive_platform import start_platform, stop_platform  # noqa: E402
from moto_s3 import MotoServer  # noqa: E402

BUCKET = "datadive-sharing-bench"
#: links made of the same file (at other paths in B): link_ms is their median
LINKS = 3

# a 1x1 PNG
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def notebook(cells: int = 200) -> bytes:
    nb = nbformat.v4.new_notebook()
    for i in range(cells):
        cell = nbformat.v4.new_code_cell(f"x{i} = df['score'].mean() + {i}\nprint(x{i})")
        cell.execution_count = i + 1
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"{4.25 + i}\n")]
        if i % 10 == 0:
            cell.outputs.append(
                nbformat.v4.new_output(
                    "display_data", data={"image/png": base64.b64encode(PNG).decode()}
                )
            )
        nb.cells.append(cell)
    return nbformat.writes(nb).encode()


def ttfb_ms(url: str) -> float:
    t0 = time.perf_counter()
    with requests.get(url, stream=True, timeout=120) as r:
        r.raise_for_status()
        next(r.iter_content(1))
        return (time.perf_counter() - t0) * 1000


def bucket_bytes(s3) -> int:
    """Bytes held by every version of every object in the bucket."""
    total = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=BUCKET):
        total += sum(v["Size"] for v in page.get("Versions", []))
    return total


def read_ms(p, user, path: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    n = 0
    with requests.get(f"{p.api}/{path}", headers=user.headers, stream=True, timeout=600) as r:
        r.raise_for_status()
        for chunk in r.iter_content(1 << 20):
            n += len(chunk)
    return (time.perf_counter() - t0) * 1000, n


def linked_dataset(tmp: Path, mb: int) -> dict:
    """Link a ``mb`` MB CSV of project A into project B, then copy it (see the docstring)."""
    tmp.mkdir(parents=True, exist_ok=True)
    moto = MotoServer()
    moto.start()
    try:
        moto.make_bucket(BUCKET)
        env = {
            "DATADIVE_STORE_URL": f"s3://{BUCKET}/dd?endpoint_url={moto.url}",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        p = start_platform(tmp, extra_env=env)
        try:
            s3 = moto.client()
            owner = p.user()
            a, b = p.project(owner)["id"], p.project(owner)["id"]
            row = b"123456,4.25,group-a,2026-12-03\n"
            body = b"id,score,group,date\n" + row * (mb * (1 << 20) // len(row))
            # the file is put in A's folder of the bucket, as any S3 tool could
            s3.put_object(Bucket=BUCKET, Key=f"dd/projects/{a}/big.csv", Body=body)
            size = len(body)
            del body
            before = bucket_bytes(s3)
            with moto.recording() as log:
                link_runs = []
                for i in range(LINKS):
                    t0 = time.perf_counter()
                    r = p.call(
                        "POST",
                        f"projects/{b}/datasets",
                        owner,
                        json={"source_project": a, "source_path": "big.csv", "path": f"big{i}.csv"},
                    )
                    r.raise_for_status()
                    link_runs.append((time.perf_counter() - t0) * 1000)
                linked_read, n = read_ms(p, owner, f"projects/{b}/files/big0.csv")
                assert n == size, (n, size)
            linked_copied = bucket_bytes(s3) - before
            writes = sum(1 for e in log if e["method"] in ("PUT", "POST"))
            direct_read, _ = read_ms(p, owner, f"projects/{a}/files/big.csv")
            before = bucket_bytes(s3)
            t0 = time.perf_counter()
            r = p.call("POST", f"projects/{b}/datasets/{r.json()['id']}/copy", owner)
            r.raise_for_status()
            copy_ms = (time.perf_counter() - t0) * 1000
            copy_copied = bucket_bytes(s3) - before
        finally:
            stop_platform(p.proc)
    finally:
        moto.stop()
    return {
        "dataset_bytes": size,
        "linked_bytes_copied": linked_copied,
        "linked_write_requests": writes,
        "link_ms": round(statistics.median(link_runs), 1),
        "link_runs_ms": [round(x, 1) for x in link_runs],
        "linked_read_ms": round(linked_read, 1),
        "direct_read_ms": round(direct_read, 1),
        "copy_bytes_copied": copy_copied,
        "copy_ms": round(copy_ms, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--links", type=int, default=7)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--dataset-mb", type=int, default=100)
    args = ap.parse_args()
    raw = notebook()
    with tempfile.TemporaryDirectory() as tmp:
        p = start_platform(Path(tmp))
        try:
            editor = p.user()
            project = p.project(editor)
            r = p.call("PUT", f"projects/{project['id']}/files/report.ipynb", editor, data=raw)
            r.raise_for_status()
            urls = []
            for _ in range(args.links + 1):
                r = p.call(
                    "POST",
                    f"projects/{project['id']}/links",
                    editor,
                    json={"path": "report.ipynb"},
                )
                r.raise_for_status()
                urls.append(p.url + r.json()["url"])
            first = ttfb_ms(urls[0])
            cold = [ttfb_ms(u) for u in urls[1:]]
            cached = [ttfb_ms(urls[1]) for _ in range(args.repeats)]
        finally:
            stop_platform(p.proc)
        linked = linked_dataset(Path(tmp) / "linked", args.dataset_mb)
    from nbconvert import HTMLExporter

    from datadive_hub.public import render_notebook

    node = nbformat.reads(raw.decode(), as_version=4)
    HTMLExporter(template_name="lab").from_notebook_node(node)  # warm: imports, templates
    direct = []
    for _ in range(args.links):
        t0 = time.perf_counter()
        HTMLExporter(template_name="lab", embed_images=True).from_notebook_node(node)
        direct.append((time.perf_counter() - t0) * 1000)
    ours = []
    for _ in range(args.links):
        t0 = time.perf_counter()
        render_notebook(raw, hide_code=False)
        ours.append((time.perf_counter() - t0) * 1000)
    out = {
        "notebook_cells": 200,
        "notebook_bytes": len(raw),
        "public_page_first_ms": round(first, 1),
        "public_page_cold_ms": round(statistics.median(cold), 1),
        "public_page_cold_runs_ms": [round(x, 1) for x in cold],
        "public_page_cached_ms": round(statistics.median(cached), 1),
        "nbconvert_direct_ms": round(statistics.median(direct), 1),
        "render_in_process_ms": round(statistics.median(ours), 1),
        "cold_ratio": round(statistics.median(cold) / statistics.median(direct), 2),
        **linked,
    }
    for k, v in out.items():
        print(f"  {k}: {v}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
