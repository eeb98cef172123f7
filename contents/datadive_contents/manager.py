"""DatadiveContentsManager: an async ContentsManager on object stores, with local working copies.

Two modes:

- **single root** (``store_url`` set, ``project_source`` unset): the whole file browser is one
  store (e.g. ``s3://bucket/prefix``) — a complete S3-backed ContentsManager on its own.
- **Datadive** (``project_source`` set): each project the user may see is a top-level folder,
  backed by ``project_store_factory(project_id)``; viewers get read-only folders.

Files are mirrored into ``working_dir`` (default: the server's ``root_dir``) so kernels see
ordinary files; see :mod:`datadive_contents.workingcopy` for the sync and conflict rules.
"""

from __future__ import annotations

import asyncio
import base64
import fnmatch
import getpass
import hashlib
import inspect
import mimetypes
import os
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import nbformat
from jupyter_server.services.contents.manager import AsyncContentsManager, ContentsManager
from nbformat.sign import SQLiteSignatureStore
from tornado.web import HTTPError
from traitlets import Any as AnyTrait
from traitlets import Bool, Float, Instance, Int, Unicode, default

from . import __version__
from .checkpoints import DatadiveCheckpoints
from .landing import ROOT_NOTICE, landing_mount
from .mounts import (
    STATE_DIR,
    Mount,
    ProjectList,
    ProjectUnavailable,
    link_folders,
    project_home,
)
from .nbwrite import NotebookWriter, Prepared
from .paths import normalize_path
from .stores import (
    Conflict,
    NotFound,
    ObjectStore,
    PathRejected,
    StoreError,
    StoreUnavailable,
    store_from_url,
)
from .workingcopy import KEEP, SyncConflict, SyncOffline, WorkingCopy, is_internal

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _http_error(e: Exception, path: str) -> HTTPError:
    if isinstance(e, HTTPError):
        return e
    if isinstance(e, PathRejected):
        return HTTPError(400, str(e))
    if isinstance(e, NotFound):
        return HTTPError(404, f"No such file or directory: {path}")
    if isinstance(e, SyncConflict):
        return HTTPError(409, str(e))
    if isinstance(e, Conflict):
        return HTTPError(409, f"{path} was changed by someone else; reload it and try again ({e})")
    if isinstance(e, SyncOffline):
        return HTTPError(503, str(e))
    if isinstance(e, StoreUnavailable):
        return HTTPError(503, f"the project store is unreachable: {e}")
    return HTTPError(500, f"unexpected storage error on {path}: {e}")


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


#: a path in an unknown project folder re-reads the project list if it is older than this (s)
RELIST_AFTER_MISS = 1.0


class DatadiveContentsManager(AsyncContentsManager):
    """Contents on object stores (S3 or a local directory store) with local working copies."""

    store_url = Unicode(
        "",
        config=True,
        help="Single-root mode: the store behind the whole file browser, e.g. "
        "s3://bucket/prefix?endpoint_url=http://127.0.0.1:9000 or file:///srv/data. "
        "Leave empty in Datadive mode (project_source set).",
    )
    s3_endpoint_url = Unicode(
        "",
        config=True,
        help="S3 endpoint URL for store_url (empty: AWS, or endpoint_url in the URL).",
    )
    s3_region = Unicode("", config=True, help="S3 region for store_url (default us-east-1).")
    s3_access_key_id = Unicode(
        "", config=True, help="S3 access key for store_url (default: the AWS credential chain)."
    )
    s3_secret_access_key = Unicode("", config=True, help="S3 secret key for store_url.")
    s3_session_token = Unicode("", config=True, help="S3 session token for store_url (optional).")
    s3_check_folders = Bool(
        False,
        config=True,
        help="Confirm each folder an S3 listing reports with one extra LIST (for endpoints such as "
        "moto that report folders whose files were all deleted).",
    )
    project_source = AnyTrait(
        None,
        allow_none=True,
        config=True,
        help="Datadive mode: callable (sync or async) returning the projects the user may see, "
        'as [{"id", "name", "role"}] (role viewer | editor | owner).',
    )
    project_store_factory = AnyTrait(
        None,
        allow_none=True,
        config=True,
        help="Datadive mode: callable project_id -> ObjectStore for that project's files.",
    )
    project_cache_seconds = Float(
        10.0, config=True, help="How long the project list from project_source is reused (seconds)."
    )
    project_list_timeout = Float(
        5.0,
        config=True,
        help="Seconds to wait for project_source once a project list is known; after that (or on "
        "an error) the last known list is used, so files stay reachable while the service is down.",
    )
    save_upload_timeout = Float(
        15.0,
        config=True,
        help="Seconds a save waits for the store; after that the save answers 503 and the file, kept "
        "on this server and journaled, is uploaded by the next scan.",
    )
    service_timeout = Float(
        15.0,
        config=True,
        help="Seconds without an answer after which a request to the Datadive service (files of "
        "projects) counts as failed (the store is then offline).",
    )
    working_dir = Unicode(
        "",
        config=True,
        help="Directory of the local working copies (kernels see files there). Default: root_dir, "
        "so a kernel's cwd for a notebook is the notebook's folder in the working copy.",
    )
    poll_interval = Float(
        2.0,
        config=True,
        help="Seconds between scans for files that kernels wrote (uploaded when changed); 0 disables.",
    )
    username = Unicode(
        config=True,
        help="User name used in conflict file names (default: $JUPYTERHUB_USER or the OS user).",
    )
    materialize_on_kernel_start = Bool(
        True,
        config=True,
        help="Download a project's files into its working copy before a kernel starts in it.",
    )
    max_uploads_per_scan = Int(
        200,
        config=True,
        help="Most files one periodic scan uploads (the rest wait for the next scan).",
    )
    flush_on_sigterm = Bool(
        True,
        config=True,
        help="On SIGTERM, upload pending files (bounded by flush_timeout) before stopping.",
    )
    flush_timeout = Float(60.0, config=True, help="Seconds a shutdown flush may take.")
    hash_algorithm = Unicode(
        "sha256", config=True, help="Hash algorithm of the 'hash' model field."
    )
    delete_to_trash = Bool(
        True,
        config=True,
        help="Deleting a non-empty folder is allowed (every deleted file stays recoverable from "
        "the store's versions, which is Datadive's trash). False: such deletes need always_delete_dir.",
    )
    always_delete_dir = Bool(
        False, config=True, help="Delete non-empty folders even when delete_to_trash is False."
    )
    max_copy_folder_size_mb = Int(
        500, config=True, help="Largest folder (MB) that a copy may duplicate."
    )
    max_copy_folder_files = Int(
        10000, config=True, help="Largest number of files a folder copy or rename may touch."
    )
    notebook_cache_mb = Int(
        64,
        config=True,
        help="Memory (MB) for the per-cell cache that makes saving a large notebook again cheap "
        "(its unchanged cells are not serialised, validated or hashed again); 0 disables it.",
    )
    personal_project_name = Unicode(
        "My work",
        config=True,
        help="Datadive mode: the personal project where a new notebook or file lands when it is "
        "created where the user cannot write (the read-only root, a viewer's project) and no "
        "writable project is open in the Datadive panel.",
    )
    create_personal_project = Bool(
        True,
        config=True,
        help="Datadive mode: create the personal project (personal_project_name) on first use. "
        "False: a new file made where nobody can write is refused with the list of writable "
        "projects instead.",
    )
    project_creator = AnyTrait(
        None,
        allow_none=True,
        config=True,
        help="Datadive mode: callable (sync or async) name -> new project {id, name, role}; used "
        "to create the personal project. Set by the datadive server extension.",
    )
    # traitlets' stubs type klass as type[T], which mypy refuses for an abstract class
    single_store = Instance(  # type: ignore[call-overload]
        ObjectStore,
        allow_none=True,
        help="Single-root mode: the store instance (built from store_url).",
    )

    @default("root_dir")
    def _default_root_dir(self):
        # as FileContentsManager: the server's root_dir (the base class says "/", which would put
        # working copies at the filesystem root)
        return getattr(self.parent, "root_dir", None) or os.getcwd()

    @default("username")
    def _default_username(self):
        return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()

    @default("files_handler_params")
    def _default_files_handler_params(self):
        # jupyter_server's FilesHandler (/files/..., Lab's Download) reads through this manager,
        # but as a StaticFileHandler it cannot even start without a ``path`` (it answered nothing)
        return {"path": self.working_root}

    @default("checkpoints_class")
    def _default_checkpoints_class(self):
        return DatadiveCheckpoints

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._mounts: dict[str, Mount] = {}  # by project id ("" in single-root mode)
        self._by_folder: dict[str, Mount] = {}  # the attached mounts, by folder label
        self._projects: ProjectList | None = None  # Datadive mode, made on first use
        self._link_lock = asyncio.Lock()
        self._open_lock = asyncio.Lock()
        self._poller: asyncio.Task | None = None
        self._uploads: dict[str, str] = {}
        self._nbwriter: NotebookWriter | None = None
        self._notary_pool: ThreadPoolExecutor | None = None
        self._thread_sig_store: SQLiteSignatureStore | None = None
        self._hide_re: tuple[tuple, Any] = ((), None)
        #: id of the project open in the Datadive panel (PUT datadive/api/current-project)
        self.current_project: str | None = None
        try:  # runs once the server's event loop starts
            from tornado.ioloop import IOLoop

            IOLoop.current().add_callback(self._startup)
        except Exception:  # pragma: no cover - no loop (plain library use)
            pass
        self.log.info(
            "DatadiveContentsManager %s: %s mode, working copies in %s",
            __version__,
            "Datadive (projects)" if self.datadive_mode else f"single-root ({self._safe_url()})",
            self.working_root,
        )

    # -- configuration ---------------------------------------------------------------
    @property
    def datadive_mode(self) -> bool:
        return self.project_source is not None

    def _safe_url(self) -> str:
        return self.store_url.split("?")[0] if self.store_url else "no store_url"

    @property
    def working_root(self) -> str:
        return os.path.abspath(self.working_dir or self.root_dir or os.getcwd())

    def _build_single_store(self) -> ObjectStore:
        if self.single_store is not None:
            return self.single_store
        if not self.store_url:
            raise HTTPError(
                500,
                "DatadiveContentsManager has no store: set c.DatadiveContentsManager.store_url "
                "(s3://bucket/prefix or file:///dir) or project_source",
            )
        opts: dict[str, Any] = {}
        if self.store_url.startswith("s3://"):
            for trait, opt in [
                ("s3_endpoint_url", "endpoint_url"),
                ("s3_region", "region"),
                ("s3_access_key_id", "access_key_id"),
                ("s3_secret_access_key", "secret_access_key"),
                ("s3_session_token", "session_token"),
            ]:
                if getattr(self, trait):
                    opts[opt] = getattr(self, trait)
            if self.s3_check_folders:
                opts["check_folders"] = True
        self.single_store = store_from_url(self.store_url, **opts)
        return self.single_store

    def _new_wc(self, key: str, store: ObjectStore) -> WorkingCopy:
        """The working copy of ``key``: the whole root in single-root mode, else
        ``.datadive-workingcopy/projects/<id>/files`` (a folder that never changes with the
        project's name; the project's folder in the root is a symlink to it)."""
        if not self.datadive_mode:
            state = os.path.join(self.working_root, STATE_DIR, f"{key}.sqlite")
            return WorkingCopy(
                store,
                self.working_root,
                state,
                user=self.username,
                log=self.log,
                upload_timeout=self.save_upload_timeout or None,
            )
        home = project_home(self.working_root, key)
        return WorkingCopy(
            store,
            os.path.join(home, "files"),
            os.path.join(home, "state.sqlite"),
            user=self.username,
            log=self.log,
            name=key,
            project_id=key,
            upload_timeout=self.save_upload_timeout or None,
        )

    async def _mount_list(self) -> list[Mount]:
        if not self.datadive_mode:
            if "" not in self._mounts:
                store = self._build_single_store()
                self._mounts[""] = Mount(
                    "root", "", store, self._new_wc("root", store), "owner", None
                )
                self._by_folder[""] = self._mounts[""]
                self._start_poller()
            return [self._mounts[""]]
        if self._projects is None:
            state_file = os.path.join(self.working_root, STATE_DIR, "projects.json")
            self._projects = ProjectList(state_file, self.log)
        try:
            projects = await self._projects.get(
                self.project_source, self.project_cache_seconds, self.project_list_timeout
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
            m = self._mounts.get(pid) or await self._open_mount(pid, p)
            m.folder, m.name = p["folder"], str(p.get("name") or pid)
            m.role = p.get("role", "viewer")
            if not m.attached:
                self.log.info("project %s (%s) is back in the list; syncing again", pid, m.name)
                m.attached, m.unsent = True, []
            mounts.append(m)
        listed = {m.key for m in mounts}
        for m in list(self._mounts.values()):
            if m.attached and m.key not in listed:
                await self._detach(m)
        by_folder = {m.folder: m for m in mounts}
        if by_folder.keys() != self._by_folder.keys() or any(
            self._by_folder[f] is not m for f, m in by_folder.items()
        ):
            self._by_folder = by_folder
            targets = {folder: m.wc.root for folder, m in by_folder.items()}
            async with self._link_lock:
                await asyncio.to_thread(link_folders, self.working_root, targets, self.log)
        self._start_poller()
        return mounts

    async def _open_mount(self, pid: str, p: dict) -> Mount:
        """Open project ``pid``'s store and working copy, once: concurrent requests wait for the
        first (two connections setting up one state database at once fail with "locked")."""
        async with self._open_lock:
            m = self._mounts.get(pid)
            if m is not None:
                return m
            if self.project_store_factory is None:
                raise HTTPError(
                    500, "project_store_factory is not configured; set it with project_source"
                )
            store = self.project_store_factory(pid)
            if inspect.isawaitable(store):
                store = await store
            wc = await asyncio.to_thread(self._new_wc, pid, store)
            m = self._mounts[pid] = Mount(pid, p["folder"], store, wc, p.get("role", "viewer"), pid)
            return m

    async def _detach(self, m: Mount) -> None:
        """``m``'s project left the list: never sync it again; keep and report its changes."""
        m.attached = False
        try:
            changed = await asyncio.to_thread(m.wc.changed_files, m.wc.all_bases())
            m.unsent = sorted(set(m.wc.pending()) | set(changed))
        except Exception:  # the report is best effort; the files stay on disk regardless
            m.unsent = m.wc.pending()
        log = self.log.warning if m.unsent else self.log.info
        log(
            "project %s (%s) is no longer in your list; it is not synced any more%s",
            m.key,
            m.name,
            f"; {len(m.unsent)} local change(s) kept in {m.wc.root}" if m.unsent else "",
        )

    async def _resolve(self, path: str) -> tuple[Mount | None, str]:
        """API path → (mount, path inside it). (None, "") is the Datadive root."""
        try:
            path = normalize_path(path.strip("/"))
        except PathRejected as e:
            raise HTTPError(400, str(e)) from e
        mounts = await self._mount_list()
        if not self.datadive_mode:
            return mounts[0], path
        if not path:
            return None, ""
        folder, _, rest = path.partition("/")
        m = self._by_folder.get(folder)
        if m is None and self._projects is not None and self._projects.age() > RELIST_AFTER_MISS:
            # a project made or shared since the list was read (the panel opens it at once):
            # ask the service again, at most once a second however many misses arrive
            self._projects.invalidate()
            await self._mount_list()
            m = self._by_folder.get(folder)
        if m is not None:
            return m, rest
        raise HTTPError(404, f"No such project folder: {folder}")

    def project_at(self, folder: str) -> Mount | None:
        """The project shown at top-level ``folder`` as last listed (None: no such folder)."""
        return self._by_folder.get(folder)

    def _api_path(self, m: Mount, rel: str) -> str:
        return "/".join(p for p in (m.folder, rel) if p)

    def _check_writable(self, m: Mount | None, rel: str, path: str) -> Mount:
        if m is None or (self.datadive_mode and not rel):
            raise HTTPError(
                403,
                f"cannot change {path or 'the root'}: create, rename and delete files inside a project "
                "folder; manage projects in the Datadive panel",
            )
        if not m.writable:
            raise HTTPError(
                403,
                f"{path} is read-only: you are a viewer of project {m.folder!r}; ask an owner for the "
                "editor role to change files",
            )
        if is_internal(rel):
            raise HTTPError(400, f"{path} is reserved for Datadive's storage; choose another name")
        return m

    # -- where new files land ------------------------------------------------------------
    async def landing_folder(self, path: str) -> str:
        """The folder a new file made in ``path`` goes to: ``path`` itself where the user can
        write, else the open project or the personal project (see :mod:`.landing`)."""
        if not self.datadive_mode:
            return path
        m, _ = await self._resolve(path)
        if m is not None and m.writable and m.attached:
            return path

        def refresh():
            if self._projects is not None:
                self._projects.invalidate()

        target = await landing_mount(
            self._mount_list,
            refresh,
            self.current_project,
            self.personal_project_name,
            self.project_creator,
            self.create_personal_project,
        )
        self.log.info(
            "new file asked for in %r (not writable) goes to project folder %r",
            path or "/",
            target.folder,
        )
        return target.folder

    async def new_untitled(self, path="", type="", ext=""):
        path = path.strip("/")
        if type == "directory" and self.datadive_mode:
            m, rel = await self._resolve(path)
            if m is None:
                raise HTTPError(
                    403,
                    f"{ROOT_NOTICE} Make a new folder inside a project folder, or create a "
                    "project in the Datadive panel.",
                )
            return await super().new_untitled(path, type, ext)
        return await super().new_untitled(await self.landing_folder(path), type, ext)

    async def new(self, model=None, path=""):
        path = path.strip("/")
        parent, _, name = path.rpartition("/")
        if self.datadive_mode and (model or {}).get("type") != "directory" and name:
            folder = await self.landing_folder(parent)
            if folder != parent:
                path = await self.increment_filename(name, folder)
                path = f"{folder}/{path}"
        return await super().new(model, path)

    # -- existence ----------------------------------------------------------------------
    async def is_hidden(self, path):
        path = path.strip("/")
        return any(seg.startswith(".") for seg in path.split("/") if seg)

    async def file_exists(self, path=""):
        try:
            m, rel = await self._resolve(path)
        except HTTPError:
            return False
        if m is None or not rel or is_internal(rel):
            return False
        try:
            if await m.store.head(rel) is not None:
                return True
        except StoreError:
            pass
        return os.path.isfile(m.wc.local(rel)) and m.wc.local_changed(rel)

    async def dir_exists(self, path):
        try:
            m, rel = await self._resolve(path)
        except HTTPError:
            return False
        if m is None or not rel:
            return True
        if is_internal(rel):
            return False
        try:
            listing = await m.store.list(rel)
            if listing.files or listing.folders:
                return True
        except StoreError:
            pass
        return os.path.isdir(m.wc.local(rel))

    async def exists(self, path):
        return await self.file_exists(path) or await self.dir_exists(path)

    # -- get --------------------------------------------------------------------------------
    async def get(self, path, content=True, type=None, format=None, require_hash=False):
        path = path.strip("/")
        if path and not self.allow_hidden and await self.is_hidden(path):
            raise HTTPError(
                404, f"{path} is hidden; hidden files are not served (allow_hidden is off)"
            )
        try:
            m, rel = await self._resolve(path)
            if m is None:
                if type not in (None, "directory"):
                    raise HTTPError(400, f"{path or 'the root'} is not a {type}", reason="bad type")
                return await self._root_model(content)
            if is_internal(rel):
                raise HTTPError(404, f"No such file or directory: {path}")
            local = m.wc.local(rel)
            offline = False
            try:
                info = await m.store.head(rel) if rel else None
            except StoreUnavailable:
                if not (rel and os.path.isfile(local)):
                    raise
                # the store is unreachable: this server's copy is what there is
                info, offline = None, True
            is_file = info is not None or (
                rel and os.path.isfile(local) and (offline or m.wc.local_changed(rel))
            )
            if is_file:
                if type == "directory":
                    raise HTTPError(400, f"{path} is not a directory", reason="bad type")
                return await self._file_model(
                    m, rel, path, info, content, type, format, require_hash
                )
            if content:  # one listing serves both the existence check and the content
                try:
                    found = await m.wc.refresh_dir(rel)
                except StoreUnavailable as e:
                    # what this server has: its working copy (saves are journaled meanwhile)
                    self.log.warning("listing %s from the working copy only: %s", path, e)
                    found = await asyncio.to_thread(m.wc.local_listing, rel)
                if rel and not any(found) and not os.path.isdir(local):
                    raise HTTPError(404, f"No such file or directory: {path}")
            elif not await self.dir_exists(path):
                raise HTTPError(404, f"No such file or directory: {path}")
            if type not in (None, "directory"):
                raise HTTPError(400, f"{path} is a directory, not a {type}", reason="bad type")
            return await self._dir_model(m, rel, path, found if content else None)
        except Exception as e:
            raise _http_error(e, path) from e

    async def _root_model(self, content: bool) -> dict:
        model = self._base_model("", "directory", EPOCH, writable=False)
        if content:
            model["format"] = "json"
            model["content"] = [
                {
                    **self._base_model(m.folder, "directory", EPOCH, writable=m.writable),
                    "content": None,
                    "format": None,
                }
                for m in await self._mount_list()
                if self.allow_hidden or not m.folder.startswith(".")
            ]
        return model

    def _base_model(self, path: str, kind: str, modified: datetime, writable: bool = True) -> dict:
        return {
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "type": kind,
            "writable": writable,
            "created": modified,
            "last_modified": modified,
            "content": None,
            "format": None,
            "mimetype": None,
            "size": None,
            "hash": None,
            "hash_algorithm": None,
        }

    async def _dir_model(self, m: Mount, rel: str, path: str, found) -> dict:
        model = self._base_model(path, "directory", EPOCH, writable=m.writable)
        if found is None:
            return model
        remote, rfolders, local_files, local_dirs = found
        entries = []
        prefix = rel + "/" if rel else ""
        listed = self._list_filter()
        bases = m.wc.bases_in(rel) if local_files else {}  # one query, not one per entry
        for name in sorted(set(remote) | set(local_files)):
            if not listed(name):
                continue
            child = self._api_path(m, prefix + name)
            info = remote.get(name)
            st = local_files.get(name)
            changed = False
            if st is not None:
                b = bases.get(name)
                changed = b is None or (b.mtime_ns, b.size) != (st.st_mtime_ns, st.st_size)
            if info is not None and not changed:
                modified, size = info.last_modified, info.size
            else:
                assert st is not None
                modified, size = _dt(st.st_mtime), st.st_size
            kind = "notebook" if name.endswith(".ipynb") else "file"
            e = self._base_model(child, kind, modified, writable=m.writable)
            e["size"] = size
            if kind == "file":
                e["mimetype"] = _mimetype(name)
            entries.append(e)
        for name in sorted((rfolders | local_dirs) - set(remote) - set(local_files)):
            if not listed(name):
                continue
            entries.append(
                self._base_model(
                    self._api_path(m, prefix + name), "directory", EPOCH, writable=m.writable
                )
            )
        model["content"] = entries
        model["format"] = "json"
        return model

    def _list_filter(self):
        """``name → bool``: not internal, not hidden (unless allow_hidden), and should_list()
        (hide_globs compiled into one regular expression: one match per entry, not one
        fnmatch per glob)."""
        allow_hidden = self.allow_hidden
        if type(self).should_list is not ContentsManager.should_list:
            should_list = self.should_list
        else:
            globs = tuple(self.hide_globs)
            if self._hide_re[0] != globs:
                pattern = "|".join(f"(?:{fnmatch.translate(g)})" for g in globs)
                self._hide_re = (globs, re.compile(pattern).match if globs else None)
            hidden = self._hide_re[1]

            def should_list(name: str) -> bool:
                return hidden is None or hidden(name) is None

        def listed(name: str) -> bool:
            if name.startswith(".datadive-") or (not allow_hidden and name.startswith(".")):
                return False
            return should_list(name)

        return listed

    async def _file_model(self, m, rel, path, info, content, type, format, require_hash) -> dict:
        local = m.wc.local(rel)
        pending_local = info is None
        if (content or require_hash) and info is not None:
            await m.wc.ensure_local(rel, info)
        if pending_local or (os.path.isfile(local) and m.wc.local_changed(rel)):
            st = os.stat(local)
            modified, size = _dt(st.st_mtime), st.st_size
        else:
            modified, size = info.last_modified, info.size
        kind = type or ("notebook" if path.endswith(".ipynb") else "file")
        model = self._base_model(path, kind, modified, writable=m.writable)
        model["size"] = size
        if kind == "file":
            model["mimetype"] = mimetypes.guess_type(path)[0]
        if not (content or require_hash):
            return model
        data = await asyncio.to_thread(_read, local)
        if require_hash:
            model["hash"] = hashlib.new(self.hash_algorithm, data).hexdigest()
            model["hash_algorithm"] = self.hash_algorithm
        if not content:
            return model
        if kind == "notebook":
            validation_error: dict = {}
            try:
                nb = nbformat.reads(
                    data.decode("utf-8"), as_version=4, capture_validation_error=validation_error
                )
            except Exception as e:
                raise HTTPError(400, f"Unreadable Notebook: {path} {e!r}") from e
            self.mark_trusted_cells(nb, path)
            model["content"] = nb
            model["format"] = "json"
            self.validate_notebook_model(model, validation_error)
        else:
            if format == "text" or format is None:
                try:
                    model["content"] = data.decode("utf-8")
                    model["format"] = "text"
                    model["mimetype"] = model["mimetype"] or "text/plain"
                except UnicodeDecodeError:
                    if format == "text":
                        raise HTTPError(
                            400, f"{path} is not UTF-8 encoded", reason="bad format"
                        ) from None
                    model["content"] = base64.encodebytes(data).decode("ascii")
                    model["format"] = "base64"
                    model["mimetype"] = model["mimetype"] or "application/octet-stream"
            else:
                model["content"] = base64.encodebytes(data).decode("ascii")
                model["format"] = "base64"
                model["mimetype"] = model["mimetype"] or "application/octet-stream"
        return model

    # -- save -------------------------------------------------------------------------------
    async def save(self, model, path=""):
        path = path.strip("/")
        chunk = model.get("chunk")
        if chunk is None or chunk == 1:
            self.run_pre_save_hooks(model=model, path=path)
        if "type" not in model:
            raise HTTPError(400, "No file type provided")
        if "content" not in model and model["type"] != "directory":
            raise HTTPError(400, "No file content provided")
        try:
            m, rel = await self._resolve(path)
            self._check_writable(m, rel, path)
            if not self.allow_hidden and await self.is_hidden(path):
                raise HTTPError(400, f"cannot create hidden file {path} (allow_hidden is off)")
            if chunk is not None:
                return await self._save_chunk(m, rel, path, model, chunk)
            if model["type"] == "directory":
                if await self.file_exists(path):
                    raise HTTPError(400, f"{path} is a file, not a directory")
                os.makedirs(m.wc.local(rel), exist_ok=True)
                await m.wc.write(f"{rel}/{KEEP}", b"")
                return await self.get(path, content=False)
            prepared: Prepared | None = None
            if model["type"] == "notebook":
                # check_and_sign + validation + serialisation: on the event loop when the
                # per-cell cache leaves ~2 ms of work (a thread hop costs more than that on a
                # busy machine), else in a worker thread
                self._init_notebook_writer()
                prepared = (
                    self._nbwriter.prepare_if_cheap(model["content"]) if self._nbwriter else None
                )
                if prepared is None:
                    prepared = await asyncio.to_thread(self._prepare_notebook, model["content"])
                data = prepared.data
                if not prepared.trusted:
                    self.log.warning("Notebook %s is not trusted", path)
            elif model["type"] == "file":
                data = _decode(model["content"], model.get("format"), path)
            else:
                raise HTTPError(400, f"Unhandled contents type: {model['type']}")
            if await self._is_dir_for_save(m, rel, path):
                raise HTTPError(400, f"{path} is a directory; cannot save a file over it")
            try:
                info = await m.wc.write(rel, data)
            finally:
                if prepared is not None:
                    # the notary's database write (trust of the user's own outputs, not their
                    # data) runs in its own thread, after the upload so as not to compete with
                    # it; the save does not wait for it
                    self._store_signature(prepared, path)
            # the PUT's answer is the model: no HEAD after the write
            out = await self._file_model(m, rel, path, info, False, None, None, False)
            if prepared is not None:
                checked = self.validate_notebook_model({"content": None}, prepared.validation_error)
                if "message" in checked:
                    out["message"] = checked["message"]
            self.run_post_save_hooks(model=out, os_path=m.wc.local(rel))
            self.emit(data={"action": "save", "path": path})
            return out
        except Exception as e:
            raise _http_error(e, path) from e

    async def _save_chunk(self, m: Mount, rel: str, path: str, model: dict, chunk: int) -> dict:
        """Lab's chunked upload: chunks 1..n append to a temp file; chunk -1 finishes and uploads."""
        if model["type"] != "file":
            raise HTTPError(
                400, f'File type "{model["type"]}" is not supported for large file transfer'
            )
        data = _decode(model["content"], model.get("format"), path)
        tmp_dir = m.wc.tmp_dir
        if chunk == 1 or path not in self._uploads:
            tmp = os.path.join(
                tmp_dir, ".datadive-upload-" + hashlib.sha1(path.encode()).hexdigest()
            )
            self._uploads[path] = tmp
            mode = "wb"
        else:
            tmp = self._uploads[path]
            mode = "ab"

        def append():
            with open(tmp, mode) as f:
                f.write(data)
                if chunk == -1:
                    f.flush()
                    os.fsync(f.fileno())

        await asyncio.to_thread(append)
        if chunk != -1:
            st = os.stat(tmp)
            model = self._base_model(path, "file", _dt(st.st_mtime), writable=True)
            model["size"] = st.st_size
            return model
        del self._uploads[path]
        await m.wc.write_from_file(rel, tmp)
        out = await self.get(path, content=False)
        self.run_post_save_hooks(model=out, os_path=m.wc.local(rel))
        self.emit(data={"action": "save", "path": path})
        return out

    async def _is_dir_for_save(self, m: Mount, rel: str, path: str) -> bool:
        """Is ``rel`` a folder (so a file cannot be saved there)? A file this working copy has
        synced is answered from its base and the disk, without asking the store."""
        if os.path.isdir(m.wc.local(rel)):
            return True
        if m.wc.base(rel) is not None:
            return False
        return await self.dir_exists(path)

    def _prepare_notebook(self, content) -> Prepared:
        """(worker thread) the notebook's bytes, validation result and signature."""
        writer = self._nbwriter
        if writer is None:
            return NotebookWriter(self.notary, max_bytes=0).nbformat_path(content)
        return writer.prepare(content)

    def _init_notebook_writer(self) -> None:
        # on the event loop thread: the notary (and its secret file) are created here
        if self._nbwriter is None and self.notebook_cache_mb > 0:
            self._nbwriter = NotebookWriter(self.notary, max_bytes=self.notebook_cache_mb << 20)

    def _store_signature(self, prepared: Prepared, path: str):
        """Store the notebook's signature in the notary's database (check_and_sign's last step).

        With nbformat's SQLite store on a file, a second connection to the same file in one
        dedicated thread does it (its commit costs a few fsyncs, more than the upload on a busy
        disk), and the save does not wait: the record lands milliseconds later, in save order,
        and ``shutdown`` drains the thread. A record lost to a crash in between only means the
        notebook opens as untrusted (as a notebook from elsewhere would). In-memory or custom
        stores are written here, synchronously. Returns the thread's future or None."""
        if not prepared.trusted or (prepared.digest is None and prepared.sign_input is None):
            return None
        notary = self.notary
        store = notary.store
        if isinstance(store, SQLiteSignatureStore) and store.db_file != ":memory:":
            if self._notary_pool is None:
                self._notary_pool = ThreadPoolExecutor(1, thread_name_prefix="datadive-notary")
            loop = asyncio.get_running_loop()
            return loop.run_in_executor(
                self._notary_pool,
                self._store_signature_in_thread,
                store.db_file,
                store.cache_size,
                prepared,
                notary.algorithm,
                path,
            )
        try:
            store.store_signature(prepared.signature(), notary.algorithm)
        except Exception:
            self.log.warning("could not store the signature of %s", path, exc_info=True)
        return None

    async def signatures_stored(self) -> None:
        """Wait until the notary thread has stored every signature queued so far."""
        if self._notary_pool is not None:
            await asyncio.get_running_loop().run_in_executor(self._notary_pool, lambda: None)

    def _store_signature_in_thread(self, db_file, cache_size, prepared, algorithm, path) -> None:
        try:
            digest = prepared.signature()
            st = self._thread_sig_store
            if st is None or st.db_file != db_file:
                st = self._thread_sig_store = SQLiteSignatureStore(db_file, cache_size=cache_size)
            st.store_signature(digest, algorithm)
        except Exception:
            self._thread_sig_store = None
            self.log.warning("could not store the signature of %s", path, exc_info=True)

    # -- delete / rename / copy ---------------------------------------------------------------
    async def delete_file(self, path):
        path = path.strip("/")
        try:
            m, rel = await self._resolve(path)
            self._check_writable(m, rel, path)
            if await m.store.head(rel) is not None or os.path.isfile(m.wc.local(rel)):
                async with m.wc.lock:
                    await m.store.delete(rel)
                    _unlink(m.wc.local(rel))
                    m.wc._drop_base(rel)
                    m.wc._unjournal(rel)
                return
            if not await self.dir_exists(path):
                raise HTTPError(404, f"File or directory does not exist: {path}")
            listing = await m.store.list(rel, recursive=True)
            visible = [f for f in listing.files if not is_internal(f.key)]
            if not visible:
                visible = [n for n in _local_files(m.wc.local(rel))]
            if visible and not self.always_delete_dir and not self.delete_to_trash:
                # like FileContentsManager: without trash, non-empty folders need always_delete_dir
                # (here every deleted file stays recoverable from the store's versions)
                raise HTTPError(400, f"Directory {path} not empty")
            async with m.wc.lock:
                await m.store.delete_prefix(rel)
                for f in listing.files:
                    m.wc._drop_base(f.key)
                    m.wc._unjournal(f.key)
                await asyncio.to_thread(_rmtree, m.wc.local(rel))
        except Exception as e:
            raise _http_error(e, path) from e

    async def rename_file(self, old_path, new_path):
        old_path, new_path = old_path.strip("/"), new_path.strip("/")
        if old_path == new_path:
            return
        try:
            m, rel = await self._resolve(old_path)
            m2, rel2 = await self._resolve(new_path)
            self._check_writable(m, rel, old_path)
            self._check_writable(m2, rel2, new_path)
            if not self.allow_hidden and await self.is_hidden(new_path):
                raise HTTPError(
                    400, f"cannot rename to a hidden name {new_path} (allow_hidden is off)"
                )
            if await self.exists(new_path):
                raise HTTPError(409, f"File already exists: {new_path}")
            if await m.store.head(rel) is not None:
                pairs = [(rel, rel2)]
            elif await self.dir_exists(old_path):
                listing = await m.store.list(rel, recursive=True)
                if len(listing.files) > self.max_copy_folder_files:
                    raise HTTPError(
                        400,
                        f"{old_path} holds more than {self.max_copy_folder_files} files; rename it with an S3 tool",
                    )
                pairs = [(f.key, rel2 + f.key[len(rel) :]) for f in listing.files]
            elif os.path.isfile(m.wc.local(rel)):
                pairs = []
            else:
                raise HTTPError(404, f"File or directory does not exist: {old_path}")
            for src, dst in pairs:
                if m2 is m:  # a rename: through the service, no trash entry for the old name
                    await m.store.move(src, dst)
                else:
                    await m2.store.put(dst, (await m.store.get(src))[0])
            if m2 is not m:
                for src, _ in pairs:
                    await m.store.delete(src)
            # move the local copy and its sync state along
            async with m.wc.lock:
                old_local, new_local = m.wc.local(rel), m2.wc.local(rel2)
                if os.path.exists(old_local):
                    os.makedirs(os.path.dirname(new_local), exist_ok=True)
                    os.replace(old_local, new_local)
                for src, dst in pairs:
                    old_base = m.wc.base(src)
                    m.wc._drop_base(src)
                    m.wc._unjournal(src)
                    info = await m2.store.head(dst)
                    if (
                        info is not None
                        and old_base is not None
                        and os.path.isfile(m2.wc.local(dst))
                    ):
                        # same local stat as before the move: unchanged files stay synced,
                        # locally changed ones stay pending (uploaded with If-Match on the new key)
                        m2.wc.db.execute(
                            "INSERT OR REPLACE INTO base VALUES (?, ?, ?, ?)",
                            (dst, info.etag, old_base.mtime_ns, old_base.size),
                        )
            if not pairs:  # a local-only file: upload it under its new name
                await m2.wc.scan()
            elif len(pairs) == 1 and pairs[0][0] == rel:  # a file: keep it on disk for kernels
                await m2.wc.ensure_local(rel2)
        except Exception as e:
            raise _http_error(e, old_path) from e

    async def copy(self, from_path, to_path=None):
        from_path = from_path.strip("/")
        try:
            if not await self.dir_exists(from_path) or await self.file_exists(from_path):
                return await super().copy(from_path, to_path)
            m, rel = await self._resolve(from_path)
            from_dir, _, from_name = from_path.rpartition("/")
            to_path = (to_path if to_path is not None else from_dir).strip("/")
            to_name = from_name
            if await self.dir_exists(to_path):
                to_name = await self.increment_filename(from_name, to_path, insert="-Copy")
            dest = f"{to_path}/{to_name}" if to_path else to_name
            m2, rel2 = await self._resolve(dest)
            self._check_writable(m2, rel2, dest)
            await self._check_copy_size(m, rel, from_path)
            await m.wc.scan()  # files written locally (by kernels) are copied too
            listing = await m.store.list(rel, recursive=True)
            for f in listing.files:
                target = rel2 + f.key[len(rel) :]
                if m2 is m:
                    await m.store.copy(f.key, target)
                else:
                    await m2.store.put(target, (await m.store.get(f.key))[0])
            if not listing.files:
                await m2.store.put(f"{rel2}/{KEEP}", b"")
            os.makedirs(m2.wc.local(rel2), exist_ok=True)
            return await self.get(dest, content=False)
        except Exception as e:
            raise _http_error(e, from_path) from e

    async def _check_copy_size(self, m: Mount, rel: str, path: str) -> None:
        """Refuse folder copies above max_copy_folder_size_mb or max_copy_folder_files."""
        listing = await m.store.list(rel, recursive=True)
        local = await asyncio.to_thread(_local_files, m.wc.local(rel))
        size = max(sum(f.size for f in listing.files), sum(local.values()))
        count = max(len(listing.files), len(local))
        limit = self.max_copy_folder_size_mb * 1024 * 1024
        if size > limit or count > self.max_copy_folder_files:
            raise HTTPError(
                400,
                f"Can't copy folders larger than {self.max_copy_folder_size_mb}MB or "
                f"{self.max_copy_folder_files} files: {path} holds {count} files, {size} bytes",
            )

    # -- kernels ------------------------------------------------------------------------------
    async def get_kernel_path(self, path, model=None):
        """The kernel's cwd (API path of the notebook's folder); its working copy is made
        current first so ``pd.read_csv("survey.csv")`` finds the file on disk."""
        path = path.strip("/")
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        try:
            m, rel = await self._resolve(path)
            if m is not None and self.materialize_on_kernel_start:
                await m.wc.materialize()
            folder = m.wc.local(rel.rsplit("/", 1)[0] if "/" in rel else "") if m else None
            os.makedirs(folder or self.working_root, exist_ok=True)
        except (HTTPError, StoreError) as e:
            self.log.warning("could not prepare the working copy for a kernel at %s: %s", path, e)
        return parent

    def local_path(self, path: str) -> str:
        """Directory on disk that corresponds to API path ``path`` (for kernel managers): inside
        the project's working copy (its folder in the root is a symlink to it)."""
        path = normalize_path(path.strip("/"))
        if not path:
            return self.working_root
        if not self.datadive_mode:
            return os.path.join(self.working_root, *path.split("/"))
        folder, _, rest = path.partition("/")
        m = self._by_folder.get(folder)
        if m is None:
            return os.path.join(self.working_root, *path.split("/"))
        return m.wc.local(rest)

    def _get_os_path(self, path: str) -> str:
        """Same as local_path (the name FileContentsManager and its tests use)."""
        return self.local_path(path)

    # -- sync ---------------------------------------------------------------------------------
    def _start_poller(self) -> None:
        if self.poll_interval <= 0 or (self._poller is not None and not self._poller.done()):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._poller = loop.create_task(self._poll_loop())

    async def _poll_loop(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval)
            if self.datadive_mode:  # renames, removals and role changes apply without a request
                try:
                    await self._mount_list()
                except Exception as e:
                    self.log.debug("project list not refreshed: %s", e)
            for m in list(self._mounts.values()):
                if not m.syncs:
                    continue
                try:
                    await m.wc.scan(limit=self.max_uploads_per_scan)
                except Exception as e:  # keep polling whatever happens
                    self.log.warning("sync of %s failed: %s", m.folder or "/", e)

    async def flush_all(self) -> dict:
        """Upload everything pending in every working copy (call on shutdown).
        Returns {folder: pending count left} — non-zero only if a store was unreachable."""
        await self._mount_list() if not self.datadive_mode else None
        left = {}
        for m in list(self._mounts.values()):
            if m.syncs:
                try:
                    await m.wc.scan()
                except Exception as e:
                    self.log.warning("flush of %s failed: %s", m.folder or "/", e)
                left[m.folder] = len(m.wc.pending())
        return left

    async def sync_status(self) -> dict:
        """Per project: state (synced | syncing | conflict | offline), pending count, conflicts."""
        out = []
        for m in list(self._mounts.values()):
            st = m.wc.status()
            st.update({"folder": m.folder, "project_id": m.project_id, "writable": m.writable})
            if self.datadive_mode and not m.syncs:  # what waits here, and why it stays here
                changed = await asyncio.to_thread(m.wc.changed_files, m.wc.all_bases())
                m.unsent = sorted(set(m.wc.pending()) | set(changed))
            if not m.attached:
                st["state"] = "detached"
                st["unsent"] = m.unsent[:100]
                st["message"] = (
                    f"{m.name} is no longer in your project list (deleted, or your access was "
                    "removed); it is not synced. "
                    + (
                        f"{len(m.unsent)} local change(s) were not uploaded; they are kept on "
                        f"this server in {m.wc.root}: copy them into a project you can edit."
                        if m.unsent
                        else "It had no unsent changes."
                    )
                )
            elif not m.writable and m.unsent:
                st["unsent"] = m.unsent[:100]
                st["message"] = (
                    f"you are a viewer of {m.name}: {len(m.unsent)} local change(s) cannot be "
                    "uploaded; ask an owner for the editor role, or save a copy in a project "
                    "you can edit"
                )
            out.append(st)
        states = {s["state"] for s in out}
        overall = next((s for s in ("offline", "conflict", "syncing") if s in states), "synced")
        return {
            "state": overall,
            "pending": sum(s["pending"] for s in out),
            "projects": out,
            "project_list_error": self._projects.error if self._projects else None,
        }

    async def _startup(self) -> None:
        """Upload what a previous process left pending, and flush before SIGTERM stops us."""
        if self.flush_on_sigterm:
            self._install_sigterm_flush()
        try:
            left = await self.recover()
            if any(left.values()):
                self.log.warning("after start-up, files still wait for upload: %s", left)
        except Exception as e:
            self.log.warning("start-up sync failed (retried by the periodic scan): %s", e)

    def _install_sigterm_flush(self) -> None:
        import signal
        import threading

        if threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        previous = signal.getsignal(signal.SIGTERM)

        async def flush_then_stop(sig, frame):
            self.log.info("SIGTERM: uploading pending files before stopping")
            try:
                await asyncio.wait_for(self.flush_all(), self.flush_timeout)
            except Exception as e:
                self.log.warning("flush on SIGTERM incomplete (journal kept for next start): %s", e)
            if callable(previous):
                previous(sig, frame)
            else:
                raise SystemExit(0)

        def handler(sig, frame):
            loop.call_soon_threadsafe(lambda: asyncio.ensure_future(flush_then_stop(sig, frame)))

        signal.signal(signal.SIGTERM, handler)

    async def recover(self) -> dict:
        """Mount everything and upload what a previous process left pending (called at start-up)."""
        await self._mount_list()
        return await self.flush_all()

    async def close_stores(self) -> None:
        """Stop the periodic sync and close every project's store (its HTTP session); the
        working copies stay open. The server extension calls it on stop, after :meth:`flush_all`."""
        if self._poller is not None:
            self._poller.cancel()
        for m in list(self._mounts.values()):
            try:
                await m.store.close()
            except Exception as e:  # closing is best effort; the process is stopping
                self.log.warning("closing the store of %s failed: %s", m.folder or "/", e)

    async def shutdown(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
        await self.flush_all()
        await self.close_stores()
        for m in self._mounts.values():
            m.wc.close()
        if self._notary_pool is not None:
            self._notary_pool.shutdown(wait=True)
            self._notary_pool = None


def _decode(content, fmt, path) -> bytes:
    if fmt == "base64":
        try:
            return base64.b64decode(
                content.encode("ascii") if isinstance(content, str) else content
            )
        except Exception as e:
            raise HTTPError(400, f"Encoding error saving {path}: {e}") from e
    if not isinstance(content, str):
        raise HTTPError(400, f"content of {path} must be text (format 'text') or base64")
    return content.encode("utf-8")


_MIMETYPES: dict[str, str | None] = {}


def _mimetype(name: str) -> str | None:
    """``mimetypes.guess_type(name)[0]``, cached by extension (a listing asks once per type)."""
    ext = os.path.splitext(name)[1]
    if ":" in name or ext.lower() in mimetypes.encodings_map or ext in mimetypes.suffix_map:
        return mimetypes.guess_type(name)[0]  # schemes, .gz/.tgz...: the full rules
    if ext not in _MIMETYPES:
        _MIMETYPES[ext] = mimetypes.guess_type("x" + ext)[0]
    return _MIMETYPES[ext]


def _local_files(root: str) -> dict[str, int]:
    """Relative path → size of the ordinary files under ``root`` (internal names skipped)."""
    out: dict[str, int] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".datadive-")]
        for name in filenames:
            if not name.startswith(".datadive-"):
                p = os.path.join(dirpath, name)
                try:
                    out[os.path.relpath(p, root)] = os.path.getsize(p)
                except OSError:
                    pass
    return out


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _rmtree(path: str) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
