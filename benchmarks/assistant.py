"""The test assistant on 100,000 rows, versus pingouin called directly on the same data.

Run on its own: ``python benchmarks/assistant.py [--rows N] [--runs N]`` (the last line of
output is one JSON object):

- ``assist_p50_s``: median of ``assist_file`` on a CSV of 100,000 rows (a numeric outcome, three
  groups): read, checks (Shapiro-Wilk per group, Levene), recommendation, the test, post hoc,
  robust alternative, APA line and cell;
- ``checks_p50_s``: the checks and the recommendation alone, on the frame already read;
- ``assist_cold_start_s``: ``datadive assist FILE ... --json`` as a new process (imports included);
- ``pingouin_direct_p50_s``: the peer, in the same run: what a user types by hand with pingouin
  on the same file (``read_csv``, ``pg.normality`` per group, ``pg.homoscedasticity``,
  ``pg.anova``, ``pg.pairwise_tukey``);
- ``pingouin_import_s``: ``python -c "import pingouin"`` (most of the cold start);
- ``overhead_ratio``: ``assist_p50_s / pingouin_direct_p50_s``.

Target: checks + recommendation under 1 s on 100,000 rows.
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
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for p in (str(ROOT / "contents"), str(ROOT)):
    if p not in sys.path:
        sys.path.insert(0, p)


def make_data(path: Path, rows: int) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(42)
    group = rng.choice(["control", "low", "high"], rows)
    shift = pd.Series(group).map({"control": 0.0, "low": 0.05, "high": 0.1}).to_numpy()
    pd.DataFrame(
        {"id": np.arange(rows), "score": rng.normal(50, 10, rows) + shift * 10, "group": group}
    ).to_csv(path, index=False)


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def measure(rows: int = 100_000, runs: int = 7) -> dict:
    import pandas as pd
    import pingouin as pg

    from datadive_server_ext.assistant import Question, assist_file
    from datadive_server_ext.assistant.analysis import assess, decide
    from datadive_server_ext.assistant.prepare import prepare

    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "study.csv"
        make_data(path, rows)
        question = {"outcome": "score", "group": "group"}
        answer = assist_file(path, question)  # warm-up (imports)
        full = timed(lambda: assist_file(path, question), runs)

        df = pd.read_csv(path)
        q = Question.from_dict(question)

        def checks_only():
            prep = prepare(df, q)
            decide(q.kind, assess(prep, q)[1])

        checks = timed(checks_only, runs)

        def by_hand():
            d = pd.read_csv(path)
            pg.normality(d, dv="score", group="group")
            pg.homoscedasticity(d, dv="score", group="group")
            pg.anova(data=d, dv="score", between="group", detailed=True)
            pg.pairwise_tukey(data=d, dv="score", between="group")

        by_hand()
        direct = timed(by_hand, runs)

        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "contents")])}
        cold = []
        for _ in range(3):
            t = time.perf_counter()
            r = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "datadive_hub.cli",
                    "assist",
                    str(path),
                    "--outcome",
                    "score",
                    "--group",
                    "group",
                    "--json",
                ],
                capture_output=True,
                text=True,
                env=env,
                timeout=300,
            )
            cold.append(time.perf_counter() - t)
            assert r.returncode == 0, r.stderr
            assert json.loads(r.stdout)["test"] == answer["test"]
        imports = []
        for _ in range(3):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", "import pingouin"], check=True, env=env)
            imports.append(time.perf_counter() - t)
    p50 = statistics.median(full)
    direct_p50 = statistics.median(direct)
    return {
        "rows": rows,
        "test": answer["test"],
        "assist_p50_s": round(p50, 4),
        "checks_p50_s": round(statistics.median(checks), 4),
        "assist_cold_start_s": round(statistics.median(cold), 3),
        "pingouin_direct_p50_s": round(direct_p50, 4),
        "pingouin_import_s": round(statistics.median(imports), 3),
        "overhead_ratio": round(p50 / direct_p50, 2),
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=7)
    a = ap.parse_args()
    out = measure(a.rows, a.runs)
    for k, v in out.items():
        print(f"{k:24s} {v}", file=sys.stderr)
    print(json.dumps(out))
