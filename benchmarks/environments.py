"""Project environments: a cold build of 5 pure-Python packages from a local wheel folder, the
cache hit a server (re)start or kernel start gets, against ``uv venv`` + ``uv pip install`` of
the same packages run directly (our overhead) and ``python -m venv`` + ``pip install``.

Prints a human summary, then one JSON object as the last line:
    {"cold_build_s", "cache_hit_s", "uv_direct_s", "pip_direct_s", "cold_vs_uv_ratio", ...}
Targets: cache hit < 1 s, cold build < 30 s and at most 1.5x uv run directly.

    python benchmarks/environments.py [--rounds N]

Every round starts from empty caches (ours and uv's); the medians are reported. No registry is
reached: the packages are written into a temporary folder (tests/wheelhouse.py).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "contents"), str(ROOT / "tests")]

from wheelhouse import PURE, make_wheelhouse  # noqa: E402

from datadive_server_ext.environments.build import EnvironmentCache  # noqa: E402
from datadive_server_ext.environments.lock import compile_lock  # noqa: E402
from datadive_server_ext.environments.uvcli import Sources, uv_bin  # noqa: E402


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def run(*cmd: str, env: dict | None = None) -> None:
    subprocess.run(cmd, check=True, capture_output=True, env={**os.environ, **(env or {})})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="datadive-bench-env-") as tmp_name:
        tmp = Path(tmp_name)
        wheels = make_wheelhouse(tmp / "wheels")
        requirements = "".join(f"{name}\n" for name in PURE)
        lock = compile_lock(
            requirements,
            Sources(cache_dir=tmp / "lockcache", index_urls=(), find_links=(str(wheels),)),
        )
        cold, hit, uv_direct, pip_direct = [], [], [], []
        for i in range(args.rounds):
            sources = Sources(cache_dir=tmp / f"cache{i}", index_urls=(), find_links=(str(wheels),))
            cold.append(timed(lambda s=sources: EnvironmentCache(s).build(lock)))
            # a server restart: a new cache object over the same folder, same lock
            hit.append(timed(lambda s=sources: EnvironmentCache(s).build(lock)))
            assert EnvironmentCache(sources).build(lock).cached

            venv, uv_cache = tmp / f"uvvenv{i}", tmp / f"uvcache{i}"

            def uv_run(venv=venv, uv_cache=uv_cache):
                uv = [uv_bin(), "--cache-dir", str(uv_cache)]
                run(uv[0], "venv", str(venv), "--python", sys.executable, *uv[1:])
                run(
                    uv[0],
                    "pip",
                    "install",
                    "--python",
                    str(venv / "bin" / "python"),
                    "--no-index",
                    "--find-links",
                    str(wheels),
                    *uv[1:],
                    *PURE,
                )

            uv_direct.append(timed(uv_run))
            pvenv = tmp / f"pipvenv{i}"

            def pip_run(pvenv=pvenv):
                run(sys.executable, "-m", "venv", "--without-pip", str(pvenv))
                run(
                    sys.executable,
                    "-m",
                    "pip",
                    "--python",
                    str(pvenv / "bin" / "python"),
                    "install",
                    "-q",
                    "--no-index",
                    "--no-cache-dir",
                    "--find-links",
                    str(wheels),
                    *PURE,
                    env={"PIP_DISABLE_PIP_VERSION_CHECK": "1"},
                )

            pip_direct.append(timed(pip_run))
        # a kernel start with a built environment: the launcher picks the environment
        state = tmp / "state.json"
        project = tmp / "project"
        project.mkdir()
        (project / "requirements.lock").write_text(lock)
        state.write_text(json.dumps({"project_dir": str(project), "sources": sources.to_json()}))
        code = "import sys; from pathlib import Path; from datadive_server_ext.environments.launch import choose; print(choose(Path(sys.argv[1])))"
        env = {"PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "contents")])}
        launcher = [
            timed(lambda: run(sys.executable, "-c", code, str(state), env=env)) for _ in range(5)
        ]
    med = statistics.median
    result = {
        "cold_build_s": round(med(cold), 3),
        "cache_hit_s": round(med(hit), 4),
        "uv_direct_s": round(med(uv_direct), 3),
        "pip_direct_s": round(med(pip_direct), 3),
        "kernel_launcher_s": round(med(launcher), 3),
        "packages": len(PURE),
        "rounds": args.rounds,
        "targets": {"cache_hit_s": 1.0, "cold_build_s": 30.0, "cold_vs_uv_ratio": 1.5},
        "load_average_1min": round(max(load_before, os.getloadavg()[0]), 2),
        "measured_at": time.strftime("%Y-%m-%d %H:%M", time.localtime()),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }
    result["cold_vs_uv_ratio"] = round(result["cold_build_s"] / result["uv_direct_s"], 2)
    result["meets_targets"] = (
        result["cache_hit_s"] < 1.0
        and result["cold_build_s"] < 30
        and result["cold_vs_uv_ratio"] <= 1.5
    )
    print(
        f"{len(PURE)} pure-Python packages from a local folder, median of {args.rounds} rounds, "
        f"empty caches each round (load average {result['load_average_1min']} on {result['cpus']} CPUs):"
    )
    print(
        f"  Datadive cold build   {result['cold_build_s']:.3f} s (uv venv + uv pip sync + checks)"
    )
    print(f"  Datadive cache hit    {result['cache_hit_s'] * 1000:.1f} ms (in the server)")
    print(
        f"  kernel launcher       {result['kernel_launcher_s']:.3f} s (a new Python picking the environment)"
    )
    print(f"  uv venv + uv pip install, directly   {result['uv_direct_s']:.3f} s")
    print(f"  python -m venv + pip install         {result['pip_direct_s']:.3f} s")
    print(f"  overhead vs uv directly: {result['cold_vs_uv_ratio']}x")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
