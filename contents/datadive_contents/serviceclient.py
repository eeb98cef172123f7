"""The one client of the Datadive hub service (``<service>/api/v1/...``), used by every caller.

User servers (the server extension and :class:`~datadive_contents.stores.hub.HubServiceStore`) and
the ``datadive templates`` command line reach the service through :class:`ServiceClient`: URLs
built with ``url_path_join``, the JupyterHub token in the ``Authorization`` header, bounded
timeouts, and one error mapping:

- the service answered an error → :class:`ServiceError` (``status``, ``message`` from its JSON);
- it refused the connection or did not answer in time → :class:`ServiceUnreachable` (502 / 504),
  whose message says what to do.

It is asynchronous (aiohttp); a synchronous caller runs it with :meth:`ServiceClient.fetch_sync`.

    client = ServiceClient()  # DATADIVE_SERVICE_URL, JUPYTERHUB_API_TOKEN
    projects = await client.request("GET", "projects", query={"limit": "500"})
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from jupyter_server.utils import url_path_join

#: request methods that carry a body (an empty one when the caller gives none)
BODY_METHODS = ("POST", "PUT", "PATCH")


class ServiceError(Exception):
    """The service answered an error: ``status`` and its ``message``; ``body`` is its JSON."""

    def __init__(self, status: int, message: str, body: Any = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.body = body


class ServiceUnreachable(ServiceError):
    """No answer: the connection failed (502) or the service did not answer in time (504)."""


@dataclass
class ServiceResponse:
    """A whole (buffered) answer of the service, whatever its status."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def message(self) -> str:
        """The service's ``message`` for an error answer, else a sentence naming the status."""
        try:
            return str(json.loads(self.body)["message"])
        except (ValueError, KeyError, TypeError):
            return f"The Datadive service answered {self.status}"

    def error(self) -> ServiceError:
        try:
            body = self.json()
        except ValueError:
            body = None
        return ServiceError(self.status, self.message, body)


class ServiceClient:
    """Client of ``<service_url>/api/v1/`` with a JupyterHub API token.

    ``timeout``: seconds a buffered request may take in all (streamed ones: between two reads).
    ``retry_after``: after the service did not answer, requests fail at once for this many seconds
    instead of each waiting for its own timeout (0: every request tries).
    """

    def __init__(
        self,
        service_url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        retry_after: float = 0.0,
    ):
        self.service_url = service_url or os.environ.get("DATADIVE_SERVICE_URL", "")
        self.token = token if token is not None else os.environ.get("JUPYTERHUB_API_TOKEN", "")
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.retry_after = retry_after
        self._down_until = 0.0
        self._down_reason = ""
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def configured(self) -> bool:
        return bool(self.service_url and self.token)

    def url(self, path: str, query: Mapping[str, str] | None = None) -> str:
        url = url_path_join(self.service_url, "api/v1", path)
        return f"{url}?{urlencode(query)}" if query else url

    def _client(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session = aiohttp.ClientSession(
                headers={"Authorization": f"token {self.token}"}, auto_decompress=False
            )
            self._loop = loop
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _unreachable(self, e: BaseException, timeout: float) -> ServiceUnreachable:
        if isinstance(e, TimeoutError):
            status, why = 504, f"it did not answer within {timeout:g} s"
        else:
            status, why = 502, f"unreachable: {e}"
        message = (
            f"cannot reach the Datadive service at {self.service_url} ({why}); try again, and "
            "if it persists ask a hub admin to check that the hub and its service are running"
        )
        if self.retry_after:
            self._down_until, self._down_reason = time.monotonic() + self.retry_after, message
        return ServiceUnreachable(status, message)

    async def open(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        json_body: Any = None,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        stream: bool = False,
    ) -> aiohttp.ClientResponse:
        """Send one request and return the open response, whatever its status; the caller
        reads and releases it. ``body``: bytes or an async iterable of bytes (streamed)."""
        if not self.configured:
            raise ServiceError(
                503,
                "This server is not connected to the Datadive service "
                "(DATADIVE_SERVICE_URL / JUPYTERHUB_API_TOKEN unset); start it through the hub",
            )
        now = time.monotonic()
        if now < self._down_until:
            ago = self.retry_after - (self._down_until - now)
            raise ServiceUnreachable(
                502, f"{self._down_reason} (tried {ago:.0f} s ago; trying again shortly)"
            )
        seconds = self.timeout if timeout is None else timeout
        limit = aiohttp.ClientTimeout(
            total=None if stream else seconds,
            sock_connect=min(self.connect_timeout, seconds),
            sock_read=seconds if stream else None,
        )
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        elif body is None and method in BODY_METHODS:
            body = b""
        elif body is not None and not isinstance(body, bytes | bytearray):
            body = _Chunks(body)
        try:
            resp = await self._client().request(
                method,
                self.url(path),
                params=query,
                data=body,
                headers=headers,
                timeout=limit,
            )
        except (TimeoutError, aiohttp.ClientError, OSError) as e:
            raise self._unreachable(e, seconds) from None
        self._down_until = 0.0
        return resp

    async def fetch(self, method: str, path: str, **kwargs: Any) -> ServiceResponse:
        """Send one request (arguments as :meth:`open`) and read the whole answer."""
        resp = await self.open(method, path, **kwargs)
        try:
            data = await resp.read()
        except (TimeoutError, aiohttp.ClientError, OSError) as e:
            raise self._unreachable(e, kwargs.get("timeout") or self.timeout) from None
        finally:
            resp.release()
        return ServiceResponse(resp.status, resp.headers, data)

    async def request(
        self, method: str, path: str, data: Any = None, query: Mapping[str, str] | None = None
    ) -> Any:
        """JSON request; raises :class:`ServiceError` with the service's message on errors."""
        resp = await self.fetch(method, path, json_body=data, query=query)
        if resp.status >= 400:
            raise resp.error()
        return resp.json()

    def fetch_sync(self, method: str, path: str, **kwargs: Any) -> ServiceResponse:
        """:meth:`fetch` for synchronous callers (a command line): runs it in its own loop."""

        async def once() -> ServiceResponse:
            try:
                return await self.fetch(method, path, **kwargs)
            finally:
                await self.close()

        return asyncio.run(once())


async def service_error(resp: aiohttp.ClientResponse) -> ServiceError:
    """The :class:`ServiceError` of an open error response (read and released here)."""
    try:
        data = await resp.read()
    except (TimeoutError, aiohttp.ClientError, OSError):
        data = b""
    finally:
        resp.release()
    return ServiceResponse(resp.status, resp.headers, data).error()


class _Chunks:
    """An async iterable of bytes as a streamed (chunked) request body."""

    def __init__(self, chunks: Any) -> None:
        self.chunks = chunks

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._gen()

    async def _gen(self) -> AsyncIterator[bytes]:
        async for c in self.chunks:
            if c:
                yield bytes(c)


__all__ = ["ServiceClient", "ServiceError", "ServiceResponse", "ServiceUnreachable"]
