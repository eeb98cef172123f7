"""benchmarks/history.py runs (small sizes) and ends with its JSON line; what is asserted is what
does not depend on the machine: the S3 requests a page of versions and a snapshot cost, and that
a snapshot copies no bytes (speed comes from full runs, recorded in docs/history.md)."""

from __future__ import annotations

import pytest
from benchmark_run import run_benchmark

pytestmark = pytest.mark.slow


def test_history_benchmark_smoke():
    result, _ = run_benchmark("history", "--files", "1200", "--versions", "60", timeout=600)
    assert result["versions_1000_requests"] == 2  # one LIST + one HEAD, authors from the index
    assert result["metadata_authors_versions_1000_requests"] == 52
    assert result["snapshot_10000_requests"] == 3  # ceil(1200 / 1000) LISTs + the manifest's PUT
    assert result["snapshot_bytes_copied"] == 0
    assert result["local_snapshot_10000_bytes_copied"] == 0
    assert result["copy_snapshot_1000_bytes_copied"] > 0  # the peer really copies
