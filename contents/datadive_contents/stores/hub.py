"""HubServiceStore: one project's files through the Datadive hub service (no storage credentials).

User servers use it: every call goes to ``<service>/api/v1/projects/<id>/files...`` with the
user's own JupyterHub token, so the service checks membership each time. Large downloads follow
presigned URLs when the service offers them; uploads are streamed. Errors map back to the store
errors: 412 → Conflict, 404 → NotFound, 400 → PathRejected, 409 → Refused, 401/403 →
AccessDenied, connection failures and 5xx → StoreUnavailable.

    store = HubServiceStore("3f2c...")  # service URL and token from DATADIVE_SERVICE_URL,
                                        # JUPYTERHUB_API_TOKEN
"""

from __future__ import annotations

import asyncio
import builtins
import re
from collections.abc import AsyncIterable, AsyncIterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import aiohttp

from ..paths import normalize_path
from ..serviceclient import ServiceClient, ServiceError, ServiceUnreachable, service_error
from .base import (
    Conflict,
    Listing,
    NotFound,
    ObjectInfo,
    ObjectStore,
    PathRejected,
    Refused,
    StoreError,
    StoreUnavailable,
)


class AccessDenied(StoreError, PermissionError):
    """The service refused the token (not signed in, or not a member with the needed role)."""


#: downloads at least this large follow a presigned URL when the service offers one
PRESIGN_MIN_BYTES = 8 << 20


def _parse_time(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            t = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return datetime.now(UTC)
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _info_from_json(d: dict[str, Any]) -> ObjectInfo:
    return ObjectInfo(
        d["path"],
        int(d["size"]),
        d["etag"],
        _parse_time(d.get("last_modified")),
        d.get("version_id"),
        d.get("author"),
        d.get("writable") is False,
    )


def _info_from_headers(key: str, headers: Any) -> ObjectInfo:
    size = headers.get("X-Datadive-Size")
    if size is None:
        m = re.search(r"/(\d+)$", headers.get("Content-Range", ""))
        size = m.group(1) if m else headers.get("Content-Length", "0")
    return ObjectInfo(
        key,
        int(size),
        (headers.get("ETag") or "").strip('"'),
        _parse_time(headers.get("X-Datadive-Last-Modified") or headers.get("Last-Modified")),
        headers.get("X-Datadive-Version-Id") or None,
        read_only=bool(headers.get("X-Datadive-Linked")),
    )


class HubServiceStore(ObjectStore):
    """The files of project ``project_id``, reached through the Datadive hub service."""

    def __init__(
        self,
        project_id: str,
        *,
        service_url: str | None = None,
        token: str | None = None,
        use_presigned: bool = True,
        timeout: float = 60.0,
        retry_after: float = 10.0,
    ) -> None:
        super().__init__()
        #: the service connection; after it failed to answer, requests fail at once for
        #: ``retry_after`` seconds instead of each waiting for its own timeout
        self.client = ServiceClient(service_url, token, timeout=timeout, retry_after=retry_after)
        if not self.client.service_url:
            raise ValueError(
                "HubServiceStore needs the service URL: set DATADIVE_SERVICE_URL "
                "(e.g. http://127.0.0.1:8000/services/datadive/) or pass service_url="
            )
        if not self.client.token:
            raise ValueError(
                "HubServiceStore needs a JupyterHub API token: set JUPYTERHUB_API_TOKEN or pass token="
            )
        self.project_id = project_id
        self.base = f"projects/{quote(project_id, safe='')}/"
        self.url = self.client.url(self.base + "files/")
        self.use_presigned = use_presigned

    # -- plumbing ------------------------------------------------------------------------

    async def close(self) -> None:
        await self.client.close()

    def _file_path(self, key: str, area: str = "files") -> str:
        return f"{self.base}{area}/{quote(key, safe='/')}"

    def _error(self, e: ServiceError, key: str) -> StoreError:
        status, message = e.status, e.message
        if isinstance(e, ServiceUnreachable):
            return StoreUnavailable(message)
        if status == 404:
            return NotFound(f"{key}: {message}")
        if status == 412:
            return Conflict(f"{key}: {message}")
        if status == 400:
            return PathRejected(message)
        if status == 409:
            return Refused(message)
        if status in (401, 403):
            return AccessDenied(f"the Datadive service refused access to {key!r}: {message}")
        if status >= 500:
            return StoreUnavailable(
                f"the Datadive service at {self.client.service_url} failed: {message}"
            )
        return StoreError(f"the Datadive service answered {status} for {key!r}: {message}")

    async def _request(
        self,
        op: str,
        method: str,
        path: str,
        key: str,
        *,
        expect: tuple[int, ...] = (200,),
        **kwargs: Any,
    ) -> aiohttp.ClientResponse:
        """Send one request; the caller must release the response. Raises a StoreError."""
        self.requests[op] += 1
        try:
            resp = await self.client.open(method, path, stream=True, **kwargs)
            if resp.status not in expect:
                raise await service_error(resp)
        except ServiceError as e:
            raise self._error(e, key) from None
        return resp

    async def _json(self, op: str, method: str, path: str, key: str, **kwargs: Any) -> Any:
        resp = await self._request(op, method, path, key, expect=(200, 201), **kwargs)
        try:
            return await resp.json(content_type=None)
        finally:
            resp.release()

    # -- interface -----------------------------------------------------------------------

    # ``author`` is not sent: the service records the hub user whose token made the request

    async def put(
        self,
        key: str,
        data: bytes,
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
        author: str | None = None,
    ) -> ObjectInfo:
        return await self._put(key, bytes(data), if_match, if_none_match)

    async def put_stream(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
        author: str | None = None,
    ) -> ObjectInfo:
        return await self._put(key, chunks, if_match, if_none_match)

    async def _put(
        self,
        key: str,
        body: bytes | AsyncIterable[bytes],
        if_match: str | None,
        if_none_match: bool,
    ) -> ObjectInfo:
        key = normalize_path(key, allow_root=False)
        headers = {"Content-Type": "application/octet-stream"}
        if if_match is not None:
            headers["If-Match"] = f'"{if_match}"'
        if if_none_match:
            headers["If-None-Match"] = "*"
        return _info_from_json(
            await self._json("put", "PUT", self._file_path(key), key, body=body, headers=headers)
        )

    async def get(
        self,
        key: str,
        *,
        version_id: str | None = None,
        start: int | None = None,
        end: int | None = None,
    ) -> tuple[bytes, ObjectInfo]:
        key = normalize_path(key, allow_root=False)
        if end is not None and end <= (start or 0):
            info = await self.head(key, version_id=version_id)
            if info is None:
                raise NotFound(f"{key} not found")
            return b"", info
        resp = await self._download(key, version_id, start, end)
        try:
            data = await resp.read()
            return data, _info_from_headers(key, resp.headers)
        except aiohttp.ClientError as e:
            raise StoreUnavailable(f"the download of {key!r} broke off ({e}); try again") from None
        finally:
            resp.release()

    async def _download(
        self, key: str, version_id: str | None, start: int | None, end: int | None
    ) -> aiohttp.ClientResponse:
        headers = {}
        if start is not None or end is not None:
            headers["Range"] = f"bytes={start or 0}-" + ("" if end is None else str(end - 1))
        params = {"version_id": version_id} if version_id else None
        return await self._request(
            "get",
            "GET",
            self._file_path(key),
            key,
            expect=(200, 206),
            headers=headers,
            query=params,
        )

    async def open_stream(
        self,
        key: str,
        *,
        version_id: str | None = None,
        start: int | None = None,
        end: int | None = None,
        chunk_size: int = 1 << 20,
    ) -> AsyncIterator[bytes]:
        key = normalize_path(key, allow_root=False)
        if end is not None and end <= (start or 0):
            return
        resp: aiohttp.ClientResponse | None = None
        if self.use_presigned and version_id is None:
            resp = await self._presigned_download(key, start, end)
        if resp is None:
            resp = await self._download(key, version_id, start, end)
        try:
            async for chunk in resp.content.iter_chunked(chunk_size):
                yield chunk
        except aiohttp.ClientError as e:
            raise StoreUnavailable(f"the download of {key!r} broke off ({e}); try again") from None
        finally:
            resp.release()

    async def _presigned_download(
        self, key: str, start: int | None, end: int | None
    ) -> aiohttp.ClientResponse | None:
        """Follow the service's presigned URL for large objects (None: not offered / small)."""
        offer = await self._json(
            "presign", "GET", self._file_path(key), key, query={"presign": "1"}
        )
        url = offer.get("url")
        wanted = (end if end is not None else offer.get("size", 0)) - (start or 0)
        if not url or wanted < PRESIGN_MIN_BYTES:
            return None
        headers = {}
        if start is not None or end is not None:
            headers["Range"] = f"bytes={start or 0}-" + ("" if end is None else str(end - 1))
        self.requests["get_presigned"] += 1
        try:
            # a separate session: the presigned URL must not carry the hub token
            session = aiohttp.ClientSession(auto_decompress=False)
            resp = await session.get(url, headers=headers)
        except (aiohttp.ClientError, OSError):
            await session.close()
            return None
        if resp.status not in (200, 206):
            resp.release()
            await session.close()
            return None
        _close_with(resp, session)
        return resp

    async def head(self, key: str, *, version_id: str | None = None) -> ObjectInfo | None:
        key = normalize_path(key, allow_root=False)
        params = {"version_id": version_id} if version_id else None
        try:
            resp = await self._request(
                "head", "HEAD", self._file_path(key), key, expect=(200,), query=params
            )
        except NotFound:
            return None
        try:
            return _info_from_headers(key, resp.headers)
        finally:
            resp.release()

    async def delete(self, key: str) -> None:
        key = normalize_path(key, allow_root=False)
        try:
            resp = await self._request(
                "delete", "DELETE", self._file_path(key), key, query={"only": "file"}
            )
            resp.release()
        except NotFound:
            pass

    async def delete_prefix(self, prefix: str) -> int:
        prefix = normalize_path(prefix, allow_root=False)
        try:
            out = await self._json(
                "delete", "DELETE", self._file_path(prefix), prefix, query={"only": "folder"}
            )
        except NotFound:
            return 0
        return int(out.get("deleted", 0))

    async def copy(
        self, src: str, dst: str, *, author: str | None = None, version_id: str | None = None
    ) -> ObjectInfo:
        if version_id is not None:
            raise StoreError(
                "copying an older version through the Datadive service is not supported; "
                "restore that version first (POST .../versions/<path>)"
            )
        return await self._copy_or_move("copy", src, dst)

    async def move(self, src: str, dst: str, *, author: str | None = None) -> ObjectInfo:
        return await self._copy_or_move("move", src, dst)

    async def _copy_or_move(self, action: str, src: str, dst: str) -> ObjectInfo:
        """``files:copy`` / ``files:move`` through the service (which records the caller as the
        author); the info of ``dst`` afterwards."""
        src, dst = normalize_path(src, allow_root=False), normalize_path(dst, allow_root=False)
        try:
            await self._json(
                action,
                "POST",
                self.base + f"files:{action}",
                src,
                json_body={"from": src, "to": dst, "overwrite": True},
            )
        except NotFound:
            raise NotFound(f"{src} not found") from None
        info = await self.head(dst)
        if info is None:  # pragma: no cover - removed right after the copy or move
            raise NotFound(f"{dst} not found after the {action}")
        return info

    async def list(self, prefix: str = "", recursive: bool = False) -> Listing:
        prefix = normalize_path(prefix)
        params = {"prefix": prefix, "recursive": "1" if recursive else "0"}
        out = await self._json("list", "GET", self.base + "files", prefix, query=params)
        return Listing(
            [_info_from_json(f) for f in out.get("files", [])],
            [d["path"] for d in out.get("folders", [])],
        )

    async def list_versions(self, key: str) -> builtins.list[ObjectInfo]:
        key = normalize_path(key, allow_root=False)
        versions: list[ObjectInfo] = []
        query = {"limit": "200"}
        while True:
            try:
                out = await self._json(
                    "list_versions", "GET", self._file_path(key, "versions"), key, query=query
                )
            except NotFound:
                return versions
            versions += [_info_from_json(v) for v in out.get("versions", [])]
            if not out.get("next"):
                return versions
            query = {"limit": "200", "cursor": out["next"]}

    async def list_versions_page(
        self, key: str, limit: int, after: str | None = None
    ) -> tuple[builtins.list[ObjectInfo], str | None]:
        key = normalize_path(key, allow_root=False)
        query = {"limit": str(limit), **({"cursor": after} if after else {})}
        try:
            out = await self._json(
                "list_versions", "GET", self._file_path(key, "versions"), key, query=query
            )
        except NotFound:
            return [], None
        return [_info_from_json(v) for v in out.get("versions", [])], out.get("next")

    async def restore_version(
        self, key: str, version_id: str, *, author: str | None = None
    ) -> ObjectInfo:
        key = normalize_path(key, allow_root=False)
        out = await self._json(
            "restore",
            "POST",
            self._file_path(key, "versions"),
            key,
            json_body={"version_id": version_id},
        )
        return _info_from_json(out)

    async def presign_get(self, key: str, expires: int = 300) -> str | None:
        key = normalize_path(key, allow_root=False)
        out = await self._json("presign", "GET", self._file_path(key), key, query={"presign": "1"})
        url: str | None = out.get("url")
        return url


def _close_with(resp: aiohttp.ClientResponse, session: aiohttp.ClientSession) -> None:
    """Close ``session`` once ``resp`` is released (presigned downloads use their own session)."""
    release = resp.release

    def release_and_close() -> None:
        release()
        asyncio.ensure_future(session.close())

    resp.release = release_and_close  # type: ignore[method-assign]


__all__ = ["AccessDenied", "HubServiceStore"]
