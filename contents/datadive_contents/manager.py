"""DatadiveContentsManager: an async ContentsManager on object stores, with local working copies.

Two modes:

- **single root** (``store_url`` set): the whole file browser is one store (e.g.
  ``s3://bucket/prefix``), a complete S3-backed ContentsManager on its own.
- **Datadive** (``service_url`` and a token, or ``project_source``): each project the user may see
  is a top-level folder, backed by the project's store; viewers get read-only folders.

This module speaks the contents API (models in, models out, errors as HTTP errors); each job
below it has its own module: which folders a server shows (:mod:`.mounts`), how a file syncs
(:mod:`.workingcopy`, its state in :mod:`.syncstate`), when working copies sync
(:mod:`.syncloop`), notebook bytes and signatures (:mod:`.signing`), models (:mod:`.models`),
chunked uploads (:mod:`.uploads`) and where new files land (:mod:`.landing`).
"""

from __future__ import annotations

import asyncio
import getpass
import hashlib
import mimetypes
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import nbformat
from jupyter_server.services.contents.manager import AsyncContentsManager, ContentsManager
from tornado.web import HTTPError
from traitlets import Any as AnyTrait
from traitlets import Bool, Float, Instance, Int, Unicode, default

from . import __version__, models
from .checkpoints import DatadiveCheckpoints
from .landing import ROOT_NOTICE, landing_mount
from .mounts import Mount, Mounts
from .nbwrite import Prepared
from .signing import NotebookSigning
from .stores import (
    Conflict,
    NotFound,
    ObjectInfo,
    ObjectStore,
    PathRejected,
    Refused,
    StoreError,
    StoreUnavailable,
    store_from_url,
)
from .syncloop import SyncLoop
from .uploads import ChunkedUploads
from .workingcopy import KEEP, DirFound, SyncConflict, SyncOffline, is_internal

if TYPE_CHECKING:
    from .serviceprojects import ServiceProjects

    class _ContentsManager(AsyncContentsManager):
        """jupyter_server's AsyncContentsManager with the types of the (unannotated) methods
        this manager calls or extends."""

        def emit(self, data: dict[str, Any]) -> None: ...

        def run_pre_save_hooks(self, model: dict[str, Any], path: str, **kwargs: Any) -> None: ...

        def run_post_save_hooks(self, model: dict[str, Any], os_path: str) -> None: ...

        def mark_trusted_cells(self, nb: nbformat.NotebookNode, path: str = "") -> None: ...

        def validate_notebook_model(
            self, model: dict[str, Any], validation_error: dict[str, Any] | None = None
        ) -> dict[str, Any]: ...

        async def increment_filename(
            self, filename: str, path: str = "", insert: str = ""
        ) -> str: ...

        async def new_untitled(
            self, path: str = "", type: str = "", ext: str = ""
        ) -> dict[str, Any]: ...

        async def new(
            self, model: dict[str, Any] | None = None, path: str = ""
        ) -> dict[str, Any]: ...

        async def copy(self, from_path: str, to_path: str | None = None) -> dict[str, Any]: ...

else:
    _ContentsManager = AsyncContentsManager


def _http_error(e: Exception, path: str) -> HTTPError:
    if isinstance(e, HTTPError):
        return e
    if isinstance(e, PathRejected):
        return HTTPError(400, str(e))
    if isinstance(e, NotFound):
        return HTTPError(404, f"No such file or directory: {path}")
    if isinstance(e, SyncConflict):
        return HTTPError(409, str(e))
    if isinstance(e, Refused):
        return HTTPError(409, str(e))
    if isinstance(e, Conflict):
        return HTTPError(409, f"{path} was changed by someone else; reload it and try again ({e})")
    if isinstance(e, SyncOffline):
        return HTTPError(503, str(e))
    if isinstance(e, StoreUnavailable):
        return HTTPError(503, f"the project store is unreachable: {e}")
    return HTTPError(500, f"unexpected storage error on {path}: {e}")


class DatadiveContentsManager(_ContentsManager):
    """Contents on object stores (S3 or a local directory store) with local working copies."""

    store_url = Unicode(
        "",
        config=True,
        help="Single-root mode: the store behind the whole file browser, e.g. "
        "s3://bucket/prefix?endpoint_url=http://127.0.0.1:9000 or file:///srv/data. "
        "Leave empty in Datadive mode (service_url or project_source).",
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
    service_url = Unicode(
        config=True,
        help="Datadive mode through the Datadive service: the service's URL (default: "
        "$DATADIVE_SERVICE_URL). With service_token and without store_url, each project the user "
        "may see is a folder, listed, created and read and written through the service (this "
        "server holds no storage credentials).",
    )
    service_token = Unicode(
        help="JupyterHub API token for service_url (default: $JUPYTERHUB_API_TOKEN).",
    )
    project_source = AnyTrait(
        None,
        allow_none=True,
        config=True,
        help="Datadive mode: callable (sync or async) returning the projects the user may see, "
        'as [{"id", "name", "role"}] (role viewer | editor | owner). Default: the service\'s '
        "list when service_url is set.",
    )
    project_store_factory = AnyTrait(
        None,
        allow_none=True,
        config=True,
        help="Datadive mode: callable project_id -> ObjectStore for that project's files. "
        "Default: through the service when service_url is set.",
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
        "to create the personal project. Default: through the service when service_url is set.",
    )
    # traitlets' stubs type klass as type[T], which mypy refuses for an abstract class
    single_store = Instance(  # type: ignore[call-overload]
        ObjectStore,
        allow_none=True,
        help="Single-root mode: the store instance (built from store_url).",
    )

    _service: ServiceProjects | None = None

    @default("service_url")
    def _default_service_url(self) -> str:
        return os.environ.get("DATADIVE_SERVICE_URL", "")

    @default("service_token")
    def _default_service_token(self) -> str:
        return os.environ.get("JUPYTERHUB_API_TOKEN", "")

    def _service_projects(self) -> ServiceProjects | None:
        """The service behind Datadive mode, when service_url (and a token) are set and the
        manager has no store of its own."""
        if self._service is None and self.service_url and self.service_token:
            if not self.store_url and self.single_store is None:
                from .serviceprojects import ServiceProjects  # aiohttp: only in Datadive mode

                self._service = ServiceProjects(
                    self.service_url, self.service_token, self.service_timeout
                )
        return self._service

    @default("project_source")
    def _default_project_source(self) -> Callable[[], Awaitable[list[dict[str, Any]]]] | None:
        service = self._service_projects()
        return service.list if service else None

    @default("project_store_factory")
    def _default_project_store_factory(self) -> Callable[[str], ObjectStore] | None:
        service = self._service_projects()
        return service.store if service else None

    @default("project_creator")
    def _default_project_creator(self) -> Callable[[str], Awaitable[dict[str, Any]]] | None:
        service = self._service_projects()
        return service.create if service else None

    @default("root_dir")
    def _default_root_dir(self) -> str:
        # as FileContentsManager: the server's root_dir (the base class says "/", which would put
        # working copies at the filesystem root)
        return getattr(self.parent, "root_dir", None) or os.getcwd()

    @default("username")
    def _default_username(self) -> str:
        return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()

    @default("files_handler_params")
    def _default_files_handler_params(self) -> dict[str, Any]:
        # jupyter_server's FilesHandler (/files/..., Lab's Download) reads through this manager,
        # but as a StaticFileHandler it cannot even start without a ``path`` (it answered nothing)
        return {"path": self.working_root}

    @default("checkpoints_class")
    def _default_checkpoints_class(self) -> type[DatadiveCheckpoints]:
        return DatadiveCheckpoints

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: which folders this server shows (by project id and by label); see .mounts
        self.mounts = Mounts(self, on_list=lambda: self.sync.start())
        #: the periodic scan, start-up recovery and flushes; see .syncloop
        self.sync = SyncLoop(self.mounts, self)
        self.uploads = ChunkedUploads()
        self._signing: NotebookSigning | None = None
        #: hide_globs and their matcher (see _list_filter)
        self._hide_re: tuple[tuple[str, ...], Callable[[str], object] | None] = ((), None)
        #: id of the project open in the Datadive panel (PUT datadive/api/current-project)
        self.current_project: str | None = None
        try:  # runs once the server's event loop starts
            from tornado.ioloop import IOLoop

            IOLoop.current().add_callback(self.sync.startup, self.flush_on_sigterm)
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

    def single_root_store(self) -> ObjectStore:
        """Single-root mode: the store behind the whole file browser (built from store_url)."""
        store: ObjectStore | None = self.single_store
        if store is not None:
            return store
        if not self.store_url:
            raise HTTPError(
                500,
                "DatadiveContentsManager has no store: set c.DatadiveContentsManager.store_url "
                "(s3://bucket/prefix or file:///dir), or service_url for Datadive mode",
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
        self.single_store = store = store_from_url(self.store_url, **opts)
        return store

    async def resolve(self, path: str) -> tuple[Mount | None, str]:
        """API path → (mount, path inside it); (None, "") is the Datadive root. See
        :class:`.mounts.Mounts`."""
        return await self.mounts.resolve(path)

    def project_at(self, folder: str) -> Mount | None:
        """The project shown at top-level ``folder`` as last listed (None: no such folder)."""
        return self.mounts.by_folder.get(folder)

    def check_writable(self, m: Mount | None, rel: str, path: str) -> Mount:
        """``m`` if the user may change ``rel`` in it, else the HTTP error that says why."""
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
        if rel in m.wc.readonly:
            raise HTTPError(
                403,
                f"{path} is a dataset linked from another project and is read-only; to change "
                "it, make a copy (Datadive panel: Make a copy; or save under another name)",
            )
        return m

    # -- where new files land ------------------------------------------------------------
    async def landing_folder(self, path: str) -> str:
        """The folder a new file made in ``path`` goes to: ``path`` itself where the user can
        write, else the open project or the personal project (see :mod:`.landing`)."""
        if not self.datadive_mode:
            return path
        m, _ = await self.resolve(path)
        if m is not None and m.writable and m.attached:
            return path
        target: Mount = await landing_mount(
            self.mounts.list,
            self.mounts.refresh,
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

    async def new_untitled(self, path: str = "", type: str = "", ext: str = "") -> dict[str, Any]:
        path = path.strip("/")
        if type == "directory" and self.datadive_mode:
            m, rel = await self.resolve(path)
            if m is None:
                raise HTTPError(
                    403,
                    f"{ROOT_NOTICE} Make a new folder inside a project folder, or create a "
                    "project in the Datadive panel.",
                )
            return await super().new_untitled(path, type, ext)
        return await super().new_untitled(await self.landing_folder(path), type, ext)

    async def new(self, model: dict[str, Any] | None = None, path: str = "") -> dict[str, Any]:
        path = path.strip("/")
        parent, _, name = path.rpartition("/")
        if self.datadive_mode and (model or {}).get("type") != "directory" and name:
            folder = await self.landing_folder(parent)
            if folder != parent:
                path = await self.increment_filename(name, folder)
                path = f"{folder}/{path}"
        return await super().new(model, path)

    # -- existence ----------------------------------------------------------------------
    async def is_hidden(self, path: str) -> bool:
        path = path.strip("/")
        return any(seg.startswith(".") for seg in path.split("/") if seg)

    async def file_exists(self, path: str = "") -> bool:
        try:
            m, rel = await self.resolve(path)
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

    async def dir_exists(self, path: str) -> bool:
        try:
            m, rel = await self.resolve(path)
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

    async def exists(self, path: str) -> bool:
        return await self.file_exists(path) or await self.dir_exists(path)

    # -- get --------------------------------------------------------------------------------
    async def get(
        self,
        path: str,
        content: bool = True,
        type: str | None = None,
        format: str | None = None,
        require_hash: bool = False,
    ) -> dict[str, Any]:
        path = path.strip("/")
        if path and not self.allow_hidden and await self.is_hidden(path):
            raise HTTPError(
                404, f"{path} is hidden; hidden files are not served (allow_hidden is off)"
            )
        try:
            m, rel = await self.resolve(path)
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

    async def _root_model(self, content: bool) -> dict[str, Any]:
        model = models.base_model("", "directory", models.EPOCH, writable=False)
        if content:
            model["format"] = "json"
            model["content"] = [
                {
                    **models.base_model(m.folder, "directory", models.EPOCH, writable=m.writable),
                    "content": None,
                    "format": None,
                }
                for m in await self.mounts.list()
                if self.allow_hidden or not m.folder.startswith(".")
            ]
        return model

    async def _dir_model(
        self, m: Mount, rel: str, path: str, found: DirFound | None
    ) -> dict[str, Any]:
        model = models.base_model(path, "directory", models.EPOCH, writable=m.writable)
        if found is None:
            return model
        entries = models.folder_entries(m, rel, found, self._list_filter())
        model["content"] = entries
        model["format"] = "json"
        return model

    def _list_filter(self) -> Callable[[str], bool]:
        """``name → bool``: not internal, not hidden (unless allow_hidden), and should_list()
        (hide_globs compiled into one regular expression: one match per entry, not one
        fnmatch per glob)."""
        allow_hidden = self.allow_hidden
        should_list: Callable[[str], bool]
        if type(self).should_list is not ContentsManager.should_list:
            should_list = self.should_list
        else:
            globs = tuple(self.hide_globs)
            if self._hide_re[0] != globs:
                self._hide_re = (globs, models.globs_matcher(globs))
            hidden = self._hide_re[1]

            def not_hidden(name: str) -> bool:
                return hidden is None or hidden(name) is None

            should_list = not_hidden

        def listed(name: str) -> bool:
            if name.startswith(".datadive-") or (not allow_hidden and name.startswith(".")):
                return False
            return should_list(name)

        return listed

    async def _file_model(
        self,
        m: Mount,
        rel: str,
        path: str,
        info: ObjectInfo | None,
        content: bool,
        type: str | None,
        format: str | None,
        require_hash: bool,
    ) -> dict[str, Any]:
        local = m.wc.local(rel)
        if (content or require_hash) and info is not None:
            await m.wc.ensure_local(rel, info)
        if info is None or (os.path.isfile(local) and m.wc.local_changed(rel)):  # pending here
            st = os.stat(local)
            modified, size = models.timestamp(st.st_mtime), st.st_size
        else:
            modified, size = info.last_modified, info.size
        kind = type or ("notebook" if path.endswith(".ipynb") else "file")
        linked = rel in m.wc.readonly or (info is not None and info.read_only)
        model = models.base_model(path, kind, modified, writable=m.writable and not linked)
        model["size"] = size
        if kind == "file":
            model["mimetype"] = mimetypes.guess_type(path)[0]
        if not (content or require_hash):
            return model
        data = await asyncio.to_thread(models.read_bytes, local)
        if require_hash:
            model["hash"] = hashlib.new(self.hash_algorithm, data).hexdigest()
            model["hash_algorithm"] = self.hash_algorithm
        if not content:
            return model
        if kind == "notebook":
            validation_error: dict[str, Any] = {}
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
            models.set_file_content(model, data, format, path)
        return model

    # -- save -------------------------------------------------------------------------------
    async def save(self, model: dict[str, Any], path: str = "") -> dict[str, Any]:
        path = path.strip("/")
        chunk = model.get("chunk")
        if chunk is None or chunk == 1:
            self.run_pre_save_hooks(model=model, path=path)
        if "type" not in model:
            raise HTTPError(400, "No file type provided")
        if "content" not in model and model["type"] != "directory":
            raise HTTPError(400, "No file content provided")
        try:
            m, rel = await self.resolve(path)
            m = self.check_writable(m, rel, path)
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
                prepared = await self.signing.prepare(model["content"])
                data = prepared.data
                if not prepared.trusted:
                    self.log.warning("Notebook %s is not trusted", path)
            elif model["type"] == "file":
                data = models.decode(model["content"], model.get("format"), path)
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
                    self.signing.store_signature(prepared, path)
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

    async def _save_chunk(
        self, m: Mount, rel: str, path: str, model: dict[str, Any], chunk: int
    ) -> dict[str, Any]:
        """Lab's chunked upload (see .uploads): chunk -1 finishes the file and uploads it."""
        if model["type"] != "file":
            raise HTTPError(
                400, f'File type "{model["type"]}" is not supported for large file transfer'
            )
        data = models.decode(model["content"], model.get("format"), path)
        tmp = await self.uploads.append(m.wc.tmp_dir, path, data, chunk)
        if chunk != -1:
            st = os.stat(tmp)
            model = models.base_model(path, "file", models.timestamp(st.st_mtime))
            model["size"] = st.st_size
            return model
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

    @property
    def signing(self) -> NotebookSigning:
        """Notebook bytes and trust signatures for saves (made on the event loop thread, where
        the notary and its secret file are created)."""
        if self._signing is None:
            self._signing = NotebookSigning(self.notary, self.notebook_cache_mb << 20, self.log)
        return self._signing

    async def signatures_stored(self) -> None:
        """Wait until every signature queued so far is in the notary's database."""
        if self._signing is not None:
            await self._signing.stored()

    # -- delete / rename / copy ---------------------------------------------------------------
    async def delete_file(self, path: str) -> None:
        path = path.strip("/")
        try:
            m, rel = await self.resolve(path)
            m = self.check_writable(m, rel, path)
            if await m.store.head(rel) is not None or os.path.isfile(m.wc.local(rel)):
                await m.wc.delete(rel)
                return
            if not await self.dir_exists(path):
                raise HTTPError(404, f"File or directory does not exist: {path}")
            listing = await m.store.list(rel, recursive=True)
            visible = [f.key for f in listing.files if not is_internal(f.key)]
            if not visible:
                visible = list(models.local_files(m.wc.local(rel)))
            if visible and not self.always_delete_dir and not self.delete_to_trash:
                # like FileContentsManager: without trash, non-empty folders need always_delete_dir
                # (here every deleted file stays recoverable from the store's versions)
                raise HTTPError(400, f"Directory {path} not empty")
            await m.wc.delete_folder(rel, [f.key for f in listing.files])
        except Exception as e:
            raise _http_error(e, path) from e

    async def rename_file(self, old_path: str, new_path: str) -> None:
        old_path, new_path = old_path.strip("/"), new_path.strip("/")
        if old_path == new_path:
            return
        try:
            m, rel = await self.resolve(old_path)
            m2, rel2 = await self.resolve(new_path)
            m = self.check_writable(m, rel, old_path)
            m2 = self.check_writable(m2, rel2, new_path)
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
            await m.wc.moved(rel, m2.wc, rel2, pairs)  # the local copy and its sync state
            if not pairs:  # a local-only file: upload it under its new name
                await m2.wc.scan()
            elif len(pairs) == 1 and pairs[0][0] == rel:  # a file: keep it on disk for kernels
                await m2.wc.ensure_local(rel2)
        except Exception as e:
            raise _http_error(e, old_path) from e

    async def copy(self, from_path: str, to_path: str | None = None) -> dict[str, Any]:
        from_path = from_path.strip("/")
        try:
            if not await self.dir_exists(from_path) or await self.file_exists(from_path):
                return await super().copy(from_path, to_path)
            m, rel = await self.resolve(from_path)
            from_dir, _, from_name = from_path.rpartition("/")
            to_path = (to_path if to_path is not None else from_dir).strip("/")
            to_name = from_name
            if await self.dir_exists(to_path):
                to_name = await self.increment_filename(from_name, to_path, insert="-Copy")
            dest = f"{to_path}/{to_name}" if to_path else to_name
            m2, rel2 = await self.resolve(dest)
            m2 = self.check_writable(m2, rel2, dest)
            assert m is not None  # only the Datadive root has no mount (fails here, with a 500)
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
        local = await asyncio.to_thread(models.local_files, m.wc.local(rel))
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
    async def get_kernel_path(self, path: str, model: dict[str, Any] | None = None) -> str:
        """The kernel's cwd (API path of the notebook's folder); its working copy is made
        current first so ``pd.read_csv("survey.csv")`` finds the file on disk."""
        path = path.strip("/")
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        try:
            m, rel = await self.resolve(path)
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
        return self.mounts.local_path(path)

    def _get_os_path(self, path: str) -> str:
        """Same as local_path (the name FileContentsManager and its tests use)."""
        return self.local_path(path)

    # -- sync (see .syncloop) --------------------------------------------------------------
    async def flush_all(self) -> dict[str, int]:
        """Upload everything pending in every working copy (call on shutdown).
        Returns {folder: pending count left}: non-zero only if a store was unreachable."""
        return await self.sync.flush_all()

    async def sync_status(self) -> dict[str, Any]:
        """Per project: state (synced | syncing | conflict | offline), pending count, conflicts."""
        return await self.sync.status()

    async def recover(self) -> dict[str, int]:
        """Mount everything and upload what a previous process left pending (called at start-up)."""
        return await self.sync.recover()

    async def close_stores(self) -> None:
        """Stop the periodic sync and close every project's store (its HTTP session); the
        working copies stay open. The server extension calls it on stop, after :meth:`flush_all`."""
        self.sync.stop()
        for m in list(self.mounts.by_key.values()):
            try:
                await m.store.close()
            except Exception as e:  # closing is best effort; the process is stopping
                self.log.warning("closing the store of %s failed: %s", m.folder or "/", e)
        if self._service is not None:
            await self._service.close()

    async def shutdown(self) -> None:
        self.sync.stop()
        await self.flush_all()
        await self.close_stores()
        for m in self.mounts.by_key.values():
            m.wc.close()
        if self._signing is not None:
            self._signing.close()
