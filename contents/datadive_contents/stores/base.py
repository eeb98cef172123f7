"""The object-store interface every backend implements (see docs/dev/contracts.md).

Keys are '/'-separated paths relative to the store's root (its bucket prefix or directory);
"folders" are key prefixes, so any prefix written by any tool shows up as a folder.
All methods are coroutines; errors are the four exception classes below.
"""

from __future__ import annotations

import abc
import builtins
import collections
import dataclasses
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime


class StoreError(Exception):
    """Base class of every error an ObjectStore raises."""


class NotFound(StoreError, KeyError):
    """The key (or version) does not exist."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else "not found"


class Conflict(StoreError):
    """A precondition failed: if_match did not match, or if_none_match found an object."""


class Refused(StoreError):
    """The change is not allowed there (e.g. a read-only dataset linked from another project);
    the message says why and what to do instead."""


class StoreUnavailable(StoreError):
    """The store's endpoint cannot be reached (the message names it)."""


class PathRejected(StoreError, ValueError):
    """A user-supplied path or key is not acceptable (the message says why)."""


@dataclass(frozen=True)
class ObjectInfo:
    """One stored object (or one version of it).

    ``etag`` is an opaque string without quotes (the content md5 hex for single-part writes);
    ``version_id`` is None where the backend keeps no versions; ``author`` is the hub user who
    wrote it where the writer named one (S3 object metadata, the local store's version sidecar;
    None where the answer does not carry it, e.g. an S3 listing); ``read_only`` is True for a
    dataset the service links in from another project (read through the service only).
    """

    key: str
    size: int
    etag: str
    last_modified: datetime
    version_id: str | None = None
    author: str | None = None
    read_only: bool = False


@dataclass
class Listing:
    """Result of ``list``: objects directly under the prefix and sub-folder keys (no trailing '/')."""

    files: list[ObjectInfo] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)


def folder_prefix(prefix: str) -> str:
    """``"a/b"`` → ``"a/b/"``; ``""`` → ``""``."""
    prefix = prefix.strip("/")
    return prefix + "/" if prefix else ""


class ObjectStore(abc.ABC):
    """Async object store. ``requests`` counts calls made to the backend, by operation name."""

    #: human-readable location, used in error messages and logs
    url: str = ""

    def __init__(self) -> None:
        self.requests: collections.Counter[str] = collections.Counter()

    @property
    def request_count(self) -> int:
        """Total number of backend requests made so far."""
        return sum(self.requests.values())

    @abc.abstractmethod
    async def put(
        self,
        key: str,
        data: bytes,
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
        author: str | None = None,
    ) -> ObjectInfo:
        """Store ``data`` at ``key``. ``if_match``: only if the current ETag equals it (else
        Conflict; NotFound counts as a mismatch); ``if_none_match``: only if no object exists;
        ``author``: the hub user who wrote it, kept with the new version."""

    @abc.abstractmethod
    async def put_stream(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
        author: str | None = None,
    ) -> ObjectInfo:
        """Like ``put`` but from an async iterable of byte chunks (multipart on S3)."""

    @abc.abstractmethod
    async def get(
        self,
        key: str,
        *,
        version_id: str | None = None,
        start: int | None = None,
        end: int | None = None,
    ) -> tuple[bytes, ObjectInfo]:
        """Return the bytes ``[start, end)`` (end exclusive, like a slice) and the object's info."""

    @abc.abstractmethod
    def open_stream(
        self,
        key: str,
        *,
        version_id: str | None = None,
        start: int | None = None,
        end: int | None = None,
        chunk_size: int = 1 << 20,
    ) -> AsyncIterator[bytes]:
        """Async iterator over the bytes ``[start, end)`` in chunks (raises NotFound on first use)."""

    @abc.abstractmethod
    async def head(self, key: str, *, version_id: str | None = None) -> ObjectInfo | None:
        """Info of ``key`` or None if it does not exist."""

    @abc.abstractmethod
    async def delete(self, key: str) -> None:
        """Delete ``key`` (its versions stay recoverable where the backend keeps versions).
        Deleting a missing key is not an error."""

    @abc.abstractmethod
    async def delete_prefix(self, prefix: str) -> int:
        """Delete every object under the folder ``prefix``; return how many."""

    @abc.abstractmethod
    async def copy(
        self, src: str, dst: str, *, author: str | None = None, version_id: str | None = None
    ) -> ObjectInfo:
        """Server-side copy of ``src`` (its version ``version_id``, default the current one) to
        ``dst`` (NotFound if src or that version is missing)."""

    async def move(self, src: str, dst: str, *, author: str | None = None) -> ObjectInfo:
        """Rename ``src`` to ``dst`` (a copy, then a delete; both keep their history). Through
        the service it is one request, recorded as a rename (nothing goes to the trash)."""
        info = await self.copy(src, dst, author=author)
        await self.delete(src)
        return info

    @abc.abstractmethod
    async def list(self, prefix: str = "", recursive: bool = False) -> Listing:
        """Objects directly under folder ``prefix`` (all below it if recursive) and, unless
        recursive, its sub-folders. ObjectInfo.key and folders are full keys."""

    @abc.abstractmethod
    async def list_versions(self, key: str) -> builtins.list[ObjectInfo]:
        """Versions of ``key``, newest first (the first is the current one if it exists)."""

    @abc.abstractmethod
    async def restore_version(
        self, key: str, version_id: str, *, author: str | None = None
    ) -> ObjectInfo:
        """Make the content of ``version_id`` the current content (as a new version; also when
        ``key`` was deleted since)."""

    async def delete_version(self, key: str, version_id: str) -> None:
        """Remove one older version of ``key`` for good (retention; never the current one).
        Backends that keep versions override it."""
        raise StoreError(f"{type(self).__name__} cannot remove single versions")

    async def stored_bytes(self, prefix: str = "") -> int:
        """Bytes kept below folder ``prefix``, every version counted (what the storage holds).
        Backends override it with one listing; this fallback counts current files only."""
        listing = await self.list(prefix, recursive=True)
        return sum(f.size for f in listing.files)

    async def list_versions_page(
        self, key: str, limit: int, after: str | None = None
    ) -> tuple[builtins.list[ObjectInfo], str | None]:
        """At most ``limit`` versions of ``key``, newest first, continuing from ``after``; and
        the token to continue from (None: no more; the last version's id, except through the
        service, whose token is its opaque cursor). Backends override it to read only one page
        from the backend. An ``after`` that names no version raises NotFound."""
        versions = await self.list_versions(key)
        start = 0
        if after is not None:
            ids = [v.version_id for v in versions]
            if after not in ids:
                raise NotFound(f"version {after} of {key} not found")
            start = ids.index(after) + 1
        page = versions[start : start + limit]
        more = start + limit < len(versions)
        return page, (page[-1].version_id if more and page else None)

    async def list_latest(self, prefix: str = "") -> builtins.list[ObjectInfo]:
        """Every object below folder ``prefix`` with its current ``version_id`` (what a snapshot
        records). S3 reads them from the version listing (one LIST per 1,000 versions)."""
        listing = await self.list(prefix, recursive=True)
        out = []
        for f in listing.files:
            if f.version_id is None:
                head = await self.head(f.key)
                f = head or f
            out.append(f)
        return out

    async def presign_get(self, key: str, expires: int = 300) -> str | None:
        """A URL that downloads ``key`` without credentials, or None where unsupported."""
        return None

    async def presign_put(self, key: str, expires: int = 300) -> str | None:
        """A URL that uploads ``key`` without credentials, or None where unsupported."""
        return None

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    def sub(self, prefix: str) -> ObjectStore:
        """A view of this store rooted at ``prefix`` (e.g. ``projects/<id>``)."""
        return PrefixStore(self, prefix)


class PrefixStore(ObjectStore):
    """Presents ``inner``'s keys under ``prefix`` as a store of their own."""

    def __init__(self, inner: ObjectStore, prefix: str) -> None:
        super().__init__()
        self.inner = inner
        self.prefix = folder_prefix(prefix)
        self.requests = inner.requests  # share the counter
        self.url = f"{inner.url.rstrip('/')}/{self.prefix}"

    def _k(self, key: str) -> str:
        return self.prefix + key.strip("/") if key.strip("/") else self.prefix.rstrip("/")

    def _info(self, info: ObjectInfo) -> ObjectInfo:
        return dataclasses.replace(info, key=info.key[len(self.prefix) :])

    async def put(
        self,
        key: str,
        data: bytes,
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
        author: str | None = None,
    ) -> ObjectInfo:
        return self._info(
            await self.inner.put(
                self._k(key), data, if_match=if_match, if_none_match=if_none_match, author=author
            )
        )

    async def put_stream(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
        author: str | None = None,
    ) -> ObjectInfo:
        return self._info(
            await self.inner.put_stream(
                self._k(key), chunks, if_match=if_match, if_none_match=if_none_match, author=author
            )
        )

    async def get(
        self,
        key: str,
        *,
        version_id: str | None = None,
        start: int | None = None,
        end: int | None = None,
    ) -> tuple[bytes, ObjectInfo]:
        data, info = await self.inner.get(self._k(key), version_id=version_id, start=start, end=end)
        return data, self._info(info)

    def open_stream(
        self,
        key: str,
        *,
        version_id: str | None = None,
        start: int | None = None,
        end: int | None = None,
        chunk_size: int = 1 << 20,
    ) -> AsyncIterator[bytes]:
        return self.inner.open_stream(
            self._k(key), version_id=version_id, start=start, end=end, chunk_size=chunk_size
        )

    async def head(self, key: str, *, version_id: str | None = None) -> ObjectInfo | None:
        info = await self.inner.head(self._k(key), version_id=version_id)
        return self._info(info) if info else None

    async def delete(self, key: str) -> None:
        await self.inner.delete(self._k(key))

    async def delete_prefix(self, prefix: str) -> int:
        return await self.inner.delete_prefix(self._k(prefix) if prefix.strip("/") else self.prefix)

    async def copy(
        self, src: str, dst: str, *, author: str | None = None, version_id: str | None = None
    ) -> ObjectInfo:
        return self._info(
            await self.inner.copy(self._k(src), self._k(dst), author=author, version_id=version_id)
        )

    async def list(self, prefix: str = "", recursive: bool = False) -> Listing:
        inner = await self.inner.list(self._k(prefix), recursive=recursive)
        n = len(self.prefix)
        return Listing([self._info(f) for f in inner.files], [d[n:] for d in inner.folders])

    async def list_versions(self, key: str) -> builtins.list[ObjectInfo]:
        return [self._info(v) for v in await self.inner.list_versions(self._k(key))]

    async def restore_version(
        self, key: str, version_id: str, *, author: str | None = None
    ) -> ObjectInfo:
        return self._info(await self.inner.restore_version(self._k(key), version_id, author=author))

    async def delete_version(self, key: str, version_id: str) -> None:
        await self.inner.delete_version(self._k(key), version_id)

    async def stored_bytes(self, prefix: str = "") -> int:
        return await self.inner.stored_bytes(self._k(prefix) if prefix.strip("/") else self.prefix)

    async def list_versions_page(
        self, key: str, limit: int, after: str | None = None
    ) -> tuple[builtins.list[ObjectInfo], str | None]:
        page, nxt = await self.inner.list_versions_page(self._k(key), limit, after)
        return [self._info(v) for v in page], nxt

    async def list_latest(self, prefix: str = "") -> builtins.list[ObjectInfo]:
        inner = await self.inner.list_latest(self._k(prefix) if prefix.strip("/") else self.prefix)
        return [self._info(f) for f in inner]

    async def presign_get(self, key: str, expires: int = 300) -> str | None:
        return await self.inner.presign_get(self._k(key), expires)

    async def presign_put(self, key: str, expires: int = 300) -> str | None:
        return await self.inner.presign_put(self._k(key), expires)
