"""Resolve a project's requirements into a lock with ``uv pip compile``."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from . import spec
from .uvcli import Sources, UvFailed, explain, run


class LockError(Exception):
    """The requirements could not be resolved; ``message`` names the package and the fix."""

    def __init__(self, message: str, package: str | None = None, log: str = ""):
        super().__init__(message)
        self.message, self.package, self.log = message, package, log


def compile_lock(
    requirements: str, sources: Sources, on_line: Callable[[str], None] | None = None
) -> str:
    """The text of ``requirements.lock`` for ``requirements`` (validated first)."""
    try:
        spec.parse_requirements(requirements)
    except spec.SpecError as e:
        raise LockError(e.message, e.package) from None
    digest = spec.requirements_digest(requirements)
    with tempfile.TemporaryDirectory(prefix="datadive-lock-") as tmp:
        (Path(tmp) / spec.REQUIREMENTS).write_text(requirements, encoding="utf-8")
        args = [
            "pip",
            "compile",
            spec.REQUIREMENTS,
            "-o",
            spec.LOCK,
            "--no-header",
            "--python",
            sources.python,
        ]
        try:
            run([*args, *sources.index_args()], sources, on_line, cwd=tmp)
        except UvFailed as e:
            message, package = explain(e.log, sources.cache_dir)
            raise LockError(message, package, e.log) from None
        except OSError as e:
            raise LockError(
                f"uv could not run ({e}); ask your administrator to install uv"
            ) from None
        pins = (Path(tmp) / spec.LOCK).read_text(encoding="utf-8")
    header = spec.LOCK_HEADER.format(digest=digest)
    note = "# Edit requirements.txt (or the Environment tab), not this file."
    return f"{header}\n{note}\n{pins}"
