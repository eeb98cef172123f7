"""Which projects a server shows, and where an API path leads: one module, keyed by project id.

- :class:`Mounts`: the folders of the file browser: one mount of the whole store in single-root
  mode, else one per project the user may see (opened once per project id, detached when the
  project leaves the list); resolves an API path to (mount, path inside it).
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
from typing import Any, Protocol

from tornado.web import HTTPError

from .folders import assign_folders
from .paths import normalize_path
from .stores import ObjectStore, PathRejected
from .workingcopy import WorkingCopy

STATE_DIR = ".datadive-workingcopy"
#: where, under STATE_DIR, each project's working copy lives: projects/<id>/files
PROJECTS_DIR = "projects"
#: a path in an unknown project folder re-reads the project list if it is older than this (s)
RELIST_AFTER_MISS = 1.0


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
    ) -> None:
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
        self._projects: list[dict[str, Any]] | None = None
        self._at = 0.0
        self._state: dict[str, Any] | None = None
        self._lock = asyncio.Lock()

    async def get(
        self, source: Callable[..., Any], cache_seconds: float, timeout: float
    ) -> list[dict[str, Any]]:
        cached = self._cached(cache_seconds)
        if cached is not None:
            return cached
        async with self._lock:  # one question to the service at a time, one state writer
            cached = self._cached(cache_seconds)
            if cached is not None:
                return cached
            return await self._fetch(source, timeout)

    def age(self) -> float:
        """Seconds since the list was last fetched (infinite before the first)."""
        return time.monotonic() - self._at

    def invalidate(self) -> None:
        """Ask the source again on the next ``get`` (a project was just created)."""
        self._at = float("-inf")

    def _cached(self, cache_seconds: float) -> list[dict[str, Any]] | None:
        """The list, if fetched less than ``cache_seconds`` ago."""
        if self._projects is not None and time.monotonic() - self._at < cache_seconds:
            return self._projects
        return None

    async def _fetch(self, source: Callable[..., Any], timeout: float) -> list[dict[str, Any]]:
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

    def _load(self) -> dict[str, Any]:
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

    def _save(self, state: dict[str, Any]) -> None:
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


class MountSettings(Protocol):
    """What :class:`Mounts` reads from its contents manager (read at each use: settings may
    change after start, as traits do)."""

    log: Any
    username: str
    save_upload_timeout: float
    project_source: Any
    project_store_factory: Any
    project_cache_seconds: float
    project_list_timeout: float

    @property
    def datadive_mode(self) -> bool: ...

    @property
    def working_root(self) -> str: ...

    def single_root_store(self) -> ObjectStore: ...


class Mounts:
    """The folders a server shows, by project id (``""`` in single-root mode) and by folder
    label. ``on_list`` runs after every listing (the manager starts its periodic sync there)."""

    def __init__(self, settings: MountSettings, on_list: Callable[[], None]) -> None:
        self.settings = settings
        self.on_list = on_list
        #: every mount opened since start, by project id ("" in single-root mode)
        self.by_key: dict[str, Mount] = {}
        #: the attached mounts, by folder label
        self.by_folder: dict[str, Mount] = {}
        #: Datadive mode: the project list, made on first use
        self.projects: ProjectList | None = None
        self._link_lock = asyncio.Lock()
        self._open_lock = asyncio.Lock()

    def _new_wc(self, key: str, store: ObjectStore) -> WorkingCopy:
        """The working copy of ``key``: the whole root in single-root mode, else
        ``.datadive-workingcopy/projects/<id>/files`` (a folder that never changes with the
        project's name; the project's folder in the root is a symlink to it)."""
        cfg = self.settings
        if not cfg.datadive_mode:
            state = os.path.join(cfg.working_root, STATE_DIR, f"{key}.sqlite")
            return WorkingCopy(
                store,
                cfg.working_root,
                state,
                user=cfg.username,
                log=cfg.log,
                upload_timeout=cfg.save_upload_timeout or None,
            )
        home = project_home(cfg.working_root, key)
        return WorkingCopy(
            store,
            os.path.join(home, "files"),
            os.path.join(home, "state.sqlite"),
            user=cfg.username,
            log=cfg.log,
            name=key,
            project_id=key,
            upload_timeout=cfg.save_upload_timeout or None,
        )

    async def list(self) -> list[Mount]:
        """The mounts shown now (the project list is re-read when older than its cache time)."""
        cfg = self.settings
        if not cfg.datadive_mode:
            if "" not in self.by_key:
                store = cfg.single_root_store()
                self.by_key[""] = Mount(
                    "root", "", store, self._new_wc("root", store), "owner", None
                )
                self.by_folder[""] = self.by_key[""]
                self.on_list()
            return [self.by_key[""]]
        if self.projects is None:
            state_file = os.path.join(cfg.working_root, STATE_DIR, "projects.json")
            self.projects = ProjectList(state_file, cfg.log)
        try:
            projects = await self.projects.get(
                cfg.project_source, cfg.project_cache_seconds, cfg.project_list_timeout
            )
        except ProjectUnavailable as e:
            raise HTTPError(
                503,
                f"the Datadive service cannot list your projects ({e}) and this server has no "
                "earlier list; try again in a minute, or ask a hub admin to check the hub",
            ) from e
        mounts = []
        for p in projects:
            pid = str(p["id"])
            m = self.by_key.get(pid) or await self._open(pid, p)
            m.folder, m.name = p["folder"], str(p.get("name") or pid)
            m.role = p.get("role", "viewer")
            if not m.attached:
                cfg.log.info("project %s (%s) is back in the list; syncing again", pid, m.name)
                m.attached, m.unsent = True, []
            mounts.append(m)
        listed = {m.key for m in mounts}
        for m in list(self.by_key.values()):
            if m.attached and m.key not in listed:
                await self._detach(m)
        by_folder = {m.folder: m for m in mounts}
        if by_folder.keys() != self.by_folder.keys() or any(
            self.by_folder[f] is not m for f, m in by_folder.items()
        ):
            self.by_folder = by_folder
            targets = {folder: m.wc.root for folder, m in by_folder.items()}
            async with self._link_lock:
                await asyncio.to_thread(link_folders, cfg.working_root, targets, cfg.log)
        self.on_list()
        return mounts

    async def _open(self, pid: str, p: dict[str, Any]) -> Mount:
        """Open project ``pid``'s store and working copy, once: concurrent requests wait for the
        first (two connections setting up one state database at once fail with "locked")."""
        async with self._open_lock:
            m = self.by_key.get(pid)
            if m is not None:
                return m
            factory = self.settings.project_store_factory
            if factory is None:
                raise HTTPError(
                    500, "project_store_factory is not configured; set it with project_source"
                )
            store = factory(pid)
            if inspect.isawaitable(store):
                store = await store
            wc = await asyncio.to_thread(self._new_wc, pid, store)
            m = self.by_key[pid] = Mount(pid, p["folder"], store, wc, p.get("role", "viewer"), pid)
            return m

    async def _detach(self, m: Mount) -> None:
        """``m``'s project left the list: never sync it again; keep and report its changes."""
        m.attached = False
        try:
            changed = await asyncio.to_thread(m.wc.changed_files, m.wc.all_bases())
            m.unsent = sorted(set(m.wc.pending()) | set(changed))
        except Exception:  # the report is best effort; the files stay on disk regardless
            m.unsent = m.wc.pending()
        log = self.settings.log.warning if m.unsent else self.settings.log.info
        log(
            "project %s (%s) is no longer in your list; it is not synced any more%s",
            m.key,
            m.name,
            f"; {len(m.unsent)} local change(s) kept in {m.wc.root}" if m.unsent else "",
        )

    def refresh(self) -> None:
        """Ask the project source again on the next listing (a project was just created)."""
        if self.projects is not None:
            self.projects.invalidate()

    async def resolve(self, path: str) -> tuple[Mount | None, str]:
        """API path → (mount, path inside it). (None, "") is the Datadive root."""
        try:
            path = normalize_path(path.strip("/"))
        except PathRejected as e:
            raise HTTPError(400, str(e)) from e
        mounts = await self.list()
        if not self.settings.datadive_mode:
            return mounts[0], path
        if not path:
            return None, ""
        folder, _, rest = path.partition("/")
        m = self.by_folder.get(folder)
        if m is None and self.projects is not None and self.projects.age() > RELIST_AFTER_MISS:
            # a project made or shared since the list was read (the panel opens it at once):
            # ask the service again, at most once a second however many misses arrive
            self.projects.invalidate()
            await self.list()
            m = self.by_folder.get(folder)
        if m is not None:
            return m, rest
        raise HTTPError(404, f"No such project folder: {folder}")

    def local_path(self, path: str) -> str:
        """Directory on disk of API path ``path``, as last listed (no request)."""
        root = self.settings.working_root
        path = normalize_path(path.strip("/"))
        if not path:
            return root
        if not self.settings.datadive_mode:
            return os.path.join(root, *path.split("/"))
        folder, _, rest = path.partition("/")
        m = self.by_folder.get(folder)
        if m is None:
            return os.path.join(root, *path.split("/"))
        return m.wc.local(rest)
