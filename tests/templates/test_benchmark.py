"""benchmarks/templates.py runs (few iterations) and ends with its JSON line; speed is not asserted
here (the machine is shared; figures come from full runs recorded in docs/templates.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_benchmark_smoke():
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'contents'}"}
    r = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "templates.py"),
            "--renders",
            "3",
            "--inserts",
            "2",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    lines = r.stdout.strip().splitlines()
    assert len(lines) >= 2 and lines[0].startswith("render: ")  # the human summary first
    result = json.loads(lines[-1])
    for key in ("render_p50_ms", "render_p99_ms", "insert_p50_ms"):
        assert isinstance(result[key], int | float) and result[key] > 0, (key, result)
    assert result["render_p50_ms"] <= result["render_p99_ms"]
    assert result["render_count"] == 3 * result["render_templates"]
    assert result["render_templates"] >= 12
    assert result["insert_count"] == 2 and result["notebook_cells"] == 200


def test_benchmark_rejects_bad_counts():
    r = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "templates.py"), "--inserts", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "at least 1" in r.stderr
