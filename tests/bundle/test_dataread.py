"""The kernel-side helper in a real kernel (nbclient) over a working copy laid out as the
contents manager lays it out (``<home>/files`` with its project marker, ``<home>/state.sqlite``
with the synced bases), and the save hook that copies the reads into the notebook:

- a cell that reads a synced file records its ETag; a file changed since its sync gets
  ``etag: null``; files written, internal files and files outside the project are not reads;
- a re-run of a cell that now reads nothing removes what it read before;
- how outputs are compared (numbers within the tolerance, addresses, chunked streams).
"""

from __future__ import annotations

import json
import os
import sqlite3

import nbformat
from jupyter_client.manager import start_new_kernel

from datadive_hub.bundle.outputs import compare_outputs, texts_match
from datadive_server_ext import dataread


def working_copy(tmp_path):
    home = tmp_path / "root" / ".datadive-workingcopy" / "projects" / "p1"
    files = home / "files"
    (files / "data").mkdir(parents=True)
    (files / dataread.MARKER).write_text("p1\n")
    (files / "data" / "a.csv").write_text("x\n1\n2\n")
    (files / "data" / "b.csv").write_text("x\n3\n")
    (tmp_path / "outside.csv").write_text("x\n9\n")
    db = sqlite3.connect(home / "state.sqlite")
    db.execute("CREATE TABLE base (path TEXT PRIMARY KEY, etag TEXT, mtime_ns INT, size INT)")
    for rel, etag in (("data/a.csv", "etag-a"), ("data/b.csv", "etag-b")):
        st = (files / rel).stat()
        db.execute("INSERT INTO base VALUES (?, ?, ?, ?)", (rel, etag, st.st_mtime_ns, st.st_size))
    db.commit()
    db.close()
    os.symlink(files, tmp_path / "root" / "Study")  # the project's folder, as the manager makes it
    return files


def run(nb, cwd):
    """Run the cells in a new kernel with the helper, each with its cell id (as JupyterLab sends
    it; nbclient sends none)."""
    km, kc = start_new_kernel(
        kernel_name="python3", cwd=str(cwd), extra_arguments=["--ext=datadive_server_ext.dataread"]
    )
    try:
        for cell in nb.cells:
            content = {"code": cell.source, "silent": False, "store_history": True}
            msg = kc.session.msg("execute_request", content, metadata={"cellId": cell.id})
            kc.shell_channel.send(msg)
            while True:
                reply = kc.get_shell_msg(timeout=60)
                if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
                    assert reply["content"]["status"] == "ok", reply["content"]
                    break
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_a_kernel_records_what_each_cell_read(tmp_path, monkeypatch):
    files = working_copy(tmp_path)
    outside = tmp_path / "outside.csv"
    monkeypatch.setenv("JPY_SESSION_NAME", "Study/analysis.ipynb")
    code = [
        "import pandas as pd\ndf = pd.read_csv('data/a.csv')",
        "df.to_csv('out.csv'); open('data/b.csv', 'a').write('4\\n')\n"
        f"pd.read_csv('data/b.csv'); pd.read_csv({str(outside)!r})",
        "open('.datadive-project').read(); 1 + 1",
    ]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in code]
    for i, c in enumerate(nb.cells):
        c.id = f"c{i}"
    run(nb, tmp_path / "root" / "Study")

    recorded = json.loads(open(dataread.reads_file(str(files), "analysis.ipynb")).read())
    assert recorded["notebook"] == "analysis.ipynb"
    cells = recorded["cells"]
    assert [(r["path"], r["etag"]) for r in cells["c0"]] == [("data/a.csv", "etag-a")]
    # b.csv was changed in the kernel after its sync: not a stored version (yet)
    assert [(r["path"], r["etag"]) for r in cells["c1"]] == [("data/b.csv", None)]
    assert "c2" not in cells  # read nothing of the project

    # the save hook: the notebook being saved gets each cell's reads
    class CM:
        root_dir = str(tmp_path / "root")

    model = {"type": "notebook", "content": json.loads(nbformat.writes(nb))}
    dataread.pre_save_hook(model=model, path="Study/analysis.ipynb", contents_manager=CM())
    meta = [c["metadata"].get("datadive", {}) for c in model["content"]["cells"]]
    assert meta[0]["data_read"][0]["path"] == "data/a.csv"
    assert meta[1]["data_read"][0]["etag"] is None
    assert "data_read" not in meta[2]

    # the first cell re-run (in a new kernel) without reading: what it read before is removed
    # on the next save, the other cells' reads stay
    again = nbformat.v4.new_notebook()
    again.cells = [nbformat.v4.new_code_cell("df = None")]
    again.cells[0].id = "c0"
    run(again, tmp_path / "root" / "Study")
    dataread.pre_save_hook(model=model, path="Study/analysis.ipynb", contents_manager=CM())
    assert "data_read" not in model["content"]["cells"][0]["metadata"]["datadive"]
    assert model["content"]["cells"][1]["metadata"]["datadive"]["data_read"]


def test_how_outputs_are_compared():
    assert texts_match("mean 3.1415926 sd 2", "mean 3.1415927 sd 2")  # within 1e-6
    assert not texts_match("p = 0.041", "p = 0.051")
    assert not texts_match("40 rows", "40 columns")
    assert texts_match("<Figure at 0x7f12ab34cd>", "<Figure at 0x7fee00112233>")
    chunked = [
        {"output_type": "stream", "name": "stdout", "text": "40 ro"},
        {"output_type": "stream", "name": "stderr", "text": "a warning"},
        {"output_type": "stream", "name": "stdout", "text": "ws\n"},
    ]
    whole = [{"output_type": "stream", "name": "stdout", "text": "40 rows\n"}]
    assert compare_outputs(chunked, whole) is None
    error = [{"output_type": "error", "ename": "KeyError", "evalue": "'score'", "traceback": []}]
    assert compare_outputs(whole, error) == "output 1 was stdout, now error (KeyError: 'score')"
    assert "1 output(s) recorded, 0 now" in compare_outputs(whole, [])
