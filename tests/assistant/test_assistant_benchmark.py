"""benchmarks/assistant.py runs (small data, one run) and ends with its JSON line; speed is not
asserted here (the machine is shared; figures come from full runs recorded in docs/assistant.md)."""

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
            str(ROOT / "benchmarks" / "assistant.py"),
            "--rows",
            "3000",
            "--runs",
            "1",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert result["test"] == "one_way_anova" and result["rows"] == 3000
    for key in ("assist_p50_s", "assist_cold_start_s", "pingouin_direct_p50_s", "overhead_ratio"):
        assert isinstance(result[key], int | float) and result[key] > 0, (key, result)
