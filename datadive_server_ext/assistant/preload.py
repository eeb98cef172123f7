"""Warm the assistant up in the background when a server starts, so the panel's first question
does not pay for importing pandas, scipy, statsmodels and pingouin (several seconds).

:func:`start` runs :func:`warm_up` in a daemon thread: it answers two small questions (a one-way
ANOVA and an ANCOVA) on a tiny CSV, which imports every module an answer needs, including those
pingouin and statsmodels only import on first use. A failure is only logged: the assist route
then answers with its own message (e.g. which package to install).
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
import warnings
from pathlib import Path

#: the tiny data set: 3 groups of 6, an outcome and a covariate
_ROWS = [
    (g, 10 + 2 * i + 3 * k + (i * 7 + k) % 5, 20 + i + k)
    for k, g in enumerate(("a", "b", "c"))
    for i in range(6)
]
_QUESTIONS = (
    {"outcome": "score", "group": "group"},
    {"outcome": "score", "group": "group", "covariate": "age"},
)

THREAD_NAME = "datadive-assist-preload"


def warm_up() -> float:
    """Answer the small questions once (imports and first-use setup); the seconds it took.
    Raises what the assistant raises (ImportError when the analysis packages are missing)."""
    from . import assist_file

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="datadive-preload-") as folder:
        path = Path(folder) / "warm-up.csv"
        path.write_text("group,score,age\n" + "".join(f"{g},{s},{a}\n" for g, s, a in _ROWS))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for question in _QUESTIONS:
                assist_file(path, question, shown_path="warm-up.csv")
    return time.perf_counter() - t0


def _run(log: logging.Logger) -> None:
    try:
        seconds = warm_up()
    except Exception as e:  # the route reports the same problem clearly when asked
        log.warning(
            "Datadive: the assistant could not be preloaded (%s: %s); the assistant route will "
            "say what is missing when it is used",
            type(e).__name__,
            e,
        )
    else:
        log.info("Datadive: assistant preloaded in %.1f s", seconds)


def start(log: logging.Logger) -> threading.Thread:
    """Start :func:`warm_up` in a daemon thread (does not delay the caller); the thread."""
    thread = threading.Thread(target=_run, args=(log,), name=THREAD_NAME, daemon=True)
    thread.start()
    return thread
