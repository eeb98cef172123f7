"""Kernel launcher of a project environment: ``python -m ...launch STATE_FILE -f CONN``.

Reads the project's state file (written by the server extension), finds the environment of the
project's current lock (building it when the lock changed since, e.g. another member added a
package) and replaces itself with that environment's ``ipykernel_launcher``. When the lock cannot
be built, the last environment that built is used and the error is recorded for the panel.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

from . import piprecord, prune, spec
from .build import BuildError, EnvironmentCache
from .kernelspec import read_json, write_json
from .piprecord import STATE_ENV
from .uvcli import Sources


def choose(state_file: Path) -> str:
    """The python executable the project's kernel runs with."""
    state = read_json(state_file)
    sources = Sources.from_json(state.get("sources") or {"cache_dir": ""})
    cache = EnvironmentCache(sources)
    good = state.get("env_key")
    lock_file = Path(state.get("project_dir", "")) / spec.LOCK
    try:
        lock_text = lock_file.read_text(encoding="utf-8")
    except OSError:
        lock_text = None
    digest = hashlib.sha256(lock_text.encode()).hexdigest() if lock_text is not None else None
    if digest is not None and digest == state.get("failed_lock"):
        # the same lock failed before: start at once in the last good environment
        print(
            "Datadive: this project's lock failed to build before (see the Environment tab); "
            "using the previous environment. Press Build there to try again.",
            file=sys.stderr,
        )
    elif lock_text is not None:
        try:
            built = cache.build(lock_text, on_line=lambda line: print(line, file=sys.stderr))
            if built.key != good or state.get("last_error"):
                state.update(
                    env_key=built.key, last_error=None, failed_lock=None, built_at=time.time()
                )
                write_json(state_file, state)
            prune.touch(built.path)
            return built.python
        except BuildError as e:
            state["last_error"] = {
                "message": e.message,
                "package": e.package,
                "log": e.log[-5000:],
                "at": time.time(),
            }
            state["failed_lock"] = digest
            write_json(state_file, state)
            print(f"Datadive: the project environment did not build: {e.message}", file=sys.stderr)
    if good and cache.ready(good):
        prune.touch(cache.path(good))
        return str(cache.path(good) / "bin" / "python")
    print("Datadive: no project environment is built; using the server's Python", file=sys.stderr)
    return sys.executable


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        sys.exit(
            "usage: python -m datadive_server_ext.environments.launch STATE_FILE -f CONNECTION_FILE"
        )
    python = choose(Path(argv[1]))
    os.environ[STATE_ENV] = str(Path(argv[1]).resolve())
    args = [python, "-m", "ipykernel_launcher", f"--ext={piprecord.__name__}", *argv[2:]]
    os.execv(python, args)


if __name__ == "__main__":
    main(sys.argv)
