"""``datadive templates validate|render|list`` through the real console entry point (offline)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]


def datadive(*args, env=None):
    e = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'contents'}", **(env or {})}
    for key in ("DATADIVE_HUB_URL", "JUPYTERHUB_API_TOKEN"):
        if not env or key not in env:
            e.pop(key, None)
    return subprocess.run(
        [sys.executable, "-m", "datadive_hub.cli", "templates", *args],
        capture_output=True,
        text=True,
        env=e,
        timeout=120,
    )


BAD = """\
id: bad
version: 1.0.0
title: Bad
language: python
inputs:
  - name: n
    type: slider
code: |
  print({{ n }})
  print({{ m }})
"""


def test_validate_reports_file_line_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    r = datadive("validate", str(bad), str(ROOT / "datadive_server_ext/templates/library"))
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert f"{bad}:7: inputs[0].type: unknown input type 'slider'" in lines[0]
    assert sum("ok (" in line for line in lines) >= 12  # the built-ins validate


def test_validate_placeholder_without_input(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD.replace("slider", "integer"))
    r = datadive("validate", "-q", str(bad))
    assert r.returncode == 1
    assert r.stdout.strip() == (
        f"{bad}:10: code: placeholder {{{{ m }}}} has no input; declare it under inputs (inputs are: n)"
    )


def test_render_builtin_prints_cells(tmp_path):
    r = datadive(
        "render",
        "t-test",
        "--values",
        json.dumps({"outcome": "score", "group": "cond", "group_a": "A", "group_b": "B"}),
    )
    assert r.returncode == 0, r.stderr
    cells = json.loads(r.stdout)
    nb = nbformat.v4.new_notebook(cells=[nbformat.from_dict(c) for c in cells])
    nbformat.validate(nb)
    assert cells[-1]["metadata"]["datadive"]["template"] == "t-test"


def test_render_file_and_values_errors(tmp_path):
    f = tmp_path / "ok.yaml"
    f.write_text(BAD.replace("slider", "integer").replace("  print({{ m }})\n", ""))
    r = datadive("render", str(f), "--values", '{"n": 5}')
    assert r.returncode == 0 and json.loads(r.stdout)[0]["source"] == "print(5)"
    r = datadive("render", "histogram", "--values", '{"bins": "many"}')
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        "column: required: give a value",
        "bins: must be a whole number",
    ]
    r = datadive("render", "histogram", "--values", "{oops")
    assert r.returncode == 2 and "not valid JSON" in r.stderr
    r = datadive("render", "no-such")
    assert r.returncode == 1 and "built-ins: anova" in r.stderr


def test_list(tmp_path):
    r = datadive("list", "--json")
    assert r.returncode == 0
    rows = json.loads(r.stdout)
    assert len(rows) >= 12
    assert all({"id", "version", "title", "inputs"} <= set(row) for row in rows)
    assert rows[0]["inputs"]["type"] == "object"
    r = datadive("list")
    assert "t-test" in r.stdout and "Independent-samples t test" in r.stdout
    # an unreachable hub: built-ins with a note
    r = datadive("list", "--hub-url", "http://127.0.0.1:9", "--token", "x")
    assert r.returncode == 0 and "t-test" in r.stdout and "built-in templates only" in r.stderr


def test_publish_needs_hub_and_token(tmp_path):
    r = datadive("publish", str(ROOT / "datadive_server_ext/templates/library/anova.yaml"))
    assert r.returncode == 2 and "--hub-url" in r.stderr
