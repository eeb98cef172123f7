"""Data files other than plain CSV: a Qualtrics CSV export (three header rows), Excel, a reader
hook (how the survey package plugs in), and files the assistant cannot read."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from datadive_server_ext.assistant import AssistError, assist_file


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(11)
    return pd.DataFrame(
        {
            "Q1": np.round(rng.normal(5, 1.5, 60), 1),
            "Q2": ["Yes", "No"] * 30,
        }
    )


def test_a_qualtrics_export_skips_its_header_rows(frame, data_dir, clean_kernel):
    path = data_dir / "qualtrics.csv"
    texts = {"Q1": "How satisfied are you?", "Q2": "Would you come back?"}
    ids = {c: json.dumps({"ImportId": f"QID{i}"}) for i, c in enumerate(frame.columns, 1)}
    header = pd.DataFrame([texts, ids])
    pd.concat([header, frame.astype(str)]).to_csv(path, index=False)
    out = assist_file(path, {"outcome": "Q1", "group": "Q2"}, shown_path="qualtrics.csv")
    assert out["test"] in ("t_test_ind", "welch_t", "mann_whitney")
    assert "'skiprows': [1, 2]" in out["code"]  # read as the survey package reads an export
    run = clean_kernel.run(out["cell"]["source"])
    assert run.error is None and run.stdout.strip().splitlines()[-1] == out["apa"]
    assert clean_kernel.run("print(len(df))").stdout.strip() == "60"


def test_excel(frame, data_dir, clean_kernel):
    path = data_dir / "study.xlsx"
    frame.to_excel(path, index=False)
    out = assist_file(path, {"outcome": "Q1", "mu": 5}, shown_path="study.xlsx")
    assert "pd.read_excel('study.xlsx')" in out["code"]
    run = clean_kernel.run(out["cell"]["source"])
    assert run.error is None and run.stdout.strip().splitlines()[-1] == out["apa"]


def test_a_reader_hook_is_used(frame, tmp_path):
    path = tmp_path / "survey.qsf"
    path.write_text("{}")
    seen = []

    def reader(p):
        seen.append(p)
        return frame, {"Q1": {"level": "scale"}}

    out = assist_file(path, {"outcome": "Q1", "mu": 5}, reader=reader)
    assert seen == [str(path)] and out["test"] in ("one_sample_t", "wilcoxon_one_sample")


def test_files_it_cannot_read(tmp_path):
    (tmp_path / "notes.docx").write_bytes(b"PK")
    with pytest.raises(AssistError, match="reads CSV, Excel"):
        assist_file(tmp_path / "notes.docx", {"outcome": "a"})
    (tmp_path / "broken.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(AssistError, match="Could not read broken.xlsx"):
        assist_file(tmp_path / "broken.xlsx", {"outcome": "a"})


def test_the_survey_package_plugs_in_with_its_loading_code(frame, tmp_path, monkeypatch):
    import sys
    import types

    csv = tmp_path / "export.csv"
    frame.to_csv(csv, index=False)
    qsf = tmp_path / "survey.qsf"
    qsf.write_text("{}")
    survey = types.ModuleType("datadive_server_ext.survey")
    survey.read_table = lambda p: (pd.read_csv(csv), {})
    survey.read_code = lambda p, shown_path=None: [f"df = pd.read_csv({str(csv)!r})  # survey"]
    monkeypatch.setitem(sys.modules, "datadive_server_ext.survey", survey)
    out = assist_file(qsf, {"outcome": "Q1", "group": "Q2"})
    assert "# survey" in out["code"]
    # without read_code the cell could not load the same frame: the survey reader is not used
    del survey.read_code
    with pytest.raises(AssistError, match="needs the survey reader"):
        assist_file(qsf, {"outcome": "Q1", "group": "Q2"})
