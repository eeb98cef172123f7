"""benchmarks/sharing.py runs (one link, few repeats, a 2 MB linked dataset) and ends with its JSON line; speed is not
asserted (figures come from full runs, recorded in docs/sharing.md)."""

import pytest
from benchmark_run import run_benchmark

pytestmark = pytest.mark.slow


def test_sharing_benchmark_smoke():
    result, _ = run_benchmark(
        "sharing", "--links", "1", "--repeats", "2", "--dataset-mb", "2", timeout=600
    )
    assert result["notebook_cells"] == 200
    for key in ("public_page_cold_ms", "public_page_cached_ms", "nbconvert_direct_ms"):
        assert isinstance(result[key], int | float) and result[key] > 0, (key, result)
    # a link copies nothing (the bucket did not grow, no write reached the endpoint); the copy
    # (its peer) copies the file once, inside the store
    assert result["linked_bytes_copied"] == 0 and result["linked_write_requests"] == 0, result
    assert result["copy_bytes_copied"] == result["dataset_bytes"] >= 2 << 20, result
