"""Public links benchmark: the public page of a 200-cell notebook, one run.

A real ``datadive up`` (embedded defaults: SQLite, local store). An editor uploads a notebook of
200 code cells with outputs (text and a small PNG every tenth cell) and publishes it N times
(each link is a page the service has not rendered yet). Time to first byte of the public page,
signed out, through the proxy: ``public_page_cold_ms`` (p50 over the N first requests, each one a
render), ``public_page_cached_ms`` (p50 of repeated requests) and, in this process, nbconvert's
``HTMLExporter`` on the same notebook called directly (``nbconvert_direct_ms``, p50 after a warm
call). ``public_page_first_ms`` is the very first request (the service imports nbconvert then).

Run: ``./dev bench`` or ``python benchmarks/sharing.py [--links N]``; the last line is JSON.
``linked_bytes_copied`` is not measured: datasets linked between projects are not built yet.
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--links", type=int, default=7)
    ap.add_argument("--repeats", type=int, default=15)
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
    from datadive_hub.public import render_notebook
    from nbconvert import HTMLExporter

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
        "linked_bytes_copied": None,
    }
    for k, v in out.items():
        print(f"  {k}: {v}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
