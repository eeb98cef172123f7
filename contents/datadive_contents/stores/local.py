"""LocalDirectoryStore: files under their real names in a directory (the embedded default).

Versions live beside them in ``<root>/.datadive-versions/<key>/<version-id>`` (hard links of
the data written, so keeping a version costs no extra copy); ``.meta.json`` there records the
current version's ETag (content md5), author and stat, so listings never re-hash unchanged files;
``.v-<version-id>.json`` beside each version (its sidecar) records its ETag and author. A deleted
file keeps its versions (the equivalent of S3's delete marker: no current file, history intact).
Writes go to a temp file, are fsynced and swapped in with ``os.replace`` under a lock file, so
readers never see half a file and if_match / if_none_match are checked atomically.

Temp files (``.datadive-versions/.datadive-tmp-<owner>-*``) carry the id of the process that
writes them; each such owner holds an flock on its own ``.datadive-tmp-owner-<owner>.lock`` for
as long as it lives. A writer that was killed leaves temp files whose owner lock anyone can take:
they are removed when a store opens the directory and at most every ``SWEEP_EVERY`` seconds after
(older unowned temp files once they are ``STALE_AFTER`` seconds old). Temp files are never listed.
"""

from __future__ import annotations

import asyncio
import builtins
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from io import BufferedWriter
from typing import Any

from ..paths import normalize_path
from .base import Conflict, Listing, NotFound, ObjectInfo, ObjectStore, PathRejected, folder_prefix

VERSIONS_DIR = ".datadive-versions"
TMP_PREFIX = ".datadive-tmp-"
OWNER_PREFIX = TMP_PREFIX + "owner-"
META = ".meta.json"
#: per-version sidecar: ``.v-<version-id>.json`` with the version's etag and author
SIDECAR = ".v-{}.json"
#: seconds between sweeps for temp files left by killed writers (one also runs at start-up)
SWEEP_EVERY = 3600.0
#: a temp file without an owner (older releases) is stale once untouched this long
STALE_AFTER = 3600.0

# (pid, root) -> (owner id, fd holding the owner's flock): one owner per process and directory
_OWNERS: dict[tuple[int, str], tuple[str, int]] = {}
_OWNERS_LOCK = threading.Lock()


def _md5_file(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "md5").hexdigest()


def _new_version_id() -> str:
    return f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"


class LocalDirectoryStore(ObjectStore):
    """An ObjectStore on a local directory ``root`` (created if missing)."""

    def __init__(self, root: str) -> None:
        super().__init__()
        self.root = os.path.abspath(root)
        os.makedirs(os.path.join(self.root, VERSIONS_DIR), exist_ok=True)
        self.url = "file://" + self.root
        self._lock_path = os.path.join(self.root, VERSIONS_DIR, ".lock")
        self._last_sweep = 0.0
        self.sweep_temp_files()

    # -- temp files -------------------------------------------------------------------------
    def _owner(self) -> str:
        """This process's owner id for temp files here (its lock is held while it lives)."""
        key = (os.getpid(), self.root)
        with _OWNERS_LOCK:
            got = _OWNERS.get(key)
            if got is None:
                oid = uuid.uuid4().hex[:16]
                path = os.path.join(self.root, VERSIONS_DIR, f"{OWNER_PREFIX}{oid}.lock")
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
                fcntl.flock(fd, fcntl.LOCK_EX)
                got = _OWNERS[key] = (oid, fd)
        return got[0]

    def sweep_temp_files(self) -> int:
        """Remove temp files no live writer owns; returns how many were removed."""
        self._last_sweep = time.monotonic()
        vroot = os.path.join(self.root, VERSIONS_DIR)
        mine = self._owner()
        try:
            names = os.listdir(vroot)
        except FileNotFoundError:
            return 0
        alive: set[str] = {mine}
        dead: dict[str, int] = {}  # owner -> fd holding its (now free) lock
        for name in names:
            if not (name.startswith(OWNER_PREFIX) and name.endswith(".lock")):
                continue
            oid = name[len(OWNER_PREFIX) : -len(".lock")]
            if oid in alive:
                continue
            try:
                fd = os.open(os.path.join(vroot, name), os.O_RDWR | os.O_CLOEXEC)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                alive.add(oid)
                continue
            dead[oid] = fd
        removed = 0
        now = time.time()
        try:
            for name in names:
                if not name.startswith(TMP_PREFIX) or name.startswith(OWNER_PREFIX):
                    continue
                oid = name[len(TMP_PREFIX) :].split("-", 1)[0]
                if oid in alive:
                    continue
                path = os.path.join(vroot, name)
                if oid not in dead:  # no owner: written by an older release
                    try:
                        if now - os.stat(path).st_mtime < STALE_AFTER:
                            continue
                    except FileNotFoundError:
                        continue
                try:
                    os.unlink(path)
                    removed += 1
                except FileNotFoundError:
                    pass
        finally:
            for oid, fd in dead.items():
                try:
                    os.unlink(os.path.join(vroot, f"{OWNER_PREFIX}{oid}.lock"))
                except FileNotFoundError:
                    pass
                os.close(fd)
        return removed

    # -- helpers -------------------------------------------------------------------------
    def _key(self, key: str) -> str:
        key = normalize_path(key, allow_root=False)
        if key.split("/")[-1].startswith(TMP_PREFIX):
            raise PathRejected(
                f"key {key!r} rejected: names starting with {TMP_PREFIX} are reserved"
            )
        return key

    def _path(self, key: str) -> str:
        p = os.path.join(self.root, key)
        if os.path.commonpath([self.root, os.path.realpath(p)]) != self.root:
            raise PathRejected(f"key {key!r} rejected: it leaves the store's directory")
        return p

    def _vdir(self, key: str) -> str:
        return os.path.join(self.root, VERSIONS_DIR, key)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _read_meta(self, key: str) -> dict[str, Any] | None:
        try:
            with open(os.path.join(self._vdir(key), META)) as f:
                meta: dict[str, Any] | None = json.load(f)
                return meta
        except (OSError, ValueError):
            return None

    def _info_sync(self, key: str, locked: bool = False) -> ObjectInfo | None:
        """The current file's info. A file whose metadata does not match is looked at again
        under the lock (a write may be swapping it in right now: recording it as changed
        outside the store would make a phantom version); still different, it was changed
        outside the store and is hashed and remembered."""
        path = self._path(key)
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not os.path.isfile(path):
            return None
        meta = self._read_meta(key)
        mtime = datetime.fromtimestamp(st.st_mtime, UTC)
        if meta and meta.get("mtime_ns") == st.st_mtime_ns and meta.get("size") == st.st_size:
            return ObjectInfo(
                key, st.st_size, meta["etag"], mtime, meta.get("version_id"), meta.get("author")
            )
        if not locked:
            with self._locked():
                return self._info_sync(key, locked=True)
        # changed outside the store: hash it and remember
        etag = _md5_file(path)
        try:
            self._write_meta(
                key,
                {"etag": etag, "mtime_ns": st.st_mtime_ns, "size": st.st_size, "version_id": None},
            )
        except OSError:
            pass
        return ObjectInfo(key, st.st_size, etag, mtime, None)

    def _write_meta(self, key: str, meta: dict[str, Any]) -> None:
        vdir = self._vdir(key)
        os.makedirs(vdir, exist_ok=True)
        f, tmp = self._tmpfile(key)
        with f:
            f.write(json.dumps(meta).encode())
        os.replace(tmp, os.path.join(vdir, META))

    def _commit(
        self,
        key: str,
        tmp: str,
        etag: str,
        if_match: str | None,
        if_none_match: bool,
        author: str | None = None,
    ) -> ObjectInfo:
        """Check preconditions and swap ``tmp`` in (under the lock); keep it as a new version."""
        path = self._path(key)
        with self._locked():
            current = self._info_sync(key, locked=True)
            if if_none_match and current is not None:
                os.unlink(tmp)
                raise Conflict(f"{key} already exists")
            if if_match is not None and (current is None or current.etag != if_match):
                os.unlink(tmp)
                raise Conflict(
                    f"{key} changed in the store (expected ETag {if_match}, "
                    f"found {current.etag if current else 'no file'})"
                )
            if current is not None and current.version_id is None:
                # content written outside the store: keep it as a version before replacing it
                self._archive(key, path, _new_version_id(), etag=current.etag)
            vid = _new_version_id()
            parent = os.path.dirname(path)
            if os.path.isfile(parent) or any(
                os.path.isfile(os.path.join(self.root, *key.split("/")[:i]))
                for i in range(1, key.count("/") + 1)
            ):
                os.unlink(tmp)
                raise Conflict(f"cannot store {key}: a parent folder is a file")
            os.makedirs(parent, exist_ok=True)
            self._archive(key, tmp, vid, etag=etag, author=author)
            os.replace(tmp, path)
            st = os.stat(path)
            self._write_meta(
                key,
                {
                    "etag": etag,
                    "mtime_ns": st.st_mtime_ns,
                    "size": st.st_size,
                    "version_id": vid,
                    "author": author,
                },
            )
            return ObjectInfo(
                key, st.st_size, etag, datetime.fromtimestamp(st.st_mtime, UTC), vid, author
            )

    def _archive(
        self, key: str, src: str, vid: str, *, etag: str | None = None, author: str | None = None
    ) -> None:
        vdir = self._vdir(key)
        os.makedirs(vdir, exist_ok=True)
        dst = os.path.join(vdir, vid)
        try:
            os.link(src, dst)
        except OSError:
            shutil.copyfile(src, dst)
        if etag is not None:  # the sidecar: listings need neither hash the version nor guess
            f, tmp = self._tmpfile(key)
            with f:
                f.write(json.dumps({"etag": etag, "author": author}).encode())
            os.replace(tmp, os.path.join(vdir, SIDECAR.format(vid)))

    def _sidecar(self, key: str, vid: str) -> dict[str, Any]:
        try:
            with open(os.path.join(self._vdir(key), SIDECAR.format(vid))) as f:
                got = json.load(f)
            return got if isinstance(got, dict) else {}
        except (OSError, ValueError):
            return {}

    def _tmpfile(self, key: str) -> tuple[BufferedWriter, str]:
        if time.monotonic() - self._last_sweep > SWEEP_EVERY:
            self.sweep_temp_files()
        parent = os.path.join(self.root, VERSIONS_DIR)
        fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{self._owner()}-", dir=parent)
        return os.fdopen(fd, "wb"), tmp

    # -- interface -----------------------------------------------------------------------
    async def put(
        self,
        key: str,
        data: bytes,
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
        author: str | None = None,
    ) -> ObjectInfo:
        key = self._key(key)
        self.requests["put"] += 1

        def work() -> ObjectInfo:
            f, tmp = self._tmpfile(key)
            with f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            return self._commit(
                key, tmp, hashlib.md5(data).hexdigest(), if_match, if_none_match, author
            )

        return await asyncio.to_thread(work)

    async def put_stream(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
        author: str | None = None,
    ) -> ObjectInfo:
        key = self._key(key)
        self.requests["put"] += 1
        f, tmp = self._tmpfile(key)
        h = hashlib.md5()
        try:
            with f:
                async for chunk in chunks:
                    h.update(chunk)
                    await asyncio.to_thread(f.write, chunk)
                f.flush()
                await asyncio.to_thread(os.fsync, f.fileno())
        except BaseException:
            os.unlink(tmp)
            raise
        return await asyncio.to_thread(
            self._commit, key, tmp, h.hexdigest(), if_match, if_none_match, author
        )

    def _source(self, key: str, version_id: str | None) -> tuple[str, ObjectInfo]:
        if version_id is None:
            info = self._info_sync(key)
            if info is None:
                raise NotFound(f"{key} not found")
            return self._path(key), info
        path = os.path.join(self._vdir(key), version_id)
        if (
            version_id.startswith(".")
            or "/" in version_id
            or os.sep in version_id
            or not os.path.isfile(path)
        ):
            raise NotFound(f"version {version_id} of {key} not found")
        return path, self._version_sync(key, version_id)

    async def get(
        self,
        key: str,
        *,
        version_id: str | None = None,
        start: int | None = None,
        end: int | None = None,
    ) -> tuple[bytes, ObjectInfo]:
        key = self._key(key)
        self.requests["get"] += 1

        def work() -> tuple[bytes, ObjectInfo]:
            path, info = self._source(key, version_id)
            with open(path, "rb") as f:
                s = start or 0
                f.seek(s)
                data = f.read() if end is None else f.read(max(0, end - s))
            return data, info

        return await asyncio.to_thread(work)

    async def open_stream(
        self,
        key: str,
        *,
        version_id: str | None = None,
        start: int | None = None,
        end: int | None = None,
        chunk_size: int = 1 << 20,
    ) -> AsyncIterator[bytes]:
        key = self._key(key)
        self.requests["get"] += 1
        path, _ = await asyncio.to_thread(self._source, key, version_id)
        f = await asyncio.to_thread(open, path, "rb")
        try:
            pos = start or 0
            f.seek(pos)
            while end is None or pos < end:
                n = chunk_size if end is None else min(chunk_size, end - pos)
                chunk = await asyncio.to_thread(f.read, n)
                if not chunk:
                    break
                pos += len(chunk)
                yield chunk
        finally:
            f.close()

    async def head(self, key: str, *, version_id: str | None = None) -> ObjectInfo | None:
        key = self._key(key)
        self.requests["head"] += 1
        if version_id is None:
            return await asyncio.to_thread(self._info_sync, key)
        try:
            return (await asyncio.to_thread(self._source, key, version_id))[1]
        except NotFound:
            return None

    async def delete(self, key: str) -> None:
        key = self._key(key)
        self.requests["delete"] += 1

        def work() -> None:
            with self._locked():
                info = self._info_sync(key, locked=True)
                if info is None:
                    return
                if info.version_id is None:
                    self._archive(key, self._path(key), _new_version_id(), etag=info.etag)
                os.unlink(self._path(key))
                try:
                    os.unlink(os.path.join(self._vdir(key), META))
                except FileNotFoundError:
                    pass
                self._prune_empty_dirs(os.path.dirname(self._path(key)))

        await asyncio.to_thread(work)

    def _prune_empty_dirs(self, d: str) -> None:
        while d != self.root and d.startswith(self.root):
            try:
                os.rmdir(d)
            except OSError:
                return
            d = os.path.dirname(d)

    async def delete_prefix(self, prefix: str) -> int:
        listing = await self.list(prefix, recursive=True)
        for f in listing.files:
            await self.delete(f.key)
        return len(listing.files)

    async def copy(
        self, src: str, dst: str, *, author: str | None = None, version_id: str | None = None
    ) -> ObjectInfo:
        src, dst = self._key(src), self._key(dst)
        self.requests["copy"] += 1

        def work() -> ObjectInfo:
            path, info = self._source(src, version_id)
            f, tmp = self._tmpfile(dst)
            f.close()
            shutil.copyfile(path, tmp)
            return self._commit(dst, tmp, info.etag, None, False, author)

        return await asyncio.to_thread(work)

    def _list_sync(self, prefix: str, recursive: bool) -> Listing:
        prefix = normalize_path(prefix)
        base = self._path(prefix) if prefix else self.root
        out = Listing()
        pre = folder_prefix(prefix)
        if not os.path.isdir(base):
            return out
        if recursive:
            for dirpath, dirnames, filenames in os.walk(base):
                dirnames[:] = [d for d in dirnames if d != VERSIONS_DIR]
                rel = os.path.relpath(dirpath, self.root)
                rel = "" if rel == "." else rel.replace(os.sep, "/") + "/"
                for name in sorted(filenames):
                    if name.startswith(TMP_PREFIX):
                        continue  # a temp file, never a stored object
                    info = self._info_sync(rel + name)
                    if info:
                        out.files.append(info)
            return out
        with os.scandir(base) as it:
            for entry in sorted(it, key=lambda e: e.name):
                if entry.name == VERSIONS_DIR or entry.name.startswith(TMP_PREFIX):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    out.folders.append(pre + entry.name)
                elif entry.is_file(follow_symlinks=False):
                    info = self._info_sync(pre + entry.name)
                    if info:
                        out.files.append(info)
        return out

    async def list(self, prefix: str = "", recursive: bool = False) -> Listing:
        self.requests["list"] += 1
        return await asyncio.to_thread(self._list_sync, prefix, recursive)

    def _versions_sync(self, key: str) -> builtins.list[ObjectInfo]:
        vdir = self._vdir(key)
        try:
            names = [
                n
                for n in os.listdir(vdir)
                if not n.startswith(".") and os.path.isfile(os.path.join(vdir, n))
            ]
        except (FileNotFoundError, NotADirectoryError):
            names = []
        return self._existing_versions(key, sorted(names, reverse=True))

    def _existing_versions(self, key: str, vids: builtins.list[str]) -> builtins.list[ObjectInfo]:
        """The versions of ``vids`` that still exist: retention may remove one between the
        directory listing and its ``stat`` (it is then simply no longer a version)."""
        out = []
        for vid in vids:
            try:
                out.append(self._version_sync(key, vid))
            except FileNotFoundError:
                continue
        return out

    def _version_names(self, key: str) -> builtins.list[str]:
        vdir = self._vdir(key)
        try:
            return sorted(
                (n for n in os.listdir(vdir) if not n.startswith(".")),
                reverse=True,
            )
        except (FileNotFoundError, NotADirectoryError):
            return []

    def _version_sync(self, key: str, vid: str) -> ObjectInfo:
        p = os.path.join(self._vdir(key), vid)
        st = os.stat(p)
        side = self._sidecar(key, vid)
        etag = side.get("etag") or _md5_file(p)
        return ObjectInfo(
            key, st.st_size, etag, datetime.fromtimestamp(st.st_mtime, UTC), vid, side.get("author")
        )

    def _adopt_sync(self, key: str) -> None:
        """Keep a file written outside the store as a version (so it has a version id)."""
        cur = self._info_sync(key)
        if cur is not None and cur.version_id is None:
            with self._locked():
                cur = self._info_sync(key, locked=True)  # a write may have versioned it since
                if cur is None or cur.version_id is not None:
                    return
                vid = _new_version_id()
                self._archive(key, self._path(key), vid, etag=cur.etag)
                st = os.stat(self._path(key))
                self._write_meta(
                    key,
                    {
                        "etag": cur.etag,
                        "mtime_ns": st.st_mtime_ns,
                        "size": st.st_size,
                        "version_id": vid,
                    },
                )

    async def list_versions_page(
        self, key: str, limit: int, after: str | None = None
    ) -> tuple[builtins.list[ObjectInfo], str | None]:
        key = self._key(key)
        self.requests["list_versions"] += 1

        def work() -> tuple[builtins.list[ObjectInfo], str | None]:
            self._adopt_sync(key)
            names = self._version_names(key)
            start = 0
            if after is not None:
                if after not in names:
                    raise NotFound(f"version {after} of {key} not found")
                start = names.index(after) + 1
            page: builtins.list[ObjectInfo] = []
            end = start
            while len(page) < limit and end < len(names):
                batch = names[end : end + limit - len(page)]
                page += self._existing_versions(key, batch)
                end += len(batch)
            more = end < len(names)
            return page, (page[-1].version_id if more and page else None)

        return await asyncio.to_thread(work)

    async def list_latest(self, prefix: str = "") -> builtins.list[ObjectInfo]:
        self.requests["list"] += 1

        def work() -> builtins.list[ObjectInfo]:
            out = []
            for f in self._list_sync(prefix, True).files:
                if f.version_id is None:
                    self._adopt_sync(f.key)
                    f = self._info_sync(f.key) or f
                out.append(f)
            return out

        return await asyncio.to_thread(work)

    async def list_versions(self, key: str) -> builtins.list[ObjectInfo]:
        key = self._key(key)
        self.requests["list_versions"] += 1

        def work() -> builtins.list[ObjectInfo]:
            self._adopt_sync(key)  # changed outside the store: keep it as a version first
            return self._versions_sync(key)

        return await asyncio.to_thread(work)

    async def delete_version(self, key: str, version_id: str) -> None:
        key = self._key(key)
        self.requests["delete_version"] += 1

        def work() -> None:
            with self._locked():
                path, _ = self._source(key, version_id)
                current = self._info_sync(key, locked=True)
                if current is not None and current.version_id == version_id:
                    raise Conflict(f"version {version_id} is the current content of {key}")
                os.unlink(path)
                try:
                    os.unlink(os.path.join(self._vdir(key), SIDECAR.format(version_id)))
                except FileNotFoundError:
                    pass

        await asyncio.to_thread(work)

    async def stored_bytes(self, prefix: str = "") -> int:
        """Sizes of every kept version below ``prefix`` plus current files the store has not
        versioned yet (written outside it); a current file is also its newest version."""
        prefix = self._key(prefix) if prefix.strip("/") else ""
        self.requests["list"] += 1

        def work() -> int:
            total = 0
            vroot = os.path.join(self.root, VERSIONS_DIR, prefix)
            for d, _dirs, names in os.walk(vroot):
                for n in names:
                    if not n.startswith("."):
                        total += os.stat(os.path.join(d, n)).st_size
            for f in self._list_sync(prefix, True).files:
                if f.version_id is None:
                    total += f.size
            return total

        return await asyncio.to_thread(work)

    async def restore_version(
        self, key: str, version_id: str, *, author: str | None = None
    ) -> ObjectInfo:
        key = self._key(key)
        self.requests["restore"] += 1

        def work() -> ObjectInfo:
            path, info = self._source(key, version_id)
            f, tmp = self._tmpfile(key)
            f.close()
            shutil.copyfile(path, tmp)
            return self._commit(key, tmp, info.etag, None, False, author)

        return await asyncio.to_thread(work)
