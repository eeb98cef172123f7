"""Run a script of benchmarks/ as ``./dev bench`` would (small sizes) and read its JSON line.

The smoke tests of the benchmarks use it: they check that a benchmark still runs and what its
result says that does not depend on the machine; speed comes from full runs, recorded in docs/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_benchmark(name: str, *args: str, timeout: float = 600) -> tuple[dict, list[str]]:
    """Run ``benchmarks/<name>.py ARGS``; its last line parsed as JSON, and all its lines."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'contents'}"}
    r = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / f"{name}.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    lines = r.stdout.strip().splitlines()
    return json.loads(lines[-1]), lines
