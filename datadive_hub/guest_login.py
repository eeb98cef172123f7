"""The hub's half of guest servers (runs inside JupyterHub; the service's half and the whole
story: :mod:`datadive_hub.guest_servers`).

- :class:`GuestLoginMixin`, part of Datadive's authenticators, adds ``/hub/datadive-guest-login``:
  it redeems a ticket the service gave a guest's browser, makes the guest's hub user (in the
  group ``datadive-guests``), signs the browser in and starts the server at the project's folder.
  People signing in the ordinary way cannot take a name with the guests' prefix.
- :func:`check_guest_spawn`, called by the spawner's ``pre_spawn_hook``, asks the service (with
  the new server's own token) whether a guest may run a server and applies its limits.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlencode

from jupyterhub import orm
from jupyterhub.handlers import BaseHandler
from jupyterhub.spawner import Spawner
from jupyterhub.user import User
from jupyterhub.utils import url_path_join
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from traitlets import Unicode
from traitlets.config import Configurable

from .guest_servers import GROUP, HUB_PREFIX, NONCE_COOKIE


def is_guest_user(user: User) -> bool:
    """A hub user that stands for a Datadive guest (name prefix and group)."""
    return user.name.startswith(HUB_PREFIX) and any(
        g.name == GROUP for g in getattr(user, "groups", None) or []
    )


async def _service_call(
    url: str, method: str, body: dict[str, Any] | None = None, token: str = ""
) -> dict[str, Any]:
    """JSON from the service; web.HTTPError with the service's message when it refuses."""
    req = HTTPRequest(
        url,
        method=method,
        body=json.dumps(body) if body is not None else None,
        headers={
            "Content-Type": "application/json",
            **({"Authorization": f"token {token}"} if token else {}),
        },
        request_timeout=15,
    )
    try:
        resp = await AsyncHTTPClient().fetch(req)
    except HTTPClientError as e:
        try:
            message = json.loads(e.response.body)["message"] if e.response else str(e)
        except (ValueError, KeyError, TypeError):
            message = str(e)
        raise web.HTTPError(e.code if e.code in (400, 401, 403, 404) else 502, message) from e
    except OSError as e:
        raise web.HTTPError(502, f"The Datadive service is unreachable ({e}); try again") from e
    answer: dict[str, Any] = json.loads(resp.body)
    return answer


class GuestLoginHandler(BaseHandler):  # type: ignore[misc]
    """``/hub/datadive-guest-login?ticket=...``: a guest's browser, sent by the service."""

    async def get(self) -> None:
        ticket = self.get_argument("ticket", "")
        if not ticket:
            raise web.HTTPError(400, "Open the project's page and choose Open in JupyterLab")
        base = self.authenticator.datadive_service_url
        nonce = self.get_cookie(NONCE_COOKIE, "")
        self.clear_cookie(NONCE_COOKIE, path=self.request.path)
        try:
            answer = await _service_call(
                url_path_join(base, "guest/ticket"), "POST", {"ticket": ticket, "nonce": nonce}
            )
        except web.HTTPError as e:
            if e.status_code == 404:
                raise web.HTTPError(
                    404,
                    "This sign-in link has expired, was already used or was opened in another "
                    "browser; go back to the project's page and choose Open in JupyterLab again",
                ) from None
            raise
        name = answer["name"]
        if not name.startswith(HUB_PREFIX):
            raise web.HTTPError(502, "The Datadive service named no guest")
        user = self.user_from_username(name)
        group = orm.Group.find(self.db, GROUP)
        if group is None:
            group = orm.Group(name=GROUP)
            self.db.add(group)
        if user.orm_user not in group.users:
            group.users.append(user.orm_user)
        self.db.commit()
        self.set_login_cookie(user)
        target = url_path_join(user.url, answer["next"])
        spawn = url_path_join(self.hub.base_url, "spawn", user.escaped_name)
        self.redirect(spawn + "?" + urlencode({"next": target}))


class GuestLoginMixin(Configurable):
    """Mixed into Datadive's authenticators: the guests' sign-in, and the prefix kept for them."""

    log: logging.Logger  # the Authenticator's

    datadive_service_url = Unicode(
        "",
        config=True,
        help="URL of the Datadive service (set by datadive_hub.configure()).",
    )

    # super(): JupyterHub's (untyped) Authenticator, which this is mixed into
    def get_handlers(self, app: Any) -> list[tuple[str, type[Any]]]:
        handlers = super().get_handlers(app)  # type: ignore[misc]
        return [*handlers, (r"/datadive-guest-login", GuestLoginHandler)]

    def check_blocked_users(
        self, username: str, authentication: dict[str, Any] | None = None
    ) -> bool:
        if username.startswith(HUB_PREFIX):
            self.log.warning(
                "Refusing sign-in as %s: the name is kept for Datadive guests", username
            )
            return False
        allowed: bool = super().check_blocked_users(  # type: ignore[misc]
            username, authentication
        )
        return allowed


async def check_guest_spawn(spawner: Spawner) -> None:
    """For a guest's hub user: ask the service whether it may run a server now (403 with the
    service's reason if not) and set ``mem_limit`` / ``cpu_limit`` from its answer."""
    if not is_guest_user(spawner.user):
        return
    base = spawner.environment.get("DATADIVE_SERVICE_URL", "")
    answer = await _service_call(
        url_path_join(base, "api/v1/guest-server"), "GET", token=spawner.api_token
    )
    spawner.mem_limit = answer.get("mem_limit")
    spawner.cpu_limit = answer.get("cpu_limit")
    spawner.log.info(
        "Datadive guest server %s: mem_limit=%s cpu_limit=%s",
        spawner.user.name,
        spawner.mem_limit,
        spawner.cpu_limit,
    )
