"""The base class of the HTML pages: identification, sign-in redirect, templates, HTML errors.

A page identifies the caller with the same function as the API; nobody signed in is sent to the
hub's sign-in (HubOAuth's login URL, which brings them back here), not answered 401. Errors are
an HTML page with the message the API would give. Templates are Jinja2 with autoescape on; pages
run no scripts (a strict content security policy; inline styles only with the page's nonce).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from datadive_contents.folders import label
from datadive_contents.stores.base import ObjectStore
from jupyterhub.utils import url_path_join
from tornado import web

from .. import access, guest_servers
from ..api.base import SessionOnDemand, error_message
from ..identity import Identified
from ..models import Project, Role

ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("datadive_hub.pages", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def when(dt: datetime | str | None) -> str:
    """A time as people read it (UTC, to the second: two saves a minute apart stay apart)."""
    if dt is None:
        return ""
    if isinstance(dt, str):
        dt = datetime.fromisoformat(dt.replace("Z", "+00:00"))
    return dt.strftime("%Y-%m-%d %H:%M:%S") + " UTC"


def size(n: int | None) -> str:
    """Bytes as people read them."""
    if n is None:
        return ""
    value = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{n} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} bytes"


ENV.filters["when"] = when
ENV.filters["size"] = size
ENV.filters["q"] = lambda path: quote(path, safe="/")


class PageHandler(Identified, SessionOnDemand, web.RequestHandler):
    """An authenticated HTML page (GET only)."""

    #: set by access.project_for (the API records audit events with them; pages record none)
    role: Role | None = None
    audit_project: str | None = None
    #: the content security policy of the page
    csp = (
        "default-src 'none'; style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; "
        "font-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    )

    @property
    def log(self) -> logging.Logger:
        log: logging.Logger = self.settings["log"]
        return log

    def set_default_headers(self) -> None:
        self.nonce = secrets.token_urlsafe(12)
        self.set_header("Content-Security-Policy", self.csp.format(nonce=self.nonce))
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "same-origin")
        self.set_header("Cache-Control", "no-store")

    async def prepare(self) -> None:
        if await self.identify() is not None:
            return
        if self._forbidden_reason:
            raise web.HTTPError(403, self._forbidden_reason)
        if self.request.headers.get("Sec-Fetch-Mode", "navigate") != "navigate":
            # a script's request (JupyterHub accepts the cookie only with an XSRF token there):
            # no sign-in round trip, which would replace the OAuth state of a real one
            raise web.HTTPError(401, "Not signed in: open this page in the browser to sign in")
        self.redirect(self.get_login_url())  # the hub's sign-in, then back to this page

    def on_finish(self) -> None:
        self.release_db()

    # -- links ---------------------------------------------------------------------------

    @property
    def prefix(self) -> str:
        prefix: str = self.service.service_prefix
        return prefix

    @property
    def hub_prefix(self) -> str:
        prefix: str = self.hub_auth.hub_prefix
        return prefix

    def page_url(self, *parts: str, **query: str | int | None) -> str:
        """A URL under the service prefix (path parts quoted, empty query values left out)."""
        url: str = url_path_join(self.prefix, *(quote(p, safe="/") for p in parts if p))
        args = {k: v for k, v in query.items() if v not in (None, "")}
        return url + ("?" + urlencode(args) if args else "")

    def lab_link(self, project: Project, path: str = "") -> str | None:
        """ "Open in JupyterLab": the hub starts the caller's server if it is stopped, then opens
        the project's folder (named as the server names it, ``datadive_contents.folders``). For
        a guest, where its form posts (``guest/server``: guest servers); None when it may not
        run a server."""
        if self.user.kind == "guest":
            if guest_servers.refusal(self.service, self.user.guest_roles, project.id):
                return None
            return self.page_url("guest/server", project.id, path=path)
        tree = url_path_join(
            self.hub_prefix,
            "user-redirect/lab/tree",
            label({"id": project.id, "name": project.name}),
            path,
        )
        spawn: str = url_path_join(self.hub_prefix, "spawn")
        return spawn + "?" + urlencode({"next": quote(tree, safe="/")})

    def project_for(self, project_id: str, need: Role = Role.viewer) -> Project:
        """The project if the caller holds ``need`` in it (404 / 403 as the API answers)."""
        return access.project_for(self, project_id, need)

    def files_of(self, project: Project) -> ObjectStore:
        """The project's files (its view of the store); the session ends first (awaits follow)."""
        self.release_db()
        return self.project_files(project.id)

    # -- output --------------------------------------------------------------------------

    def render_page(self, template: str, **context: Any) -> None:
        html = ENV.get_template(template).render(
            user=self.user,
            prefix=self.prefix,
            hub=self.hub_prefix,
            nonce=self.nonce,
            page_url=self.page_url,
            xsrf_form_html=self.xsrf_form_html,
            **context,
        )
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(html)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        status_code, message = error_message(status_code, exc)
        self.set_status(status_code)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        html = ENV.get_template("error.html").render(
            user=getattr(self, "user", None),
            prefix=self.prefix,
            hub=self.hub_prefix,
            nonce=self.nonce,
            page_url=self.page_url,
            status=status_code,
            reason=self._reason,
            message=message,
        )
        self.finish(html)
