"""Fixtures for the survey-data tests (every file is written by the tests themselves).

- ``qualtrics_files``: ``(folder, csv_path, qsf_path)``: the ``.qsf`` and the CSV export (3 header
  rows, numeric values) of 8 responses, written in tmp_path as survey.csv + survey.qsf. The
  survey has multiple choice (single answer with an "Other" text box, and multiple answer), a
  number text entry, a matrix Likert whose answers are shown "Strongly agree" first and recoded
  5..1, a slider, a free-text entry, a loop & merge block (Coffee, Tea), embedded data
  (condition, panel_id) and a descriptive text.
- ``sav_path``: an SPSS file written with pyreadstat: measures, variable and value labels, a
  discrete missing code (sex 9), a missing range (satisfaction 97-99) and a discrete one (income -1).
- (The writers and EXPORT_ROWS / LIKERT / SAV_FRAME live in survey_files.py.)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "templates"))  # jpserver
sys.path.insert(0, str(Path(__file__).parent))  # survey_files

from survey_files import qsf, write_export, write_sav  # noqa: E402


@pytest.fixture
def qualtrics_files(tmp_path):
    folder = tmp_path / "qualtrics"
    folder.mkdir()
    csv_path = write_export(folder / "survey.csv")
    qsf_path = folder / "survey.qsf"
    qsf_path.write_text(json.dumps(qsf()), encoding="utf-8")
    return folder, csv_path, qsf_path


@pytest.fixture
def sav_path(tmp_path):
    return write_sav(tmp_path / "study.sav")
