"""benchmarks/templates.py runs (few iterations) and ends with its JSON line; speed is not asserted
here (the machine is shared; figures come from full runs recorded in docs/templates.md)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from benchmark_run import ROOT, run_benchmark

pytestmark = pytest.mark.slow


def test_benchmark_smoke():
    result, lines = run_benchmark("templates", "--renders", "3", "--inserts", "2", timeout=300)
    assert len(lines) >= 2 and lines[0].startswith("render: ")  # the human summary first
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
