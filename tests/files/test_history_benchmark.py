"""benchmarks/history.py runs (small sizes) and ends with its JSON line; what is asserted is what
does not depend on the machine: the S3 requests a page of versions and a snapshot cost, and that
a snapshot copies no bytes, and the cells a notebook comparison reports (speed comes from full runs, recorded in docs/history.md)."""

from __future__ import annotations

import pytest
from benchmark_run import run_benchmark

pytestmark = pytest.mark.slow


def test_history_benchmark_smoke():
    result, _ = run_benchmark(
        "history", "--files", "1200", "--versions", "60", "--cells", "200", timeout=600
    )
    assert result["versions_1000_requests"] == 2  # one LIST + one HEAD, authors from the index
    assert result["metadata_authors_versions_1000_requests"] == 52
    assert result["snapshot_10000_requests"] == 3  # ceil(1200 / 1000) LISTs + the manifest's PUT
    assert result["snapshot_bytes_copied"] == 0
    assert result["local_snapshot_10000_bytes_copied"] == 0
    assert result["copy_snapshot_1000_bytes_copied"] > 0  # the peer really copies
    # two versions of a 200-cell notebook: a fifth of the cells changed, 5 added, 5 removed
    assert result["diff_200_counts"] == {"added": 5, "removed": 5, "changed": 39, "unchanged": 156}
    assert result["diff_200_s"] > 0 and result["nbdiff_direct_s"] > result["nbdiff_startup_s"] > 0
