"""jupyter_server's own contents tests (vendored in tests/upstream) pass on DatadiveContentsManager
with S3 (moto). They need pytest-jupyter's plugin, which takes over the event loop, so they run in
their own pytest process with tests/upstream/pytest.ini."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.slow
def test_upstream_contents_suite_passes_on_s3():
    env = dict(os.environ, UPSTREAM_CM="datadive")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            os.path.join(ROOT, "tests/upstream/pytest.ini"),
            os.path.join(ROOT, "tests/upstream"),
            "-p",
            "no:logging",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    tail = "\n".join(
        line for line in proc.stdout.splitlines()[-40:] if "Task was destroyed" not in line
    )
    summary = re.findall(r"(\d+) (passed|failed|error|deselected)", proc.stdout)
    print("upstream contents tests on S3:", summary)
    assert proc.returncode == 0, tail
    counts = {k: int(n) for n, k in summary}
    assert counts.get("passed", 0) >= 150 and not counts.get("failed")
