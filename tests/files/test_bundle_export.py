"""Reproducibility end to end (issue 13), on the local directory store and on S3 (moto): a real
user server and kernel run a notebook made from the built-in templates; the notebook's save
records which version of the data file each cell read; a snapshot resolves it to the store's
version id; ``datadive bundle export --snapshot`` writes those exact versions as an RO-Crate
and ``datadive bundle verify`` re-runs it clean in a fresh environment, even after the data
changed in the project; the project as it is now (new data) verifies with that cell reported
as different; a snapshot that does not exist is a clear error.
"""

from __future__ import annotations

import asyncio
import json
import zipfile
from urllib.parse import quote

import nbformat
import pytest
import requests
from user_server import Server, execute

from datadive_hub.cli import main as datadive
from datadive_server_ext.templates import builtin_templates, render_cells

pytestmark = [pytest.mark.hub, pytest.mark.slow]

CSV = "group,score\n" + "".join(f"{'ab'[i % 2]},{10 + (i * 37) % 11}\n" for i in range(30))
NEWER = CSV + "a,99\n"


def notebook() -> dict:
    t = builtin_templates()
    cells = render_cells(t["load-csv"], {"file": "data/scores.csv"})
    cells += render_cells(t["histogram"], {"column": "score", "bins": 6})
    cells += render_cells(t["group-summary"], {"group": "group", "value": "score"})
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.from_dict(c) for c in cells]
    for i, c in enumerate(nb.cells):
        c["id"] = f"c{i}"
    return nb


def run_in_server(srv: Server, folder: str, nb: dict) -> dict:
    """Run every code cell in the server's kernel (as Lab does, with its cell id) and save the
    notebook with its outputs through the server's contents API."""
    path = f"{folder}/analysis.ipynb"
    kid = srv.kernel(path)
    ws = srv.base.replace("http://", "ws://") + f"api/kernels/{kid}/channels"
    for n, cell in enumerate(c for c in nb["cells"] if c["cell_type"] == "code"):
        code = "".join(cell["source"])  # the file keeps a cell's source as a list of lines
        got = asyncio.run(execute(ws, code, srv.user.headers, 120, cell["id"]))
        assert got["error"] is None, got["error"]
        cell["outputs"], cell["execution_count"] = got["outputs"], n + 1
    r = requests.put(
        f"{srv.base}api/contents/{quote(path)}",
        headers=srv.user.headers,
        json={"type": "notebook", "format": "json", "content": nb},
        timeout=60,
    )
    assert r.status_code in (200, 201), r.text
    return nb


def test_kernel_reads_are_recorded_and_the_snapshot_bundle_verifies(team, tmp_path, capsys):
    p = team.platform
    v1 = team.put("data/scores.csv", CSV.encode()).json()
    team.put("analysis.ipynb", nbformat.writes(nbformat.from_dict(notebook())).encode())
    folder = team.project["name"]
    srv = Server(p, team.owner)
    try:
        srv.wait_until("the project folder", lambda: folder in srv.folders())
        assert srv.contents(f"{folder}/data").status_code == 200  # pulls the data file
        nb = json.loads(team.get("analysis.ipynb").content)
        run_in_server(srv, folder, nb)
    finally:
        srv.stop()

    # the save recorded, in the load cell, the version of the data the kernel read
    saved = json.loads(team.get("analysis.ipynb").content)
    load = next(c for c in saved["cells"] if c["id"] == "c1")
    assert load["metadata"]["datadive"]["template"] == "load-csv"
    reads = load["metadata"]["datadive"]["data_read"]
    assert [(r["path"], r["etag"]) for r in reads] == [("data/scores.csv", v1["etag"])]
    others = [c for c in saved["cells"] if c["id"] != "c1"]
    assert not any("data_read" in c["metadata"].get("datadive", {}) for c in others)

    assert team.call("POST", "snapshots", json={"name": "paper"}).status_code == 201
    snap = team.call("GET", "snapshots/paper").json()
    assert [(r["cell_id"], r["path"], r["version_id"]) for r in snap["data_read"]] == [
        ("c1", "data/scores.csv", v1["version_id"])
    ]
    assert {t["id"] for t in snap["templates"]} == {"load-csv", "histogram", "group-summary"}

    team.put("data/scores.csv", NEWER.encode())  # the data changes after the snapshot
    hub = ["--hub-url", p.url, "--token", team.owner.token]
    out = tmp_path / "paper.zip"
    assert (
        datadive(["bundle", "export", team.pid, "--snapshot", "paper", "-o", str(out), *hub]) == 0
    )
    with zipfile.ZipFile(out) as zf:
        assert zf.read("data/scores.csv").decode() == CSV  # the snapshot's version
        manifest = json.loads(zf.read("datadive-bundle.json"))
        names = set(zf.namelist())
    assert {f"templates/{t['id']}-{t['version']}.json" for t in manifest["templates"]} <= names
    assert manifest["data_read"][0]["version_id"] == v1["version_id"]
    capsys.readouterr()
    assert datadive(["bundle", "verify", str(out)]) == 0, capsys.readouterr()
    assert "3 cell(s) match, 0 differ" in capsys.readouterr().out

    # the project now (newer data): the load cell's output no longer matches
    now = tmp_path / "now.zip"
    assert datadive(["bundle", "export", folder, "-o", str(now), *hub]) == 0
    capsys.readouterr()
    assert datadive(["bundle", "verify", str(now)]) == 1
    report = capsys.readouterr().out
    assert "cell 2 (c1): different: stdout output 1 differs: was '30 rows" in report, report
    assert "31 rows" in report

    # bad input: a snapshot that does not exist
    bad = tmp_path / "bad.zip"
    assert datadive(["bundle", "export", team.pid, "--snapshot", "nope", "-o", str(bad), *hub]) == 2
    assert "No snapshot 'nope'" in capsys.readouterr().err
    assert not bad.exists()
