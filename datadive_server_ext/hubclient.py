"""Calls from a user's server to the Datadive hub service, with the server's own token."""

import json
import os
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.httputil import url_concat


class ServiceError(Exception):
    """The service answered an error (``status``, ``message``) or could not be reached (502)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class HubServiceClient:
    """JSON client for ``<service>/api/v1/``."""

    def __init__(
        self, service_url: str | None = None, token: str | None = None, timeout: float = 30
    ):
        self.service_url = (service_url or os.environ.get("DATADIVE_SERVICE_URL", "")).rstrip("/")
        self.token = token if token is not None else os.environ.get("JUPYTERHUB_API_TOKEN", "")
        self.timeout = timeout

    @property
    def configured(self) -> bool:
        return bool(self.service_url and self.token)

    def url(self, path: str, query: dict | None = None) -> str:
        return url_concat(f"{self.service_url}/api/v1/{path.lstrip('/')}", query or {})

    async def fetch(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        query: dict | None = None,
        headers: dict | None = None,
        timeout: float | None = None,
    ):
        """Raw request; returns the tornado response, whatever its status (599 when it could not
        be sent or no answer came within ``timeout`` seconds, default ``self.timeout``)."""
        if not self.configured:
            raise ServiceError(
                503,
                "This server is not connected to the Datadive service "
                "(DATADIVE_SERVICE_URL / JUPYTERHUB_API_TOKEN unset); start it through the hub",
            )
        req = HTTPRequest(
            self.url(path, query),
            method=method,
            body=body
            if body is not None
            else (b"" if method in ("POST", "PUT", "PATCH") else None),
            headers={"Authorization": f"token {self.token}", **(headers or {})},
            request_timeout=self.timeout if timeout is None else timeout,
            connect_timeout=min(20.0, self.timeout if timeout is None else timeout),
            allow_nonstandard_methods=True,
        )
        try:
            return await AsyncHTTPClient().fetch(req, raise_error=False)
        except HTTPClientError as e:  # raise_error=False still raises for timeouts (599)
            raise ServiceError(
                504,
                f"The Datadive service did not answer within {req.request_timeout:g} s; "
                "try again, or ask a hub admin to check it",
            ) from e
        except OSError as e:
            raise ServiceError(
                502,
                f"The Datadive service is unreachable ({e}); "
                "try again, or ask a hub admin to check it",
            ) from e

    async def request(
        self, method: str, path: str, data: Any = None, query: dict | None = None
    ) -> Any:
        """JSON request; raises :class:`ServiceError` with the service's message on errors."""
        body = json.dumps(data).encode() if data is not None else None
        resp = await self.fetch(
            method, path, body, query, {"Content-Type": "application/json"} if body else None
        )
        if resp.code >= 400 or resp.code == 599:
            raise ServiceError(*_error(resp))
        return json.loads(resp.body) if resp.body else None


def _error(resp) -> tuple[int, str]:
    if resp.code == 599:
        return 502, f"The Datadive service is unreachable ({resp.error}); try again"
    try:
        return resp.code, json.loads(resp.body)["message"]
    except (ValueError, KeyError, TypeError):
        return resp.code, f"The Datadive service answered {resp.code}"


__all__ = ["HTTPClientError", "HubServiceClient", "ServiceError"]
