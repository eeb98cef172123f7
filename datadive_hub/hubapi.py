"""What the service asks JupyterHub: who a caller is (groups, admin) and whether users/groups exist.

JupyterHub owns identity; the service only caches answers for a few seconds.
"""

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from jupyterhub.services.auth import HubOAuth
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest


@dataclass(frozen=True)
class HubUser:
    """The caller as the service sees it."""

    name: str
    kind: str = "user"  # "user", "service" or "guest" (datadive_hub.guests)
    admin: bool = False
    groups: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)  # of the token that authenticated
    #: a guest's role per project id, from its live invitations (empty for everyone else)
    guest_roles: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


class HubUsers:
    """Resolves HubOAuth models into :class:`HubUser` with groups and admin flag from the hub API."""

    def __init__(self, api_url: str, api_token: str, ttl: float = 5.0):
        self.api_url = api_url.rstrip("/")
        self.api_token = api_token
        self.ttl = ttl
        self._cache: dict[tuple[str, str], tuple[float, dict[str, Any] | None]] = {}
        self._pending: dict[tuple[str, str], asyncio.Future[Any]] = {}

    async def _get(self, path: str) -> dict[str, Any] | None:
        key = ("GET", path)
        hit = self._cache.get(key)
        if hit and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        # one question to the hub per expired answer: concurrent requests of the same caller
        # wait for it instead of each asking (a burst of hub API calls every ttl under load)
        pending = self._pending.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._fetch(key, path))
            self._pending[key] = pending
            pending.add_done_callback(lambda _: self._pending.pop(key, None))
        return await asyncio.shield(pending)

    async def _fetch(self, key: tuple[str, str], path: str) -> dict[str, Any] | None:
        model = await self._request("GET", path)
        self._cache[key] = (time.monotonic(), model)
        return model

    async def _request(self, method: str, path: str) -> dict[str, Any] | None:
        """One call to the hub's REST API (None: 404); 502 saying what failed otherwise."""
        req = HTTPRequest(
            f"{self.api_url}/{path}",
            method=method,
            headers={"Authorization": f"token {self.api_token}"},
            request_timeout=10,
        )
        try:
            resp = await AsyncHTTPClient().fetch(req)
            return json.loads(resp.body) if resp.body else {}
        except HTTPClientError as e:
            if e.code == 404:
                return None
            raise web.HTTPError(
                502, f"JupyterHub's API answered {e.code} for {method} {path}; check the hub"
            ) from e
        except OSError as e:
            raise web.HTTPError(502, f"JupyterHub's API is unreachable ({e}); check the hub") from e

    async def resolve(self, model: dict[str, Any]) -> HubUser:
        kind = model.get("kind", "user")
        name = model["name"]
        if kind != "user":
            return HubUser(name=name, kind=kind)
        full = await self._get(f"users/{quote(name, safe='')}") or {}
        return HubUser(
            name=name,
            kind="user",
            admin=bool(full.get("admin", model.get("admin", False))),
            groups=frozenset(full.get("groups", model.get("groups", [])) or []),
            scopes=frozenset(model.get("scopes") or []),
        )

    async def user_exists(self, name: str) -> bool:
        return await self._get(f"users/{quote(name, safe='')}") is not None

    async def group_exists(self, name: str) -> bool:
        return await self._get(f"groups/{quote(name, safe='')}") is not None

    async def group_members(self, name: str) -> list[str]:
        """The names of a hub group's members now (not cached; [] when there is no group)."""
        model = await self._request("GET", f"groups/{quote(name, safe='')}")
        return list((model or {}).get("users") or [])

    async def delete_user(self, name: str) -> None:
        """Delete a hub user (the hub stops its servers first); a missing user is fine."""
        await self._request("DELETE", f"users/{quote(name, safe='')}")
        self._cache.pop(("GET", f"users/{quote(name, safe='')}"), None)


class CoalescingHubOAuth(HubOAuth):  # type: ignore[misc]
    """HubOAuth whose concurrent look-ups of one token (or cookie) share one request to the hub.

    The service keeps the hub's answers only briefly (``token_cache_seconds``) so that revoked
    tokens stop working promptly; without this, every request of a burst that arrives after the
    answer expired would ask the hub again.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pending: dict[str, asyncio.Future[Any]] = {}

    async def _check_hub_authorization(
        self, url: str, api_token: str, cache_key: str | None = None, use_cache: bool = True
    ) -> Any:  # HubAuth's answer: the token's user model or None
        if not use_cache or cache_key is None:
            return await super()._check_hub_authorization(url, api_token, cache_key, use_cache)
        try:
            return self.cache[cache_key]
        except KeyError:
            pass
        pending = self._pending.get(cache_key)
        if pending is None:
            pending = asyncio.ensure_future(
                super()._check_hub_authorization(url, api_token, cache_key, use_cache)
            )
            self._pending[cache_key] = pending
            pending.add_done_callback(lambda _: self._pending.pop(cache_key, None))
        return await asyncio.shield(pending)
