"""The one base class of every Datadive API handler.

It authenticates with HubOAuth (browser cookie or API token), looks up the caller's JupyterHub
groups and admin flag, opens a database session, and turns every error into
``{"status": N, "message": "..."}`` — 4xx for the caller's mistakes, 502 for an upstream that failed,
503 when the database is unavailable or locked.
"""

import json
from http.client import responses
from typing import Any

from datadive_contents.stores import StoreError
from jupyterhub.services.auth import HubOAuthenticated, UserNotAllowed
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session
from tornado import web

from ..hubapi import HubUser


class APIHandler(HubOAuthenticated, web.RequestHandler):
    """Authenticated, authorized JSON handler with a database session."""

    _db: Session | None = None
    _forbidden_reason: str | None = None

    @property
    def hub_auth(self):
        return self.settings["hub_auth"]

    @property
    def log(self):
        return self.settings["log"]

    @property
    def service(self):
        """The DatadiveService application (configuration and shared clients)."""
        return self.settings["datadive"]

    @property
    def store(self):
        """The service's object store: the only holder of storage credentials."""
        return self.service.store

    @property
    def db(self) -> Session:
        if self._db is None:
            self._db = self.settings["session_factory"]()
        return self._db

    # -- authentication -------------------------------------------------------------------

    def check_hub_user(self, model):
        try:
            return super().check_hub_user(model)
        except Exception:
            self._forbidden_reason = (
                f"{model.get('kind', 'user')} {model.get('name')!r} is signed in but not allowed to "
                "use Datadive (the token lacks access:services!service=datadive); ask a hub admin "
                "to grant it"
            )
            raise

    async def prepare(self):
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        # HubAuth's awaitable form: its blocking form (get_current_user) hands every request to a
        # helper thread and waits for it, which caps the service's throughput under load
        model = await self.hub_auth.get_user(self, sync=False)
        if model is not None:
            try:
                model = self.check_hub_user(model)
            except UserNotAllowed:
                model = None
        self.current_user = model
        if model is None:
            if self._forbidden_reason:
                raise web.HTTPError(403, self._forbidden_reason)
            raise web.HTTPError(
                401,
                "Not signed in: send a JupyterHub API token (Authorization: token ...) "
                "or sign in to the hub in this browser",
            )
        self.user: HubUser = await self.service.hub_users.resolve(model)

    # -- JSON in and out -----------------------------------------------------------------

    def json_body(self, required: tuple[str, ...] = ()) -> dict[str, Any]:
        """The request body as a JSON object, or 400 saying what is wrong with it."""
        try:
            body = json.loads(self.request.body or b"{}")
        except (ValueError, UnicodeDecodeError) as e:
            raise web.HTTPError(
                400, f"The request body is not valid JSON ({e}); send a JSON object"
            ) from None
        if not isinstance(body, dict):
            raise web.HTTPError(400, "The request body must be a JSON object")
        missing = [k for k in required if k not in body]
        if missing:
            raise web.HTTPError(400, f"Missing field(s): {', '.join(missing)}")
        return body

    def write_json(self, obj: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(obj, default=str))

    def commit(self) -> None:
        """Commit the session; a clash with existing rows becomes 409."""
        try:
            self.db.commit()
        except IntegrityError as e:
            self.db.rollback()
            raise web.HTTPError(
                409, "That conflicts with something that already exists; reload and try again"
            ) from e

    # -- errors ---------------------------------------------------------------------------

    def write_error(self, status_code: int, **kwargs):
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = responses.get(status_code, "Error")
        if isinstance(exc, web.HTTPError) and exc.log_message:
            message = exc.log_message % exc.args if exc.args else exc.log_message
        elif isinstance(exc, StoreError):
            status_code = 502
            message = (
                f"The project file store is unavailable ({exc}); nothing was changed. Try again "
                "in a minute; if it persists, ask a hub admin to check the storage endpoint"
            )
        elif isinstance(exc, OperationalError | DBAPIError):
            status_code = 503
            message = (
                "The Datadive database is unavailable or busy; nothing was changed. "
                "Try again in a moment, and tell a hub admin if it persists"
            )
        self.set_status(status_code)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps({"status": status_code, "message": message}))

    def log_exception(self, typ, value, tb):
        if isinstance(value, OperationalError | DBAPIError):
            self.log.warning(
                "Database unavailable for %s %s: %s", self.request.method, self.request.uri, value
            )
            return
        super().log_exception(typ, value, tb)

    def on_finish(self):
        if self._db is not None:
            try:
                self.db.rollback()
            finally:
                self.db.close()
            self._db = None
