"""``datadive bundle verify`` on bundles written here (no hub): real kernels (nbclient), a fresh
virtual environment, the RO-Crate checks.

- a notebook built from the built-in templates (load, describe, group summary, histogram,
  t-test), run once to record its outputs, verifies clean (plots compared by their data);
- a recorded output that differs from what the cell computes is reported for that cell only;
- a tampered bundle (changed bytes, a file added, a file missing), a zip that is not an RO-Crate,
  an RO-Crate that is not a Datadive bundle and a file that is not a zip are refused before
  anything runs (the notebook would leave a marker file: none appears).
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from wheelhouse import make_wheelhouse

from datadive_hub.bundle.cli import main as bundle_main
from datadive_hub.bundle.crate import FORMAT, MANIFEST, sha256_file, write_bundle
from datadive_hub.bundle.outputs import PLOT_MIME
from datadive_server_ext.templates import builtin_templates, render_cells

pytestmark = pytest.mark.slow

CSV = "group,score\n" + "".join(
    f"{'ab'[i % 2]},{10 + (i * 37) % 11 + 0.25 * (i % 2)}\n" for i in range(40)
)
TEMPLATE_VALUES = [
    ("load-csv", {"file": "data/scores.csv"}),
    ("describe", {}),
    ("group-summary", {"group": "group", "value": "score"}),
    ("histogram", {"column": "score", "bins": 8}),
    ("t-test", {"outcome": "score", "group": "group", "group_a": "a", "group_b": "b"}),
]


def template_notebook() -> dict:
    templates = builtin_templates()
    cells = []
    for tid, values in TEMPLATE_VALUES:
        t = templates[tid]
        allowed = {i.name for i in t.inputs}
        cells += render_cells(t, {k: v for k, v in values.items() if k in allowed})
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.from_dict(c) for c in cells]
    for i, c in enumerate(nb.cells):
        c["id"] = f"cell-{i}"
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def make_bundle(
    tmp: Path, nb: dict, name: str = "bundle.zip", run: bool = True, extra: dict | None = None
) -> Path:
    folder = tmp / "project"
    (folder / "data").mkdir(parents=True, exist_ok=True)
    (folder / "data" / "scores.csv").write_text(CSV)
    for path, text in (extra or {}).items():
        (folder / path).write_text(text)
    if run:  # record the outputs, as a researcher's kernel did (with the kernel-side helper)
        NotebookClient(
            nb,
            kernel_name="python3",
            timeout=300,
            extra_arguments=["--ext=datadive_server_ext.dataread"],
            resources={"metadata": {"path": str(folder)}},
        ).execute()
    nbformat.write(nbformat.from_dict(nb), folder / "analysis.ipynb")
    files = []
    for p in ("data/scores.csv", "analysis.ipynb", *(extra or {})):
        f = folder / p
        files.append(
            {
                "path": p,
                "version_id": "v1",
                "etag": "e",
                "size": f.stat().st_size,
                "sha256": sha256_file(f),
            }
        )
    manifest = {
        "format": FORMAT,
        "project": {"id": "p1", "name": "Study"},
        "snapshot": None,
        "exported_at": "2026-12-03T10:00:00Z",
        "files": files,
        "templates": [],
        "environment": None,
        "data_read": [],
    }
    out = tmp / name
    write_bundle(folder, manifest, out)
    shutil.rmtree(folder)
    return out


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """The template notebook run once (its outputs recorded)."""
    tmp = tmp_path_factory.mktemp("recorded")
    nb = template_notebook()
    bundle = make_bundle(tmp, nb)
    with zipfile.ZipFile(bundle) as zf:
        return nbformat.reads(zf.read("analysis.ipynb"), as_version=4), bundle


def test_builtin_templates_verify_clean(recorded, capsys):
    nb, bundle = recorded
    plots = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if PLOT_MIME in o.get("data", {})
    ]
    assert plots and plots[0]["data"][PLOT_MIME]["axes"][0]["bars"], "the histogram's data"
    code = bundle_main(["verify", str(bundle), "--json"])
    out = capsys.readouterr().out
    results = json.loads(out)
    assert code == 0, out
    assert [r["status"] for r in results] == ["same"] * len(TEMPLATE_VALUES)
    with zipfile.ZipFile(bundle) as zf:
        meta = json.loads(zf.read("ro-crate-metadata.json"))
    ids = {e["@id"]: e for e in meta["@graph"]}
    assert ids["data/scores.csv"]["sha256"] and ids["data/scores.csv"]["version"] == "v1"
    assert {"@id": "analysis.ipynb"} in ids["./"]["mainEntity"]


def test_a_changed_output_is_reported_for_that_cell(recorded, tmp_path, capsys):
    nb, _ = recorded
    nb = json.loads(json.dumps(nb))
    loads = nb["cells"][1]  # load-csv: prints "40 rows, 2 columns"
    stream = next(o for o in loads["outputs"] if o["output_type"] == "stream")
    assert "40 rows" in "".join(stream["text"])
    stream["text"] = "".join(stream["text"]).replace("40 rows", "41 rows")
    hist = next(
        c for c in nb["cells"] if c["metadata"].get("datadive", {}).get("template") == "histogram"
    )
    plot = next(o for o in hist["outputs"] if PLOT_MIME in o.get("data", {}))
    plot["data"][PLOT_MIME]["axes"][0]["bars"][0][3] += 1  # one more in the first bin
    bundle = make_bundle(tmp_path, nb, run=False)
    code = bundle_main(["verify", str(bundle)])
    out = capsys.readouterr().out
    assert code == 1, out
    lines = out.strip().splitlines()
    assert lines[-1] == f"{len(TEMPLATE_VALUES) - 2} cell(s) match, 2 differ"
    assert "cell 2 (cell-1): different: stdout output 1 differs" in out
    assert "41 rows" in out
    assert f"({hist['id']}): different: plot output" in out


def _rewrite(src: Path, dst: Path, change) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = change(item.filename, zin.read(item.filename))
            if data is not None:
                zout.writestr(item.filename, data)
        extra = change(None, None)
        if extra:
            zout.writestr(*extra)
    return dst


MARKER_CODE = "open({marker!r}, 'w').write('ran')"


def test_tampered_or_foreign_bundles_are_refused_and_nothing_runs(tmp_path, capsys):
    marker = tmp_path / "executed"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(MARKER_CODE.format(marker=str(marker)))]
    good = make_bundle(tmp_path, nb, "good.zip", run=False)

    def csv_changed(name, data):
        return data.replace(b"10", b"99") if name == "data/scores.csv" else (data if name else None)

    def added(name, data):
        return ("pandas.py", "raise SystemExit") if name is None else data

    def missing(name, data):
        return None if name in (None, "data/scores.csv") else data

    def no_manifest(name, data):
        return None if name in (None, MANIFEST) else data

    cases = {
        "changed.zip": (csv_changed, "does not match its recorded sha256"),
        "added.zip": (added, "does not list (e.g. 'pandas.py')"),
        "missing.zip": (missing, "missing (e.g. 'data/scores.csv')"),
        "not-datadive.zip": (no_manifest, "not a Datadive bundle"),
    }
    for name, (change, message) in cases.items():
        bad = _rewrite(good, tmp_path / name, change)
        assert bundle_main(["verify", str(bad)]) == 2, name
        err = capsys.readouterr().err
        assert message in err, (name, err)
    plain = tmp_path / "plain.zip"
    with zipfile.ZipFile(plain, "w") as zf:
        zf.writestr("analysis.ipynb", "{}")
    assert bundle_main(["verify", str(plain)]) == 2
    assert "is not an RO-Crate" in capsys.readouterr().err
    text = tmp_path / "notes.zip"
    text.write_text("not a zip")
    assert bundle_main(["verify", str(text)]) == 2
    assert "is not a zip file" in capsys.readouterr().err
    assert not marker.exists(), "a refused bundle ran a notebook"
    # the untouched bundle does run (the marker proves the check above could fail)
    assert bundle_main(["verify", str(good)]) == 0
    assert marker.read_text() == "ran"


def test_the_environment_lock_is_built_for_the_kernels(tmp_path, capsys):
    """The bundle's requirements.lock is installed into the fresh environment (from a wheel
    folder here: no registry), and a lock that cannot be built stops before any cell runs."""
    wheels = make_wheelhouse(tmp_path / "wheels")
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("import tinypkg\nprint(tinypkg.__version__)")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="2.0\n")]
    cell.execution_count = 1
    nb.cells = [cell]
    lock = "# from requirements.txt\ntinypkg==2.0\n"
    codebook = "data/scores.csv.codebook.json"
    extra = {"requirements.lock": lock, codebook: '{"columns": []}'}
    bundle = make_bundle(tmp_path, nb, run=False, extra=extra)
    with zipfile.ZipFile(bundle) as zf:
        ids = {e["@id"]: e for e in json.loads(zf.read("ro-crate-metadata.json"))["@graph"]}
    assert ids[codebook]["description"].startswith("Codebook of data/scores.csv")
    assert ids["requirements.lock"]["description"] == "Python environment of the project"
    offline = ["--no-index", "--find-links", str(wheels)]
    assert bundle_main(["verify", str(bundle), *offline]) == 0, capsys.readouterr()
    assert "1 cell(s) match, 0 differ" in capsys.readouterr().out

    broken = make_bundle(
        tmp_path, nb, "broken.zip", run=False, extra={"requirements.lock": "tinypkg==9.9\n"}
    )
    assert bundle_main(["verify", str(broken), *offline]) == 2
    assert "the bundle's environment did not build" in capsys.readouterr().err


def test_a_notebook_of_another_language_is_listed_not_run(tmp_path, capsys):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    nb.cells = [nbformat.v4.new_code_cell("summary(cars)")]
    bundle = make_bundle(tmp_path, nb, run=False)
    assert bundle_main(["verify", str(bundle)]) == 0
    out = capsys.readouterr().out
    assert ": not-run: not a Python notebook (r)\n0 cell(s) match, 0 differ" in out
