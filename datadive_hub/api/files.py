"""files: list, download, upload, delete, copy/move, versions and preview of a project's files.

Works while the user's server is stopped: the service holds the store credentials, checks the
caller's role in the project on every call (viewer reads, editor writes) and confines every key to
``projects/<project-id>/``. Paths are validated by ``datadive_contents.paths`` (hostile → 400).
Store errors map to HTTP: NotFound → 404, Conflict → 412, StoreUnavailable → 502.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import email.utils
import mimetypes
import re
import threading
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any
from urllib.parse import quote

from datadive_contents import preview as previews
from datadive_contents.paths import normalize_path
from datadive_contents.stores.base import (
    Conflict,
    NotFound,
    ObjectInfo,
    ObjectStore,
    PathRejected,
    StoreError,
    StoreUnavailable,
)
from tornado import iostream, web

from .. import access, file_names, history, linked
from ..guest_servers import DatadiveService
from ..history import HistoryError
from ..models import Role
from ..storage_policy import QuotaExceeded
from .base import APIHandler
from .projects import page_size

ID = r"(?P<project_id>[^/]+)"
#: uploads are passed to the store in pieces of this size
FEED_BYTES = 1 << 20
PRESIGN_SECONDS = 300


# ---------------------------------------------------------------- plain helpers


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``Range: bytes=a-b`` → ``(start, end_exclusive)``; None to send the whole file (no header,
    several ranges, or a unit other than bytes). Raises ValueError if unsatisfiable."""
    if not header:
        return None
    m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header)
    if not m:
        return None  # multiple ranges or another unit: RFC 9110 allows ignoring Range
    first, last = m.group(1), m.group(2)
    if first == "" and last == "":
        return None
    if first == "":  # suffix: the last N bytes
        n = int(last)
        if n == 0:
            raise ValueError("empty suffix range")
        return max(0, size - n), size
    start = int(first)
    end = size if last == "" else min(int(last) + 1, size)
    if start >= size or end <= start:
        raise ValueError("range starts beyond the end of the file")
    return start, end


def etag_matches(header: str | None, etag: str | None) -> bool:
    """Whether an If-Match / If-None-Match header value names ``etag`` (``*`` matches any)."""
    if not header or etag is None:
        return False
    for tag in header.split(","):
        tag = tag.strip()
        if tag == "*":
            return True
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag.strip('"') == etag:
            return True
    return False


def file_json(info: ObjectInfo) -> dict[str, Any]:
    """The JSON shape of one stored file (``path`` relative to the project)."""
    return {
        "path": info.key,
        "name": info.key.rsplit("/", 1)[-1],
        "size": info.size,
        "etag": info.etag,
        "last_modified": info.last_modified.isoformat() if info.last_modified else None,
        "version_id": info.version_id,
    }


async def check_file_slot(store: ObjectStore, key: str) -> None:
    """409 unless ``key`` can hold a file: no folder of that name, no parent that is a file
    (S3 would allow both, but a file browser and a kernel's file system cannot show them)."""
    parts = key.split("/")
    parents = ["/".join(parts[:i]) for i in range(1, len(parts))]
    below = await store.list(key)
    heads = await asyncio.gather(*(store.head(p) for p in parents))
    if below.files or below.folders:
        raise web.HTTPError(
            409, f"{key!r} is a folder; choose another name for the file (or delete the folder)"
        )
    for parent, info in zip(parents, heads, strict=True):
        if info is not None:
            raise web.HTTPError(
                409, f"{parent!r} is a file, so it cannot hold {key!r}; choose another folder"
            )


@contextlib.contextmanager
def store_errors(path: str) -> Iterator[None]:
    """Turn store errors into HTTP errors whose message says what to do."""
    try:
        yield
    except HistoryError as e:
        raise web.HTTPError(e.status, e.message) from None
    except PathRejected as e:
        raise web.HTTPError(400, str(e)) from None
    except NotFound:
        raise web.HTTPError(
            404, f"No file or version {path!r} in this project; list the files with GET .../files"
        ) from None
    except Conflict as e:
        raise web.HTTPError(
            412,
            f"{path!r} changed since you read it ({e}); nothing was written. "
            "Download the current version, merge your changes and upload again",
        ) from None
    except StoreUnavailable as e:
        raise web.HTTPError(
            502,
            f"The project file store is unavailable ({e}); nothing was changed. "
            "Try again in a minute; if it persists, ask a hub admin to check the storage endpoint",
        ) from None
    except StoreError as e:
        raise web.HTTPError(
            502, f"The project file store failed ({e}); try again, or tell a hub admin"
        ) from None
    except (IsADirectoryError, NotADirectoryError):
        raise web.HTTPError(
            409, f"A file and a folder would share the name {path!r}; choose another name"
        ) from None


async def preview_file(
    service: DatadiveService,
    store: ObjectStore,
    key: str,
    *,
    rows: int,
    version_id: str | None = None,
    sheet: str | None = None,
    summary: bool = False,
) -> dict[str, Any]:
    """The preview of ``key`` (:func:`datadive_contents.preview.preview`, bounded by the
    service's ``preview_max_bytes``; parsing runs off the event loop), or an HTTP error:
    415 not a previewable type, 422 not what its name says, 404 / 502 as :func:`store_errors`."""
    try:
        previews.format_for(key)
    except previews.UnsupportedFormat as e:
        raise web.HTTPError(415, str(e)) from None
    max_bytes = int(getattr(service, "preview_max_bytes", previews.DEFAULT_MAX_BYTES))
    with store_errors(key):
        try:
            return await previews.preview(
                store,
                key,
                rows=rows,
                version_id=version_id,
                sheet=sheet,
                max_bytes=max_bytes,
                summary=summary,
            )
        except previews.PreviewFailed as e:
            raise web.HTTPError(422, f"Cannot preview {key!r}: {e}") from None


def rel_path(path: str, *, allow_root: bool = False) -> str:
    """A path inside a project, normalised (``datadive_contents.paths``), or 400 saying why not."""
    try:
        return normalize_path(path, allow_root=allow_root)
    except PathRejected as e:
        raise web.HTTPError(400, str(e)) from None


def _bool_arg(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


class FilesBase(APIHandler):
    """Shared helpers: authorization + the project's store, and path validation."""

    def project_store(self, project_id: str, need: Role) -> ObjectStore:
        """Check the caller's role, then end the database session: what follows awaits the store."""
        project = access.project_for(self, project_id, need)
        self.project_id = project.id
        self.release_db()
        view: ObjectStore = self.project_files(project.id)
        return view

    async def check_quota(self, adding: int) -> None:
        """413 before anything is written if ``adding`` bytes would pass a storage quota."""
        try:
            await self.service.storage.check(self.project_id, adding)
        except QuotaExceeded as e:
            raise web.HTTPError(413, str(e)) from None

    @property
    def sessions(self) -> history.SessionFactory:
        """Short database sessions for the history index (opened after the store's awaits)."""
        sessions: history.SessionFactory = self.settings["session_factory"]
        return sessions

    def record(self, infos: Iterable[ObjectInfo]) -> None:
        """Remember that the caller wrote these versions (their authors)."""
        history.record_writes(self.sessions, self.project_id, infos, self.user.name)

    def rel(self, path: str, *, allow_root: bool = False) -> str:
        return rel_path(path, allow_root=allow_root)

    async def listing(self, store: ObjectStore, prefix: str) -> None:
        recursive = _bool_arg(self.get_argument("recursive", None))
        with store_errors(prefix):
            result = await store.list(prefix, recursive=recursive)
        out = {
            "prefix": prefix,
            "recursive": recursive,
            "files": [file_json(f) for f in result.files],
            "folders": [{"path": d, "name": d.rsplit("/", 1)[-1]} for d in result.folders],
        }
        links = linked.links_under(self.sessions, self.project_id, prefix, self.user)
        linked.merge_listing(out, links, prefix, recursive)
        self.write_json(out)

    def refuse_linked(self, key: str, doing: str) -> None:
        """409 when ``key`` is (or holds, or lies inside) a dataset linked from elsewhere."""
        clash = linked.clash_at(self.sessions, self.project_id, key)
        if clash is not None:
            raise web.HTTPError(409, linked.linked_message(clash, doing))

    def source_of(self, key: str, version_id: str | None) -> tuple[ObjectStore, str, str | None]:
        """Where the bytes of ``key`` live: (store, key in it, version). A dataset linked from
        another project reads that project's object at the pinned version, and only for a
        caller who may read that project now (else 404, as for a file that is not there)."""
        link = linked.link_at(self.sessions, self.project_id, key, self.user)
        if link is None:
            return self.project_files(self.project_id), key, version_id
        if not link.readable:
            raise web.HTTPError(
                404,
                f"{key!r} is a dataset linked from a project you cannot read; ask a member of "
                "that project for access",
            )
        if version_id not in (None, link.version_id):
            raise web.HTTPError(
                404, f"{key!r} is a linked dataset pinned to version {link.version_id!r} only"
            )
        self.reading_link = link
        return self.store, link.source_key, link.version_id

    #: set by source_of: the link being read, if any
    reading_link: linked.Linked | None = None

    def missing_pinned(self, key: str) -> web.HTTPError:
        """404 for a linked dataset whose pinned version no longer exists in its project."""
        link = self.reading_link
        assert link is not None
        return web.HTTPError(
            404,
            f"{key!r} is linked to version {link.version_id!r} of {link.source_path!r} in "
            f"project {link.source_project_name!r}, which no longer exists there (deleted or "
            "expired); an editor can pin the latest "
            "version with POST .../datasets/<id>/update or remove the link",
        )


# ---------------------------------------------------------------- handlers


class FilesHandler(FilesBase):
    """``GET projects/{id}/files?prefix=&recursive=``: list a folder."""

    async def get(self, project_id: str) -> None:
        store = self.project_store(project_id, Role.viewer)
        prefix = self.rel(self.get_argument("prefix", ""), allow_root=True)
        await self.listing(store, prefix)


class _UploadAborted(Exception):
    """Raised into the store's upload to make it discard what it has (multipart abort)."""


@web.stream_request_body
class FileHandler(FilesBase):
    audit_actions = {"get": "downloaded", "put": "uploaded", "delete": "deleted"}
    """``GET/HEAD/PUT/DELETE projects/{id}/files/{path}``: one file (DELETE: or a folder)."""

    _upload: asyncio.Future[Any] | None = None
    _queue: asyncio.Queue[Any] | None = None

    # -- upload (streamed) -----------------------------------------------------------------
    # The base class authenticates before the body is read, refuses a body over body_limit()
    # with 413 and answers every refusal once the body has been read and dropped.

    def body_limit(self) -> int:
        if self.request.method == "PUT":
            return int(self.service.max_upload_bytes)
        return super().body_limit()

    def too_large_message(self, limit: int) -> str:
        if self._quota_message:
            return self._quota_message
        if self.request.method == "PUT":
            return self._too_large_message(limit)
        return super().too_large_message(limit)

    async def before_body(self) -> None:
        if self.request.method == "PUT":
            await self._start_upload()

    def body_chunk(self, chunk: bytes) -> Any:
        if self.request.method != "PUT":
            return super().body_chunk(chunk)
        return self._upload_chunk(chunk)

    def body_refused(self) -> None:
        self._abort()

    async def body_settle(self) -> None:
        if self._upload is not None:
            self._abort()
            with contextlib.suppress(BaseException):
                await self._upload  # the store discards the partial upload

    async def _start_upload(self) -> None:
        kw = self.path_kwargs
        store = self.project_store(kw["project_id"], Role.editor)
        key = self.rel(kw["path"])
        self.refuse_linked(key, "overwritten")
        if_match = self.request.headers.get("If-Match")
        if_none_match = self.request.headers.get("If-None-Match")
        if if_none_match is not None and if_none_match.strip() != "*":
            raise web.HTTPError(400, "If-None-Match on upload only accepts '*' (create only)")
        match_tag = None
        if if_match is not None:
            match_tag = if_match.strip()
            match_tag = (match_tag[2:] if match_tag.startswith("W/") else match_tag).strip('"')
        with store_errors(key):  # fail fast, before the body arrives; the store checks again
            current = await store.head(key)
            if current is None:
                await check_file_slot(store, key)
            if if_none_match is not None and current is not None:
                raise Conflict(f"{key} already exists (ETag {current.etag})")
            if match_tag is not None:
                if current is None:
                    raise Conflict(f"{key} no longer exists")
                if match_tag != "*" and current.etag != match_tag:
                    raise Conflict(f"current ETag is {current.etag}, you sent {match_tag}")
        await self._limit_to_quota()
        self._existed = current is not None
        self._key = key
        self._buf = bytearray()
        self._queue = asyncio.Queue(maxsize=4)
        self._upload = asyncio.ensure_future(
            store.put_stream(
                key,
                self._body_chunks(),
                if_match=match_tag if match_tag not in (None, "*") else None,
                if_none_match=if_none_match is not None,
                author=self.user.name,
            )
        )
        # an upload abandoned by the client is never awaited: collect its outcome here
        self._upload.add_done_callback(lambda f: f.cancelled() or f.exception())

    async def _limit_to_quota(self) -> None:
        """Refuse at once an upload whose Content-Length would pass a storage quota; a body
        without one is cut off (and discarded) at the room left."""
        storage = self.service.storage
        room = await storage.room(self.project_id)
        if room is None:
            return
        length = self.request.headers.get("Content-Length", "")
        if length.isdigit():
            await self.check_quota(int(length))
        elif room < self._body_limit:
            self._body_limit = room
            self._quota_message = await storage.exceeded_message(self.project_id, None)

    _quota_message: str | None = None

    @staticmethod
    def _too_large_message(limit: int) -> str:
        return (
            f"The file is larger than this hub accepts ({limit} bytes, {limit / 2**20:.0f} MiB); "
            "nothing was written. Split it, or ask a hub admin to raise "
            "DatadiveService.max_upload_bytes"
        )

    async def _body_chunks(self) -> AsyncIterator[bytes]:
        assert self._queue is not None
        while True:
            item = await self._queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    async def _feed(self, item: bytes | None) -> None:
        """Queue ``item`` for the store, unless the upload already ended (an error)."""
        assert self._queue is not None and self._upload is not None
        if self._upload.done():
            return
        put = asyncio.ensure_future(self._queue.put(item))
        await asyncio.wait({put, self._upload}, return_when=asyncio.FIRST_COMPLETED)
        if not put.done():
            put.cancel()

    def _abort(self) -> None:
        """Make the store discard the partial upload (S3: abort the multipart upload)."""
        if self._upload is None or self._upload.done() or self._queue is None:
            return
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(_UploadAborted())

    async def _upload_chunk(self, chunk: bytes) -> None:
        if self._upload is None:
            return
        self._buf += chunk
        if len(self._buf) >= FEED_BYTES:
            data, self._buf = bytes(self._buf), bytearray()
            await self._feed(data)

    def on_connection_close(self) -> None:
        self._abort()
        super().on_connection_close()

    async def put(self, project_id: str, path: str) -> None:
        if self._finished or self._upload is None:
            return
        if self._buf:
            await self._feed(bytes(self._buf))
            self._buf = bytearray()
        await self._feed(None)
        with store_errors(self._key):
            info = await self._upload
        self.record([info])
        self.log.info(
            "%s uploaded %s (%s bytes) to project %s",
            self.user.name,
            info.key,
            info.size,
            self.project_id,
        )
        self.set_header("ETag", f'"{info.etag}"')
        self.write_json(file_json(info), status=200 if self._existed else 201)

    # -- download --------------------------------------------------------------------------

    async def get(self, project_id: str, path: str) -> None:
        await self._download(project_id, path, body=True)

    async def head(self, project_id: str, path: str) -> None:
        await self._download(project_id, path, body=False)

    async def _download(self, project_id: str, path: str, *, body: bool) -> None:
        store = self.project_store(project_id, Role.viewer)
        if not path.strip("/"):
            return await self.listing(store, "")
        key = self.rel(path)
        version_id = self.get_argument("version_id", None) or None
        store, src, version_id = self.source_of(key, version_id)
        with store_errors(key):
            info = await store.head(src, version_id=version_id)
            if info is None and version_id and self.reading_link is None:
                src, info = await history.under_earlier_name(
                    store, self.sessions, self.project_id, key, version_id
                )
        if info is None and self.reading_link is not None:
            raise self.missing_pinned(key)
        if info is None:
            hint = ""
            with contextlib.suppress(StoreError):
                below = await store.list(key)
                if below.files or below.folders:
                    hint = f"; it is a folder: list it with GET .../files?prefix={quote(key)}"
            raise web.HTTPError(
                404,
                f"No file {key!r}"
                + (f" with version {version_id!r}" if version_id else "")
                + f" in this project{hint or '; list the files with GET .../files'}",
            )
        if _bool_arg(self.get_argument("presign", None)):
            url = None if version_id else await store.presign_get(src, PRESIGN_SECONDS)
            self.write_json(
                {
                    "url": url,
                    "expires_in": PRESIGN_SECONDS if url else None,
                    "size": info.size,
                    "etag": info.etag,
                    **(
                        {}
                        if url
                        else {
                            "message": "This store does not hand out direct links; download "
                            "without presign=1"
                        }
                    ),
                }
            )
            return
        self._file_headers(key, info)
        if self.reading_link is not None:
            self.set_header("X-Datadive-Linked", self.reading_link.source_project_id)
        if etag_matches(self.request.headers.get("If-None-Match"), info.etag):
            self.set_status(304)
            self.finish()
            return
        try:
            rng = parse_range(self.request.headers.get("Range"), info.size)
        except ValueError:
            self._unsatisfiable = info.size
            raise web.HTTPError(
                416, f"The requested range is outside {key!r} ({info.size} bytes)"
            ) from None
        start, end = rng if rng else (0, info.size)
        if rng:
            self.set_status(206)
            self.set_header("Content-Range", f"bytes {start}-{end - 1}/{info.size}")
        self.set_header("Content-Length", str(end - start))
        if not body or end <= start:
            self.finish()
            return
        # the bytes of exactly the version whose ETag the headers carry
        chunks = store.open_stream(
            src, version_id=version_id or info.version_id, start=start, end=end
        )
        with store_errors(key):  # errors before the first byte still become JSON errors
            first = await anext(chunks, b"")
        try:
            self.write(first)
            await self.flush()
            async for chunk in chunks:
                self.write(chunk)
                await self.flush()
        except iostream.StreamClosedError:
            self.log.info("Client went away while downloading %s", key)
            return
        except StoreError as e:
            self.log.error("Store failed in the middle of sending %s: %s", key, e)
            self.request.connection.close()  # type: ignore[union-attr]
            return
        self.finish()

    def _file_headers(self, key: str, info: ObjectInfo) -> None:
        name = key.rsplit("/", 1)[-1]
        ctype, _ = mimetypes.guess_type(name)
        self.set_header("Content-Type", ctype or "application/octet-stream")
        # served from the hub's origin: never let a browser render it as a page
        self.set_header("Content-Disposition", f"attachment; filename*=UTF-8''{quote(name)}")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Security-Policy", "sandbox")
        self.set_header("Cache-Control", "private, no-cache")
        self.set_header("Accept-Ranges", "bytes")
        self.set_header("ETag", f'"{info.etag}"')
        if info.last_modified:
            lm = info.last_modified
            lm = lm if lm.tzinfo else lm.replace(tzinfo=datetime.UTC)
            self.set_header("Last-Modified", email.utils.format_datetime(lm, usegmt=True))
            self.set_header("X-Datadive-Last-Modified", info.last_modified.isoformat())
        if info.version_id:
            self.set_header("X-Datadive-Version-Id", info.version_id)
        self.set_header("X-Datadive-Size", str(info.size))

    _unsatisfiable: int | None = None

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        if status_code == 416 and self._unsatisfiable is not None:
            self.set_header("Content-Range", f"bytes */{self._unsatisfiable}")
        super().write_error(status_code, **kwargs)

    # -- delete ----------------------------------------------------------------------------

    async def delete(self, project_id: str, path: str) -> None:
        store = self.project_store(project_id, Role.editor)
        if not path.strip("/"):
            raise web.HTTPError(
                400,
                "Give the path of a file or folder to delete; the project root cannot be "
                "deleted this way (delete the project instead)",
            )
        key = self.rel(path)
        only = self.get_argument("only", None)
        if only not in (None, "file", "folder"):
            raise web.HTTPError(400, "only= must be 'file' or 'folder'")
        self.refuse_linked(key, "deleted")
        deleted = 0
        with store_errors(key):
            info = await store.head(key) if only != "folder" else None
            if info is not None:
                await store.delete(key)
                deleted, kind, files = 1, "file", [info]
            elif only != "file":
                files = await store.list_latest(key)  # each file's version, for the trash
                deleted, kind = await store.delete_prefix(key), "folder"
        if not deleted:
            raise web.HTTPError(404, f"No file or folder {key!r} in this project; nothing deleted")
        history.add_trash(self.sessions, self.project_id, key, kind, files, self.user.name)
        self.log.info(
            "%s deleted %s (%s objects) in project %s",
            self.user.name,
            key,
            deleted,
            self.project_id,
        )
        self.write_json({"path": key, "deleted": deleted})


class CopyMoveHandler(FilesBase):
    """``POST projects/{id}/files:copy`` and ``files:move`` with ``{"from", "to", "overwrite"}``."""

    async def post(self, project_id: str, action: str) -> None:
        store = self.project_store(project_id, Role.editor)
        body = self.json_body(required=("from", "to"))
        if not isinstance(body["from"], str) or not isinstance(body["to"], str):
            raise web.HTTPError(400, "'from' and 'to' must be paths (strings)")
        src, dst = self.rel(body["from"]), self.rel(body["to"])
        self.audit_action, self.audit_target = f"{action.rstrip('e')}ed", f"{src} -> {dst}"
        overwrite = body.get("overwrite", False) is True
        if src == dst:
            raise web.HTTPError(
                400, f"'from' and 'to' are the same path {src!r}; give another 'to'"
            )
        if dst.startswith(src + "/"):
            raise web.HTTPError(400, f"Cannot {action} folder {src!r} into itself ({dst!r})")
        self.refuse_linked(src, "copied with files:copy" if action == "copy" else "moved")
        self.refuse_linked(dst, "overwritten")
        with store_errors(src):
            pairs: list[tuple[str, str]]
            head = await store.head(src)
            if head is not None:
                pairs, adding, sources = [(src, dst)], head.size, [head]
            else:  # a folder: its files with their current versions (one LIST per 1,000)
                sources = await store.list_latest(src)
                pairs = [(f.key, dst + f.key[len(src) :]) for f in sources]
                adding = sum(f.size for f in sources)
            if not pairs:
                raise web.HTTPError(404, f"No file or folder {src!r} in this project")
            if len(pairs) == 1 and pairs[0][0] == src and await store.head(dst) is None:
                await check_file_slot(store, dst)
            if not overwrite:
                existing = [d for _, d in pairs if await store.head(d) is not None]
                if existing:
                    raise web.HTTPError(
                        409,
                        f"{existing[0]!r} already exists; choose another 'to' or send "
                        '"overwrite": true (the old content stays in its history)',
                    )
            await self.check_quota(adding)  # a copy (and a move: its source is kept) adds
            replaced = [await store.head(d) for _, d in pairs] if action == "move" else []
            written = [await store.copy(s, d, author=self.user.name) for s, d in pairs]
            if action == "move":  # the files keep their ids (and history) under the new names
                moves = [
                    file_names.Move(s, f.version_id, d, w.version_id, r.version_id if r else None)
                    for (s, d), f, w, r in zip(pairs, sources, written, replaced, strict=True)
                ]
                await asyncio.to_thread(
                    file_names.note_moves, self.sessions, self.project_id, moves, self.user.name
                )
            self.record(written)
            if action == "move":
                for s, _ in pairs:
                    await store.delete(s)
        self.log.info(
            "%s %s %s -> %s (%s files) in project %s",
            self.user.name,
            action,
            src,
            dst,
            len(pairs),
            self.project_id,
        )
        self.write_json({"from": src, "to": dst, "files": len(pairs)})


class VersionsHandler(FilesBase):
    """``GET projects/{id}/versions/{path}?limit=&cursor=`` lists a page (newest first, with
    authors); ``POST`` ``{"version_id"}`` restores (rolls forward)."""

    audit_actions = {"post": "restored a version"}

    async def get(self, project_id: str, path: str) -> None:
        store = self.project_store(project_id, Role.viewer)
        key = self.rel(path)
        limit = page_size(self)
        cursor = self.get_argument("cursor", "") or None
        if cursor is not None and len(cursor) > 1024:
            raise web.HTTPError(
                400, "cursor is too long; use the 'next' value of the previous page"
            )
        with store_errors(key):
            page = await history.versions_page(
                store, self.sessions, self.project_id, key, limit, cursor
            )
        self.write_json(page)

    async def post(self, project_id: str, path: str) -> None:
        store = self.project_store(project_id, Role.editor)
        key = self.rel(path)
        self.refuse_linked(key, "restored to another version")
        body = self.json_body(required=("version_id",))
        vid = body["version_id"]
        if not isinstance(vid, str) or not vid:
            raise web.HTTPError(400, "version_id must be a version id from GET .../versions/<path>")
        with store_errors(key):
            info = await history.restore_version(
                store, self.sessions, self.project_id, key, vid, self.user.name
            )
        self.log.info(
            "%s restored %s to version %s in project %s", self.user.name, key, vid, self.project_id
        )
        self.write_json({**file_json(info), "restored_from": vid})


class PreviewHandler(FilesBase):
    """``GET projects/{id}/preview/{path}?rows=100&sheet=&version_id=&summary=1``: first rows +
    types (+ per-column summaries of the first few MB with ``summary=1``)."""

    async def get(self, project_id: str, path: str) -> None:
        store = self.project_store(project_id, Role.viewer)
        key = self.rel(path)
        version_id = self.get_argument("version_id", None) or None
        store, src, version_id = self.source_of(key, version_id)
        try:
            rows = int(self.get_argument("rows", str(previews.DEFAULT_ROWS)))
        except ValueError:
            rows = -1
        if not 0 <= rows <= previews.MAX_ROWS:
            raise web.HTTPError(400, f"rows must be a whole number from 0 to {previews.MAX_ROWS}")
        summary = self.get_argument("summary", "0")
        if summary not in ("0", "1", "true", "false"):
            raise web.HTTPError(400, "summary must be 1 (with column summaries) or 0")
        result = await preview_file(
            self.service,
            store,
            src,  # a linked dataset: its path in the project it comes from
            rows=rows,
            version_id=version_id,
            sheet=self.get_argument("sheet", None),
            summary=summary in ("1", "true"),
        )
        self.write_json({"path": key, **result})


# the service imports this module at start-up: load the preview parsers in the background
threading.Thread(target=previews.warm_up, name="preview-warm-up", daemon=True).start()

routes = [
    (rf"projects/{ID}/files", FilesHandler),
    (rf"projects/{ID}/files:(?P<action>copy|move)", CopyMoveHandler),
    (rf"projects/{ID}/files/(?P<path>.*)", FileHandler),
    (rf"projects/{ID}/versions/(?P<path>.+)", VersionsHandler),
    (rf"projects/{ID}/preview/(?P<path>.+)", PreviewHandler),
]
