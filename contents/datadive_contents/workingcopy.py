"""A local working copy of one store (one project): ordinary files that kernels read and write.

``root`` holds the files under their real names; a SQLite database (``state_path``) records, per
file, the *base* — the store ETag and the local (mtime_ns, size) at the last sync — and a
*journal* of pending uploads. Rules:

- save (``write``): the file is written locally (fsynced) and a journal row is committed (SQLite,
  synchronous=FULL) in a worker thread while the bytes are uploaded with ``if_match=<base ETag>``
  (``if_none_match`` for a new file); both finish before the save returns. The save is
  acknowledged only after the store confirmed; if the store is unreachable the caller gets
  ``SyncOffline`` and the journal row makes the upload retry (also after a restart).
- pull (``refresh_dir`` / ``ensure_local``): files whose store ETag differs from the base are
  downloaded when the local copy is unchanged; the listing gives the ETags, so unchanged files
  cost no request.
- ``scan`` (called periodically): files whose (mtime_ns, size) differ from the base, or that have
  no base, were written by a kernel → uploaded.
- read-only (a dataset linked from another project, ``ObjectInfo.read_only``): the local file is
  made read-only (write bits removed, so a kernel's write fails with PermissionError) and is never
  uploaded; if a kernel changes it anyway, its bytes are kept as a conflict copy (an ordinary
  new file) and the linked file is put back.
- conflict: the store's ETag no longer matches our base → ours is uploaded as
  ``<stem>.conflict-<user>-<UTC time><ext>``, the other version stays current (and is pulled),
  ``SyncConflict`` names both. Nothing is overwritten silently.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import logging
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime
from typing import Any, Literal, TypeAlias

from .stores.base import Conflict, NotFound, ObjectInfo, ObjectStore, StoreUnavailable
from .syncstate import Base, SyncState

#: names inside a working copy that are never synced
INTERNAL_PREFIXES = (".datadive-",)
KEEP = ".datadive-keep"
#: file in a working copy's root naming the project it belongs to
MARKER = ".datadive-project"
CHECKPOINTS = ".datadive-checkpoints"
STREAM_THRESHOLD = 8 << 20


class _Anything(enum.Enum):
    """The type of :data:`ANY` (a sentinel the type checker can tell apart)."""

    ANY = enum.auto()


#: ``expect`` default of the local writes: replace the local file whatever it is now
ANY = _Anything.ANY
#: what a local write expects to find at its path: a stat, None (no file) or ANY
Expect: TypeAlias = os.stat_result | None | Literal[_Anything.ANY]

#: a folder as ``refresh_dir`` finds it: store files by name, store folder names, local-only or
#: pending files by name → stat, local folder names
DirFound: TypeAlias = tuple[dict[str, ObjectInfo], set[str], dict[str, os.stat_result], set[str]]


def is_internal(rel: str) -> bool:
    """True for storage-internal names (keep markers, checkpoint marks, temp files, state)."""
    return any(seg.startswith(INTERNAL_PREFIXES) for seg in rel.split("/"))


class SyncError(Exception):
    """Base of working-copy errors that reach the user."""


class SyncOffline(SyncError):
    """The store is unreachable; the local copy is kept and the upload is retried."""


class SyncConflict(SyncError):
    """Someone else changed the file; ours was kept as ``conflict_path``."""

    def __init__(self, message: str, path: str, conflict_path: str) -> None:
        super().__init__(message)
        self.path = path
        self.conflict_path = conflict_path


#: the tag conflict_name() puts in a name (with the number numbered() may add)
_CONFLICT_TAG = re.compile(r"\.conflict-[A-Za-z0-9_-]*?-\d{8}T\d{6}Z(?:-\d+)?")


def conflict_name(rel: str, user: str, when: datetime | None = None) -> str:
    """``a/report.ipynb`` → ``a/report.conflict-<user>-20260101T120000Z.ipynb``. A conflict
    copy that conflicts again gets a fresh tag in place of the old one, not a second one."""
    when = when or datetime.now(UTC)
    d, _, name = rel.rpartition("/")
    name = _CONFLICT_TAG.sub("", name, count=1) or name
    stem, dot, ext = name.partition(".") if not name.startswith(".") else (name, "", "")
    if name.endswith(".ipynb"):
        stem, dot, ext = name[: -len(".ipynb")], ".", "ipynb"
    safe_user = "".join(c if c.isalnum() or c in "-_" else "_" for c in user) or "user"
    new = f"{stem}.conflict-{safe_user}-{when:%Y%m%dT%H%M%SZ}{dot}{ext}"
    return f"{d}/{new}" if d else new


def numbered(name: str, n: int) -> str:
    """``x.conflict-bob-<time>.ipynb``, 3 → ``x.conflict-bob-<time>-3.ipynb``: one number
    right after the tag, replacing an earlier one (never ``-2-3-4``)."""
    m = _CONFLICT_TAG.search(name)
    if m is None:
        return f"{name}-{n}"
    tag = re.sub(r"(?<=Z)-\d+$", "", m.group(0))
    return f"{name[: m.start()]}{tag}-{n}{name[m.end() :]}"


def md5_file(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "md5").hexdigest()


class WorkingCopy:
    """Local files of one store under ``root``, kept in sync with it (see module docstring)."""

    def __init__(
        self,
        store: ObjectStore,
        root: str,
        state_path: str,
        *,
        user: str = "user",
        log: logging.Logger | None = None,
        name: str = "",
        project_id: str | None = None,
        upload_timeout: float | None = None,
    ) -> None:
        self.store = store
        self.root = os.path.abspath(root)
        self.user = user
        self.name = name
        self.project_id = project_id
        self.upload_timeout = upload_timeout
        self.log = log or logging.getLogger("datadive_contents")
        os.makedirs(self.root, exist_ok=True)
        if project_id is not None:
            self._mark_root(project_id)
        os.makedirs(os.path.dirname(state_path), exist_ok=True)
        self.tmp_dir = os.path.join(os.path.dirname(state_path), "tmp")
        os.makedirs(self.tmp_dir, exist_ok=True)
        #: bases, journal and read-only marks (the only SQL on the state database)
        self.state = SyncState(state_path)
        #: files that are read-only here (linked datasets): never uploaded
        self.readonly = self.state.readonly
        self.lock = asyncio.Lock()
        self.offline_error: str | None = None
        self.conflicts: list[dict[str, Any]] = []
        self.syncing = 0
        self.last_sync: float | None = None

    # -- binding to a project --------------------------------------------------------------
    def _mark_root(self, project_id: str) -> None:
        """Write (or check) the marker that binds ``root`` to ``project_id``."""
        marker = os.path.join(self.root, MARKER)
        try:
            with open(marker, encoding="utf-8") as f:
                found = f.read().strip()
        except FileNotFoundError:
            # written whole, then renamed into place: a concurrent first open never reads it empty
            fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".datadive-tmp-")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(project_id + "\n")
            os.replace(tmp, marker)
            return
        if found != project_id:
            raise SyncError(
                f"{self.root} holds the working copy of project {found}, not {project_id}; "
                "it is left alone"
            )

    def bound(self) -> bool:
        """Is ``root`` still this project's working copy? (Checked before anything local is
        sent to the store: a folder that vanished or was swapped is never taken as "every file
        was deleted" or uploaded into the wrong project.)"""
        if self.project_id is None:
            return os.path.isdir(self.root)
        try:
            with open(os.path.join(self.root, MARKER), encoding="utf-8") as f:
                return f.read().strip() == self.project_id
        except OSError:
            return False

    # -- state -------------------------------------------------------------------------
    def base(self, rel: str) -> Base | None:
        return self.state.base(rel)

    def _set_base(self, rel: str, etag: str, local: str) -> None:
        st = os.stat(local)
        self.state.set_base(rel, etag, st.st_mtime_ns, st.st_size)

    def _drop_base(self, rel: str) -> None:
        self.state.drop_base(rel)
        self._set_read_only(rel, False)

    def _set_read_only(self, rel: str, read_only: bool, fresh: bool = False) -> None:
        """Make the local ``rel`` read-only (a linked dataset) or writable again, and remember;
        ``fresh``: the file was just written (its mode is the default one)."""
        if not fresh and (rel in self.readonly) == read_only:
            return
        try:
            mode = stat.S_IMODE(os.stat(self.local(rel)).st_mode)
            ro = mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
            os.chmod(self.local(rel), ro if read_only else ro | stat.S_IWUSR)
        except FileNotFoundError:
            pass
        self.state.mark_read_only(rel, read_only)

    def _up_to_date(self, rel: str, base: Base | None, info: ObjectInfo) -> bool:
        """The local ``rel`` is ``info`` already (then only its read-only state is followed)."""
        if base is None or base.etag != info.etag:
            return False
        self._set_read_only(rel, info.read_only)
        return True

    def _journal(self, rel: str) -> None:
        """Record ``rel`` as waiting for upload, durably (call with ``self.lock`` held)."""
        self.state.journal(rel)

    def _unjournal(self, rel: str) -> None:
        self.state.unjournal(rel)

    def pending(self) -> list[str]:
        return self.state.pending()

    def bases_in(self, rel_dir: str) -> dict[str, Base]:
        """Bases of the files directly in folder ``rel_dir``, by name (one query)."""
        return self.state.bases_in(rel_dir)

    @property
    def materialized(self) -> bool:
        return self.state.materialized

    def local(self, rel: str) -> str:
        return os.path.join(self.root, *rel.split("/")) if rel else self.root

    def local_changed(self, rel: str, st: os.stat_result | None = None) -> bool:
        """True if the local file differs from its base (or has none)."""
        if st is None:
            try:
                st = os.stat(self.local(rel))
            except FileNotFoundError:
                return False
        b = self.base(rel)
        return b is None or (b.mtime_ns, b.size) != (st.st_mtime_ns, st.st_size)

    # -- local file writes ---------------------------------------------------------------
    def _write_local_sync(self, rel: str, data: bytes, expect: Expect = ANY) -> str | None:
        """Write ``data`` as the local ``rel`` (fsynced, renamed into place). With ``expect``
        (the file's stat, or None for "absent") nothing is replaced if the file changed since:
        returns None then."""
        path = self.local(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.tmp_dir, prefix=".datadive-tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        return self._replace_unless_changed(tmp, path, expect)

    @staticmethod
    def _replace_unless_changed(tmp: str, path: str, expect: Expect) -> str | None:
        if expect is not ANY and not _same_stat(_stat(path), expect):
            os.unlink(tmp)  # a kernel wrote the file meanwhile: it is not replaced under it
            return None
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.replace(tmp, path)
        return path

    async def _download(
        self, rel: str, info: ObjectInfo | None = None, expect: Expect = ANY, keep: str = ""
    ) -> ObjectInfo | None:
        """Fetch ``rel`` from the store into the local copy and record the base. With ``expect``
        (the local stat the caller decided on) a file changed meanwhile is left alone and None is
        returned; a store version whose etag is ``keep`` (the base) is not written again."""
        path = self.local(rel)
        if info is not None and info.size > STREAM_THRESHOLD:
            fd, tmp = tempfile.mkstemp(dir=self.tmp_dir, prefix=".datadive-tmp-")
            with os.fdopen(fd, "wb") as f:
                async for chunk in self.store.open_stream(rel):
                    await asyncio.to_thread(f.write, chunk)
            head = await self.store.head(rel)
            got = head or info
            if keep and got.etag == keep and expect is not None:
                os.unlink(tmp)
                return got
            if self._replace_unless_changed(tmp, path, expect) is None:
                return None
        else:
            data, got = await self.store.get(rel)
            if keep and got.etag == keep and expect is not None:
                return got  # the store has what the local file was based on: nothing to take
            if await asyncio.to_thread(self._write_local_sync, rel, data, expect) is None:
                return None
        self._set_base(rel, got.etag, path)
        self._set_read_only(rel, got.read_only or (info is not None and info.read_only), True)
        return got

    # -- upload --------------------------------------------------------------------------
    async def _upload_file(self, rel: str, **cond: Any) -> ObjectInfo:
        path = self.local(rel)
        size = os.path.getsize(path)
        if size <= STREAM_THRESHOLD:
            data = await asyncio.to_thread(_read, path)
            return await self.store.put(rel, data, **cond)
        return await self.store.put_stream(rel, _file_chunks(path), **cond)

    async def push(self, rel: str) -> ObjectInfo | None:
        """Upload the local ``rel`` (or propagate its local deletion). Raises SyncConflict /
        SyncOffline. Returns the stored info (None after a deletion)."""
        if not self.bound():
            raise SyncError(
                f"the working copy {self.root} is missing or belongs to another project; "
                f"{rel} was not sent"
            )
        path = self.local(rel)
        base = self.base(rel)
        if rel in self.readonly:
            return await self._put_back(rel, base)
        try:
            if not os.path.isfile(path):
                if base is not None:
                    remote = await self.store.head(rel)
                    if remote is not None and remote.etag == base.etag:
                        await self.store.delete(rel)
                    self._drop_base(rel)
                self._unjournal(rel)
                return None
            st = os.stat(path)
            if base is not None and (base.mtime_ns, base.size) == (st.st_mtime_ns, st.st_size):
                self._unjournal(rel)
                return await self.store.head(rel)
            try:
                if base is not None:
                    info = await self._upload_file(rel, if_match=base.etag)
                else:
                    info = await self._upload_file(rel, if_none_match=True)
            except Conflict:
                info = await self._resolve_conflict(rel)
            self._record_uploaded(rel, info, st)
            self._unjournal(rel)
            self.offline_error = None
            return info
        except StoreUnavailable as e:
            self._journal(rel)
            self.offline_error = str(e)
            raise SyncOffline(
                f"{rel} is saved on this server but not yet in the project store: {e}. "
                "It will be uploaded automatically when the store is reachable again."
            ) from e

    async def _put_back(self, rel: str, base: Base | None) -> ObjectInfo | None:
        """A read-only (linked) file changed or vanished locally: nothing is uploaded to it.
        The kernel's bytes, if any, are kept as a conflict copy (a new, ordinary file) and the
        linked file is downloaded again. Raises SyncConflict when bytes were moved aside."""
        self._unjournal(rel)
        path = self.local(rel)
        st = _stat(path)
        if (
            st is not None
            and base is not None
            and (base.mtime_ns, base.size)
            == (
                st.st_mtime_ns,
                st.st_size,
            )
        ):
            return None  # unchanged
        try:
            remote = await self.store.head(rel)
        except StoreUnavailable as e:
            self.offline_error = str(e)
            raise SyncOffline(f"{rel} is read-only here and could not be put back: {e}") from e
        other = None
        if st is not None and (
            remote is None or await asyncio.to_thread(md5_file, path) != remote.etag
        ):
            other, info = await self._keep_as_conflict_copy(rel, path)
            os.chmod(
                self.local(other), stat.S_IMODE(os.stat(self.local(other)).st_mode) | stat.S_IWUSR
            )
            self._set_base(other, info.etag, self.local(other))
        if remote is None:
            self._drop_base(rel)
        else:
            await self._download(rel, remote)
        if other is None:
            return remote
        self.conflicts.append({"path": rel, "conflict_path": other, "time": time.time()})
        raise SyncConflict(
            f"{rel} is a dataset linked from another project and is read-only; it was put back, "
            f"and the changed copy was saved as {other}.",
            rel,
            other,
        )

    def _record_uploaded(self, rel: str, info: ObjectInfo, st_before: os.stat_result) -> None:
        path = self.local(rel)
        st = os.stat(path)
        if (st.st_mtime_ns, st.st_size) == (st_before.st_mtime_ns, st_before.st_size):
            self._set_base(rel, info.etag, path)
        else:  # changed again while uploading: the next scan uploads it
            self.state.set_base(rel, info.etag, st_before.st_mtime_ns, st_before.st_size)

    async def _keep_as_conflict_copy(self, rel: str, path: str) -> tuple[str, ObjectInfo]:
        """Upload the local file ``path`` of ``rel`` under the first free conflict name and move
        it there; (that name, what the store answered)."""
        first = conflict_name(rel, self.user)
        other, n = first, 1
        while True:
            try:
                info = await self._upload_file_as(path, other)
                break
            except Conflict:
                n += 1
                other = numbered(first, n)
        os.makedirs(os.path.dirname(self.local(other)), exist_ok=True)
        os.replace(path, self.local(other))
        return other, info

    async def _resolve_conflict(self, rel: str) -> ObjectInfo:
        """The store changed under us: keep both versions, raise SyncConflict (unless identical)."""
        path = self.local(rel)
        remote = await self.store.head(rel)
        local_md5 = await asyncio.to_thread(md5_file, path)
        if remote is not None and remote.etag == local_md5:
            return remote  # same bytes: nothing to resolve
        if remote is None:  # deleted by someone else: recreate ours
            return await self._upload_file(rel, if_none_match=True)
        other, _ = await self._keep_as_conflict_copy(rel, path)
        self._set_base(other, local_md5, self.local(other))
        await self._download(rel, remote)
        self.conflicts.append({"path": rel, "conflict_path": other, "time": time.time()})
        raise SyncConflict(
            f"{rel} was changed by someone else since this server last read it. Their version is "
            f"kept as {rel}; yours was saved as {other}. Reopen {rel} and merge your changes from "
            f"{other}.",
            rel,
            other,
        )

    async def _upload_file_as(self, path: str, key: str) -> ObjectInfo:
        if os.path.getsize(path) <= STREAM_THRESHOLD:
            return await self.store.put(
                key, await asyncio.to_thread(_read, path), if_none_match=True
            )
        return await self.store.put_stream(key, _file_chunks(path), if_none_match=True)

    def _write_local_journaled(self, rel: str, data: bytes) -> os.stat_result:
        """(worker thread, ``self.lock`` held) write + fsync the local file, journal it."""
        self._write_local_sync(rel, data)
        st = os.stat(self.local(rel))
        self._journal(rel)
        return st

    def _confirm(self, rel: str, info: ObjectInfo, st_before: os.stat_result) -> None:
        """The store has ``info`` for the local file as it was at ``st_before``: record the base
        and clear the journal row, in one transaction."""
        path = self.local(rel)
        st = os.stat(path)
        if (st.st_mtime_ns, st.st_size) != (st_before.st_mtime_ns, st_before.st_size):
            st = st_before  # changed again while uploading: the next scan uploads it
        self.state.confirm(rel, info.etag, st.st_mtime_ns, st.st_size)

    async def write(self, rel: str, data: bytes) -> ObjectInfo | None:
        """Save ``data`` as ``rel``: locally (fsynced) and journaled, and through to the store
        (its info; None as from :meth:`push`).

        The local write + journal commit run in a worker thread while the PUT is in flight (the
        PUT sends ``data`` from memory); both have finished before this returns or raises, so an
        acknowledged save is in the store and an unconfirmed one is on disk and journaled.
        """
        if len(data) > STREAM_THRESHOLD:  # multipart from the local file
            async with self.lock:
                await asyncio.to_thread(self._write_local_sync, rel, data)
                self._journal(rel)
                return await self.push(rel)
        async with self.lock:
            base = self.base(rel)
            local = asyncio.ensure_future(asyncio.to_thread(self._write_local_journaled, rel, data))
            try:
                try:
                    cond = {"if_match": base.etag} if base is not None else {"if_none_match": True}
                    info = await self._timed(self.store.put(rel, data, **cond))
                finally:
                    st = await local
            except Conflict:
                info = await self._resolve_conflict(rel)
            except StoreUnavailable as e:
                self.offline_error = str(e)
                raise SyncOffline(
                    f"{rel} is saved on this server but not yet in the project store: {e}. "
                    "It will be uploaded automatically when the store is reachable again."
                ) from e
            self._confirm(rel, info, st)
            self.offline_error = None
            return info

    async def _timed(self, upload: Awaitable[ObjectInfo]) -> ObjectInfo:
        """``upload`` bounded by ``upload_timeout``: a store that does not answer counts as
        unreachable (the journaled local copy is sent by a later scan; If-Match makes a PUT
        that landed after all harmless)."""
        if self.upload_timeout is None:
            return await upload
        try:
            return await asyncio.wait_for(upload, self.upload_timeout)
        except TimeoutError:
            raise StoreUnavailable(f"no answer within {self.upload_timeout:g} s") from None

    async def write_from_file(self, rel: str, src: str) -> ObjectInfo | None:
        """Move the finished local file ``src`` into place as ``rel`` and upload it (its info;
        None as from :meth:`push`)."""
        async with self.lock:
            path = self.local(rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            os.replace(src, path)
            self._journal(rel)
            return await self.push(rel)

    # -- pull ----------------------------------------------------------------------------
    async def pull(self, rel: str, remote: ObjectInfo) -> None:
        """Bring the local copy of ``rel`` up to ``remote`` (conflict if both changed)."""
        base = self.base(rel)
        if self._up_to_date(rel, base, remote):
            return
        path = self.local(rel)
        st = _stat(path)
        if st is None or not self.local_changed(rel, st):
            keep = base.etag if base is not None else ""
            if await self._download(rel, remote, expect=st, keep=keep) is not None:
                return
            # a kernel wrote the file while the store's copy was downloading: a local change
        # local file differs from its base and the remote changed too
        local_md5 = await asyncio.to_thread(md5_file, path)
        if local_md5 == remote.etag:
            self._set_base(rel, remote.etag, path)
            return
        if base is not None:
            # ``remote`` may come from a listing taken before this server's last upload
            current = await self.store.head(rel)
            if current is not None and current.etag == base.etag:
                return  # the store has what the local file started from: the scan sends it
        try:
            await self._resolve_conflict(rel)
        except SyncConflict as e:
            self.log.warning("%s", e)

    async def ensure_local(self, rel: str, remote: ObjectInfo | None = None) -> ObjectInfo | None:
        """Make the local copy of ``rel`` current; return the store's info (None if only local)."""
        if remote is None:
            remote = await self.store.head(rel)
        if remote is None:
            return None
        async with self.lock:
            await self.pull(rel, remote)
        return remote

    # -- what the contents manager did in the store: follow it here -------------------------
    def forget(self, rel: str) -> None:
        """``rel`` is no longer in sync here: drop its base, read-only mark and journal row."""
        self._drop_base(rel)
        self._unjournal(rel)

    async def delete(self, rel: str) -> None:
        """Delete the file ``rel`` from the store and from here."""
        async with self.lock:
            await self.store.delete(rel)
            try:
                os.unlink(self.local(rel))
            except FileNotFoundError:
                pass
            self.forget(rel)

    async def delete_folder(self, rel: str, keys: list[str]) -> None:
        """Delete the folder ``rel`` (whose store files are ``keys``) from the store and here."""
        async with self.lock:
            await self.store.delete_prefix(rel)
            for key in keys:
                self.forget(key)
            await asyncio.to_thread(shutil.rmtree, self.local(rel), ignore_errors=True)

    async def moved(
        self, rel: str, dest: WorkingCopy, dest_rel: str, pairs: list[tuple[str, str]]
    ) -> None:
        """The store moved ``rel`` (a file or folder; its files ``pairs``, key → new key) to
        ``dest_rel`` of ``dest`` (this working copy or another): move the local copy and its
        sync state along. Unchanged files stay synced; locally changed ones stay pending (they
        are uploaded with If-Match on the new key)."""
        async with self.lock:
            old_local, new_local = self.local(rel), dest.local(dest_rel)
            if os.path.exists(old_local):
                os.makedirs(os.path.dirname(new_local), exist_ok=True)
                os.replace(old_local, new_local)
            for src, dst in pairs:
                old_base = self.base(src)
                self.forget(src)
                info = await dest.store.head(dst)
                if info is not None and old_base is not None and os.path.isfile(dest.local(dst)):
                    # same local stat as before the move
                    dest.state.set_base(dst, info.etag, old_base.mtime_ns, old_base.size)

    async def restore(self, rel: str, version_id: str) -> ObjectInfo:
        """Make the store's version ``version_id`` of ``rel`` current again, and take it here."""
        async with self.lock:
            info = await self.store.restore_version(rel, version_id)
            await self._download(rel, info)
            return info

    async def refresh_dir(self, rel_dir: str) -> DirFound:
        """List ``rel_dir`` in the store and locally, pulling remote changes.

        Returns (store files by name, store folder names, local-only or pending files by name →
        stat, local folder names). One store LIST per 1000 entries; no per-object request for
        unchanged files.
        """
        listing = await self.store.list(rel_dir)
        prefix = rel_dir + "/" if rel_dir else ""
        remote = {f.key[len(prefix) :]: f for f in listing.files}
        rfolders = {d[len(prefix) :] for d in listing.folders}
        _, _, local_files, local_dirs = self.local_listing(rel_dir)
        async with self.lock:
            bases = self.bases_in(rel_dir)  # one query for the folder, not one per entry
            materialized = self.materialized
            pulled = []
            for name, info in remote.items():
                if name.startswith(INTERNAL_PREFIXES):
                    continue
                base = bases.get(name)
                if self._up_to_date(prefix + name, base, info):
                    continue
                if name in local_files or materialized or base is not None:
                    if name not in local_files and base is not None:
                        self._drop_base(prefix + name)  # deleted locally, changed remotely
                        continue
                    try:
                        await self.pull(prefix + name, info)
                    except NotFound:
                        continue
                    pulled.append(name)
            for name, st in list(local_files.items()):
                if name in remote:
                    continue
                base = bases.get(name)
                if base is not None and (base.mtime_ns, base.size) == (st.st_mtime_ns, st.st_size):
                    # deleted in the store by someone else, unchanged here: follow
                    try:
                        os.unlink(self.local(prefix + name))
                    except FileNotFoundError:
                        pass
                    self._drop_base(prefix + name)
                    del local_files[name]
            for name in pulled:  # downloaded (or moved aside by a conflict): stat again
                try:
                    local_files[name] = os.stat(self.local(prefix + name))
                except FileNotFoundError:
                    local_files.pop(name, None)
        return remote, rfolders, local_files, local_dirs

    def local_listing(self, rel_dir: str) -> DirFound:
        """``refresh_dir``'s answer from the local copy alone (the store is unreachable)."""
        files: dict[str, os.stat_result] = {}
        dirs: set[str] = set()
        try:
            with os.scandir(self.local(rel_dir)) as it:
                for e in it:
                    if e.name.startswith(INTERNAL_PREFIXES):
                        continue
                    if e.is_dir(follow_symlinks=False):
                        dirs.add(e.name)
                    elif e.is_file(follow_symlinks=False):
                        files[e.name] = e.stat()
        except (FileNotFoundError, NotADirectoryError):
            pass
        return {}, set(), files, dirs

    async def materialize(self, concurrency: int = 8) -> int:
        """Download every file of the store that is missing or stale locally (for kernels)."""
        listing = await self.store.list("", recursive=True)
        sem = asyncio.Semaphore(concurrency)
        count = 0

        bases = self.all_bases()  # one query, not one per file

        async def one(info: ObjectInfo) -> None:
            nonlocal count
            base = bases.get(info.key)
            if self._up_to_date(info.key, base, info) and os.path.exists(self.local(info.key)):
                return
            async with sem:
                await self.pull(info.key, info)
                count += 1

        async with self.lock:
            await asyncio.gather(*(one(f) for f in listing.files if not is_internal(f.key)))
            self.state.mark_materialized()
        return count

    # -- periodic upload of kernel-written files -----------------------------------------
    def all_bases(self) -> dict[str, Base]:
        """Every base, by path (one query)."""
        return self.state.all_bases()

    def changed_files(self, bases: dict[str, Base] | None = None) -> list[str]:
        """Local files that differ from their base or have none, plus synced files deleted
        locally. ``bases`` (from ``all_bases()``, read on the caller's thread) lets this walk the
        disk in a worker thread without touching the database."""
        if bases is None:
            bases = self.all_bases()
        if not self.bound():  # vanished or swapped: nothing here speaks for the project
            return []
        out = []
        seen = set()
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if not d.startswith(INTERNAL_PREFIXES)]
            rel_dir = os.path.relpath(dirpath, self.root)
            rel_dir = "" if rel_dir == "." else rel_dir.replace(os.sep, "/") + "/"
            for name in filenames:
                if name.startswith(INTERNAL_PREFIXES):
                    continue
                rel = rel_dir + name
                seen.add(rel)
                b = bases.get(rel)
                if b is None:
                    out.append(rel)
                    continue
                try:
                    st = os.stat(os.path.join(dirpath, name))
                except FileNotFoundError:
                    continue
                if (b.mtime_ns, b.size) != (st.st_mtime_ns, st.st_size):
                    out.append(rel)
        for rel in bases:
            if rel not in seen and not is_internal(rel):
                out.append(rel)
        return out

    async def scan(self, limit: int | None = None) -> int:
        """Upload pending and changed files (at most ``limit``); return how many were pushed."""
        bases = self.all_bases()
        changed = await asyncio.to_thread(self.changed_files, bases)
        todo = list(dict.fromkeys(self.pending() + changed))
        if limit is not None:
            todo = todo[:limit]
        if not todo:
            return 0
        from .paths import normalize_path
        from .stores.base import PathRejected

        pushed = 0
        self.syncing = len(todo)
        try:
            async with self.lock:
                for rel in todo:
                    try:
                        normalize_path(rel, allow_root=False)
                    except PathRejected as e:
                        self.log.warning("not uploading %s: %s", rel, e)
                        continue
                    try:
                        await self.push(rel)
                        pushed += 1
                    except SyncConflict as e:
                        self.log.warning("%s", e)
                    except SyncOffline:
                        self.log.info(
                            "store offline; %d file(s) wait for upload", len(self.pending())
                        )
                        break
                    self.syncing -= 1
        finally:
            self.syncing = 0
        self.last_sync = time.time()
        return pushed

    def status(self) -> dict[str, Any]:
        pending = len(self.pending())
        if self.offline_error:
            state = "offline"
        elif self.syncing:
            state = "syncing"
        elif self.conflicts:
            state = "conflict"
        else:
            state = "synced"
        return {
            "state": state,
            "pending": pending,
            "conflicts": list(self.conflicts[-20:]),
            "message": self.offline_error,
            "last_sync": self.last_sync,
        }

    def close(self) -> None:
        self.state.close()


def _stat(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None


def _same_stat(a: os.stat_result | None, b: os.stat_result | None) -> bool:
    if a is None or b is None:
        return a is b
    return (a.st_mtime_ns, a.st_size) == (b.st_mtime_ns, b.st_size)


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


async def _file_chunks(path: str, size: int = 8 << 20) -> AsyncIterator[bytes]:
    with open(path, "rb") as f:
        while True:
            chunk = await asyncio.to_thread(f.read, size)
            if not chunk:
                return
            yield chunk
