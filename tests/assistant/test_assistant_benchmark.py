"""benchmarks/assistant.py runs (small data, one run) and ends with its JSON line; speed is not
asserted here (the machine is shared; figures come from full runs recorded in docs/assistant.md)."""

from __future__ import annotations

import pytest
from benchmark_run import run_benchmark

pytestmark = pytest.mark.slow


def test_benchmark_smoke():
    result, _ = run_benchmark("assistant", "--rows", "3000", "--runs", "1", timeout=600)
    assert result["test"] == "one_way_anova" and result["rows"] == 3000
    for key in ("assist_p50_s", "assist_cold_start_s", "pingouin_direct_p50_s", "overhead_ratio"):
        assert isinstance(result[key], int | float) and result[key] > 0, (key, result)
