"""Free space in the environment cache: environments nobody used for a while, and folders of
builds that never finished (a server killed mid-build).

    python -m datadive_server_ext.environments.prune CACHE_DIR [--unused-days 30] [--dry-run]

An environment's last use is the time of ``last-used`` in its folder, touched whenever a kernel
starts in it or a build finds it. A pruned environment is renamed away first, then deleted, so
no server picks up a half-deleted one; a project that needs it again rebuilds it (from uv's
cache, usually in seconds).
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

from .build import MARKER

LAST_USED = "last-used"
#: a build folder older than this is a leftover (builds are bounded by the uv step timeout)
STALE_BUILD_S = 24 * 3600


def touch(env: Path) -> None:
    """Record a use of the environment ``env`` (best effort: a read-only cache still works)."""
    try:
        (env / LAST_USED).touch()
    except OSError:
        pass


def last_used(env: Path) -> float:
    for name in (LAST_USED, MARKER):
        try:
            return (env / name).stat().st_mtime
        except OSError:
            continue
    return 0.0


def prune(cache_dir: Path, unused_days: float, dry_run: bool = False) -> list[str]:
    """Remove what is unused; the names removed (or that would be, with ``dry_run``)."""
    root = cache_dir / "envs"
    now = time.time()
    removed: list[str] = []
    try:
        entries = sorted(root.iterdir())
    except FileNotFoundError:
        return removed
    for env in entries:
        if env.name.startswith(".building-"):
            old = now - env.stat().st_mtime > STALE_BUILD_S
        elif env.name.startswith(".pruning-"):
            old = True
        else:
            old = now - last_used(env) > unused_days * 86400
        if not old:
            continue
        removed.append(env.name)
        if dry_run:
            continue
        target = env
        if not env.name.startswith("."):
            target = root / f".pruning-{env.name}-{os.getpid()}"
            try:
                os.rename(env, target)
            except OSError:
                continue
        shutil.rmtree(target, ignore_errors=True)
    return removed


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m datadive_server_ext.environments.prune")
    ap.add_argument("cache_dir", type=Path, help="DatadiveExtension.environments_cache_dir")
    ap.add_argument("--unused-days", type=float, default=30.0)
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args(argv)
    names = prune(args.cache_dir, args.unused_days, args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    print(f"{verb} {len(names)} folders from {args.cache_dir / 'envs'}: {', '.join(names) or '-'}")


if __name__ == "__main__":
    main()
