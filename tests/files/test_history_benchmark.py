"""benchmarks/history.py runs (small sizes) and ends with its JSON line; what is asserted is what
does not depend on the machine: the S3 requests a page of versions and a snapshot cost, and that
a snapshot copies no bytes (speed comes from full runs, recorded in docs/history.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_history_benchmark_smoke():
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'contents'}"}
    r = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "history.py"),
            "--files",
            "1200",
            "--versions",
            "60",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert result["versions_1000_requests"] == 2  # one LIST + one HEAD, authors from the index
    assert result["metadata_authors_versions_1000_requests"] == 52
    assert result["snapshot_10000_requests"] == 3  # ceil(1200 / 1000) LISTs + the manifest's PUT
    assert result["snapshot_bytes_copied"] == 0
    assert result["local_snapshot_10000_bytes_copied"] == 0
    assert result["copy_snapshot_1000_bytes_copied"] > 0  # the peer really copies
