"""``datadive codebook DATA_FILE [--json] [--write]`` through ``python -m datadive_hub.cli``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from survey_files import LIKERT

ROOT = Path(__file__).resolve().parents[2]


def datadive(*args, cwd):
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'contents'}"}
    return subprocess.run(
        [sys.executable, "-m", "datadive_hub.cli", "codebook", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def test_json_write_and_stored(qualtrics_files):
    folder, csv_path, _ = qualtrics_files
    out = datadive("survey.csv", "--json", cwd=folder)
    assert out.returncode == 0, out.stderr
    cb = json.loads(out.stdout)
    q3 = next(c for c in cb["columns"] if c["name"] == "Q3_1")
    assert q3["level"] == "ordinal" and [v["label"] for v in q3["values"]] == LIKERT
    assert not (folder / "survey.csv.codebook.json").exists()

    out = datadive("survey.csv", "--write", cwd=folder)
    assert out.returncode == 0, out.stderr
    assert "written to survey.csv.codebook.json" in out.stdout
    assert "IPAddress" in out.stdout and "personal" in out.stdout
    stored = folder / "survey.csv.codebook.json"
    assert json.loads(stored.read_text()) == cb

    # an edited codebook is what later reads see, and --write does not overwrite it
    cb["columns"][0]["question"] = "When they started"
    stored.write_text(json.dumps(cb))
    out = datadive("survey.csv", cwd=folder)
    assert "stored in survey.csv.codebook.json" in out.stdout and "When they started" in out.stdout
    out = datadive("survey.csv", "--write", cwd=folder)
    assert out.returncode == 1 and "--force" in out.stderr
    assert json.loads(stored.read_text())["columns"][0]["question"] == "When they started"
    out = datadive("survey.csv", "--write", "--force", cwd=folder)
    assert out.returncode == 0
    assert json.loads(stored.read_text())["columns"][0]["question"] == "Start Date"


def test_errors_say_what_to_do(tmp_path, qualtrics_files):
    folder, _, _ = qualtrics_files
    out = datadive("missing.csv", cwd=tmp_path)
    assert out.returncode == 1 and "No such data file" in out.stderr
    out = datadive("survey.qsf", cwd=folder)
    assert out.returncode == 1 and "open the CSV export" in out.stderr
    (folder / "survey.csv.codebook.json").write_text(
        '{"version": 1, "columns": [{"name": 3, "level": "scale"}]}'
    )
    out = datadive("survey.csv", cwd=folder)
    assert (
        out.returncode == 1
        and "survey.csv.codebook.json: columns[0].name: 3 is not of type" in out.stderr
    ), out.stderr
