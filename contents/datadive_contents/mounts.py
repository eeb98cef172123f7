"""Projects as folders of a user's server: mounts, the project list, and the folder links.

- :class:`Mount`: one project's store and working copy, shown under a folder label.
- :class:`ProjectList`: the user's projects with sticky folder labels (:mod:`.folders`); the last
  known list (in memory and in ``projects.json``) stands in when the service cannot answer.
- :func:`link_folders`: ``<root>/<label>`` symlinks to each project's working copy.

The working copy of a project lives at ``.datadive-workingcopy/projects/<id>/files`` and never
moves; a label only names it (see docs/storage.md).
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import logging
import os
import re
import time
from collections.abc import Callable

from .folders import assign_folders
from .stores import ObjectStore
from .workingcopy import WorkingCopy

STATE_DIR = ".datadive-workingcopy"
#: where, under STATE_DIR, each project's working copy lives: projects/<id>/files
PROJECTS_DIR = "projects"


class Mount:
    """One store shown at ``folder`` ("" in single-root mode).

    In Datadive mode a mount belongs to a project id: its working copy, sync state and uploads
    never change project; ``folder`` is only the label it is shown under and may change (a
    rename). ``attached`` is False once the project left the user's list (deleted, access
    removed): the mount is then never synced, and its unsent local changes are reported."""

    def __init__(
        self,
        key: str,
        folder: str,
        store: ObjectStore,
        wc: WorkingCopy,
        role: str,
        project_id: str | None,
    ):
        self.key = key
        self.folder = folder
        self.store = store
        self.wc = wc
        self.role = role
        self.project_id = project_id
        self.attached = True
        self.name = folder
        self.unsent: list[str] = []

    @property
    def writable(self) -> bool:
        return self.role != "viewer"

    @property
    def syncs(self) -> bool:
        """Uploads and deletions of this mount may reach its store."""
        return self.attached and self.writable


def project_home(root: str, project_id: str) -> str:
    """``<root>/.datadive-workingcopy/projects/<id>``: the working copy (``files``), its state
    (``state.sqlite``) and temp files of one project. Unusual ids are hashed into a name."""
    safe = project_id if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", project_id) else None
    safe = safe or hashlib.sha256(project_id.encode()).hexdigest()
    return os.path.join(root, STATE_DIR, PROJECTS_DIR, safe)


def reason(e: BaseException) -> str:
    """A short text for why a call to the service failed."""
    if isinstance(e, TimeoutError):
        return "no answer in time"
    return getattr(e, "message", None) or str(e) or type(e).__name__


class ProjectUnavailable(Exception):
    """The service cannot list projects and no earlier list is known."""


class ProjectList:
    """The projects of this server's user, with folder labels, cached for ``cache_seconds``.

    When ``source`` fails or does not answer within ``timeout`` (once a list is known), the last
    known list is returned and ``error`` says why. Labels and the last list are kept in
    ``state_file`` so that they survive a restart."""

    def __init__(self, state_file: str, log: logging.Logger) -> None:
        self.state_file = state_file
        self.log = log
        self.error: str | None = None
        self._projects: list[dict] | None = None
        self._at = 0.0
        self._state: dict | None = None
        self._lock = asyncio.Lock()

    async def get(self, source: Callable, cache_seconds: float, timeout: float) -> list[dict]:
        if self._fresh(cache_seconds):
            return self._projects  # type: ignore[return-value]
        async with self._lock:  # one question to the service at a time, one state writer
            if self._fresh(cache_seconds):
                return self._projects  # type: ignore[return-value]
            return await self._fetch(source, timeout)

    def age(self) -> float:
        """Seconds since the list was last fetched (infinite before the first)."""
        return time.monotonic() - self._at

    def invalidate(self) -> None:
        """Ask the source again on the next ``get`` (a project was just created)."""
        self._at = float("-inf")

    def _fresh(self, cache_seconds: float) -> bool:
        return self._projects is not None and time.monotonic() - self._at < cache_seconds

    async def _fetch(self, source: Callable, timeout: float) -> list[dict]:
        state = self._load()
        known = self._projects if self._projects is not None else state["projects"]
        try:
            result = source()
            if inspect.isawaitable(result):
                result = await asyncio.wait_for(result, timeout if known is not None else None)
            fresh = list(result or [])
        except Exception as e:
            if known is None:
                raise ProjectUnavailable(reason(e)) from e
            if self.error is None:
                self.log.warning(
                    "the Datadive service cannot list projects (%s); using the last known list "
                    "of %d projects",
                    reason(e),
                    len(known),
                )
            self.error = reason(e)
            self._projects, self._at = known, time.monotonic()
            return known
        self.error = None
        projects, previous, reserved = assign_folders(fresh, state["previous"], state["reserved"])
        new_state = {"projects": projects, "previous": previous, "reserved": reserved}
        if new_state != state:
            try:
                await asyncio.to_thread(self._save, new_state)
            except OSError as e:
                self.log.warning("could not record the project folders: %s", e)
                self._state = new_state
        self._projects, self._at = projects, time.monotonic()
        return projects

    def _load(self) -> dict:
        if self._state is None:
            try:
                with open(self.state_file, encoding="utf-8") as f:
                    state = json.load(f)
                if not isinstance(state, dict):
                    state = {}
            except (OSError, ValueError):
                state = {}
            self._state = {
                "projects": state.get("projects"),
                "previous": state.get("previous") or {},
                "reserved": state.get("reserved") or {},
            }
        return self._state

    def _save(self, state: dict) -> None:
        os.makedirs(os.path.dirname(self.state_file), exist_ok=True)
        tmp = f"{self.state_file}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(state, f)
        os.replace(tmp, self.state_file)
        self._state = state


def link_folders(root: str, targets: dict[str, str], log: logging.Logger) -> None:
    """Make ``<root>/<folder>`` a symlink to ``targets[folder]`` (a working copy folder), and
    remove our links of folders no longer shown. A real folder found at a project's place (a
    working copy of an earlier version, keyed by name) is moved aside, kept and not synced.
    Blocking: call it in a worker thread."""
    ours = os.path.join(STATE_DIR, PROJECTS_DIR) + os.sep
    wanted = {folder: os.path.relpath(target, root) for folder, target in targets.items()}
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        entries = []
    for e in entries:
        if e.is_symlink() and e.name not in wanted:
            try:
                if os.readlink(e.path).startswith(ours):
                    os.unlink(e.path)
            except OSError:
                pass
    for folder, target in wanted.items():
        link = os.path.join(root, folder)
        try:
            if os.path.islink(link):
                if os.readlink(link) == target:
                    continue
            elif os.path.lexists(link):
                aside = os.path.join(
                    root, STATE_DIR, "set-aside", f"{folder}-{time.strftime('%Y%m%dT%H%M%S')}"
                )
                os.makedirs(os.path.dirname(aside), exist_ok=True)
                os.replace(link, aside)
                log.warning(
                    "%s was a folder of its own; moved to %s (not synced) so that the project "
                    "folder can take its place",
                    link,
                    aside,
                )
            tmp = os.path.join(root, STATE_DIR, f".link-{os.getpid()}")
            if os.path.lexists(tmp):
                os.unlink(tmp)
            os.symlink(target, tmp)
            os.replace(tmp, link)
        except OSError as e:
            log.warning("could not link %s to its project: %s", link, e)
