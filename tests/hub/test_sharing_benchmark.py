"""benchmarks/sharing.py runs (one link, few repeats) and ends with its JSON line; speed is not
asserted (figures come from full runs, recorded in docs/sharing.md)."""

import pytest
from benchmark_run import run_benchmark

pytestmark = pytest.mark.slow


def test_sharing_benchmark_smoke():
    result, _ = run_benchmark("sharing", "--links", "1", "--repeats", "2", timeout=600)
    assert result["notebook_cells"] == 200
    for key in ("public_page_cold_ms", "public_page_cached_ms", "nbconvert_direct_ms"):
        assert isinstance(result[key], int | float) and result[key] > 0, (key, result)
