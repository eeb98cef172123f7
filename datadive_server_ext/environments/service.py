"""Project environments for one user server: status, edits of the requirements, builds.

The files (``requirements.txt``, ``requirements.lock``) are read and written by the caller
through the contents manager, so they reach the project's store and versions like any file; this
class resolves, builds in the background, registers the project's kernel and keeps per project a
state file (last environment that built, last error with its log) and, in memory, the progress
of a running build.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import kernelspec, prune, spec
from .build import BuildError, EnvironmentCache
from .lock import LockError, compile_lock
from .uvcli import Sources

MAX_LOG_LINES = 2000


@dataclass(frozen=True)
class Project:
    """A project as this server sees it: its id, name, folder label, working copy, access."""

    id: str
    name: str
    folder: str
    dir: Path
    writable: bool


class Progress:
    """A running (or the last) build of one project, for the panel's progress bar and log."""

    def __init__(self) -> None:
        self.running = True
        self.phase = "starting"
        self.fraction = 0.0
        self.lines: list[str] = []
        self.started_at = time.time()
        self.finished_at: float | None = None
        self.error: str | None = None

    def line(self, text: str) -> None:
        self.lines.append(text)
        del self.lines[:-MAX_LOG_LINES]

    def to_json(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "phase": self.phase,
            "progress": round(self.fraction, 3),
            "log": "\n".join(self.lines),
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "error": self.error,
        }


class Environments:
    def __init__(self, sources: Sources, state_dir: Path, kernels_dir: Path, log: logging.Logger):
        self.sources = sources
        self.cache = EnvironmentCache(sources)
        self.state_dir = state_dir
        self.kernels_dir = kernels_dir
        self.log = log
        self.progress: dict[str, Progress] = {}
        self.tasks: dict[str, asyncio.Task[Any]] = {}

    # -- state -----------------------------------------------------------------------------
    def state_file(self, project: Project) -> Path:
        return self.state_dir / f"{kernelspec.safe_id(project.id)}.json"

    def state(self, project: Project) -> dict[str, Any]:
        return kernelspec.read_json(self.state_file(project))

    def _save_state(self, project: Project, **changes: Any) -> dict[str, Any]:
        state = self.state(project)
        state.update(
            project_id=project.id,
            name=project.name,
            project_dir=str(project.dir),
            writable=project.writable,
            sources=self.sources.to_json(),
            **changes,
        )
        kernelspec.write_json(self.state_file(project), state)
        return state

    def register_kernel(self, project: Project) -> str:
        kernelspec.install(self.kernels_dir, project.id, project.name, self.state_file(project))
        return kernelspec.kernel_name(project.id)

    # -- status ----------------------------------------------------------------------------
    def status(
        self, project: Project, requirements: str | None, lock: str | None
    ) -> dict[str, Any]:
        state = self.state(project)
        out: dict[str, Any] = {
            "enabled": True,
            "project": {
                "id": project.id,
                "name": project.name,
                "folder": project.folder,
                "writable": project.writable,
            },
            "files": {"requirements": spec.REQUIREMENTS, "lock": spec.LOCK},
            "requirements": {
                "present": requirements is not None,
                "packages": [],
                "error": None,
                "text": requirements or "",
            },
            "lock": {
                "present": lock is not None,
                "stale": False,
                "pins": [],
                "error": None,
                "text": lock or "",
            },
        }
        req_digest = None
        if requirements is not None:
            try:
                out["requirements"]["packages"] = [
                    str(r) for r in spec.parse_requirements(requirements)
                ]
                req_digest = spec.requirements_digest(requirements)
            except spec.SpecError as e:
                out["requirements"]["error"] = e.message
        lock_key = None
        if lock is not None:
            try:
                pins = spec.parse_lock(lock)
                out["lock"]["pins"] = [p.line() for p in pins]
                lock_key = self.cache.key_of(lock)
            except (spec.SpecError, BuildError) as e:
                out["lock"]["error"] = getattr(e, "message", str(e))
            source = spec.lock_source_digest(lock)
            out["lock"]["stale"] = bool(req_digest and source != req_digest)
        elif req_digest is not None:
            out["lock"]["stale"] = True
        key = state.get("env_key")
        env = None
        if key and self.cache.ready(key):
            built = self.cache.cached(key)
            env = {
                "key": key,
                "installed": built.installed,
                "from_image": built.from_image,
                "current": key == lock_key,
                "kernel": kernelspec.kernel_name(project.id),
                "kernel_display_name": f"Python ({project.name})",
                "built_at": state.get("built_at"),
            }
        out["environment"] = env
        out["cached"] = bool(lock_key and self.cache.ready(lock_key))
        progress = self.progress.get(project.id)
        out["build"] = progress.to_json() if progress else None
        out["last_error"] = state.get("last_error")
        return out

    # -- edits -----------------------------------------------------------------------------
    async def relock(self, requirements: str, on_line: Callable[[str], None] | None = None) -> str:
        """The lock for ``requirements`` (LockError names the package and the fix)."""
        return await asyncio.to_thread(compile_lock, requirements, self.sources, on_line)

    # -- builds ----------------------------------------------------------------------------
    def building(self, project: Project) -> bool:
        task = self.tasks.get(project.id)
        return task is not None and not task.done()

    def start_build(
        self,
        project: Project,
        requirements: str | None,
        lock: str | None,
        save_lock: Callable[[str], Awaitable[None]] | None,
    ) -> Progress:
        """Start building in the background (re-locking first when the lock is missing or
        stale and ``save_lock`` may write it); the panel polls ``status`` for progress."""
        progress = self.progress[project.id] = Progress()
        self.tasks[project.id] = asyncio.create_task(
            self._build(project, requirements, lock, save_lock, progress)
        )
        return progress

    async def wait(self, project: Project) -> None:
        task = self.tasks.get(project.id)
        if task is not None:
            await asyncio.shield(task)

    async def _build(
        self,
        project: Project,
        requirements: str | None,
        lock: str | None,
        save_lock: Callable[[str], Awaitable[None]] | None,
        progress: Progress,
    ) -> None:
        loop = asyncio.get_running_loop()

        def line(text: str) -> None:
            loop.call_soon_threadsafe(progress.line, text)

        def phase(name: str, fraction: float) -> None:
            def set_() -> None:
                progress.phase, progress.fraction = name, fraction

            loop.call_soon_threadsafe(set_)

        failing: str | None = None
        try:
            stale = requirements is not None and (
                lock is None or spec.lock_source_digest(lock) != _digest_or_none(requirements)
            )
            if stale and save_lock is not None and requirements is not None:
                progress.phase, progress.fraction = "resolving the requirements", 0.02
                lock = await self.relock(requirements, line)
                await save_lock(lock)
            if lock is None:
                raise BuildError(
                    f"The project has no {spec.LOCK} yet; add a package (or write "
                    f"{spec.REQUIREMENTS}) and build as an editor of the project"
                )
            failing = hashlib.sha256(lock.encode()).hexdigest()  # if the build below fails
            built = await asyncio.to_thread(self.cache.build, lock, line, phase)
            failing = None
            prune.touch(built.path)
            self._save_state(
                project, env_key=built.key, built_at=time.time(), last_error=None, failed_lock=None
            )
            kernel = await asyncio.to_thread(self.register_kernel, project)
            progress.phase, progress.fraction = "done", 1.0
            progress.line(
                f"Environment {built.key} {'from the cache' if built.cached else 'built'} in "
                f"{built.seconds:.2f} s; kernel {kernel!r} (Python ({project.name}))"
            )
            self.log.info(
                "Datadive: environment of project %s ready (%s, cached=%s, %.2f s)",
                project.name,
                built.key,
                built.cached,
                built.seconds,
            )
        except (BuildError, LockError) as e:
            progress.error = e.message
            progress.phase = "failed"
            if e.log:
                for ln in e.log.splitlines()[-200:]:
                    progress.line(ln)
            log_text = "\n".join(progress.lines)[-20000:]
            # a lock that failed to build is not retried at each kernel start (launch.py)
            failed = {"failed_lock": failing} if failing else {}
            self._save_state(
                project,
                last_error={
                    "message": e.message,
                    "package": e.package,
                    "log": log_text,
                    "at": time.time(),
                },
                **failed,
            )
            self.log.warning(
                "Datadive: environment of project %s failed: %s", project.name, e.message
            )
        except Exception as e:  # an unexpected failure must still end the build and say why
            progress.error = f"The build failed unexpectedly ({type(e).__name__}: {e})"
            progress.phase = "failed"
            self._save_state(
                project,
                last_error={
                    "message": progress.error,
                    "package": None,
                    "log": "\n".join(progress.lines)[-20000:],
                    "at": time.time(),
                },
            )
            self.log.exception("Datadive: environment build of %s", project.name)
        finally:
            progress.running = False
            progress.finished_at = time.time()


def _digest_or_none(requirements: str) -> str | None:
    try:
        return spec.requirements_digest(requirements)
    except spec.SpecError:
        return None
