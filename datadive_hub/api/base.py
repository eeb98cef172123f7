"""The one base class of every Datadive API handler.

It identifies the caller (:meth:`datadive_hub.identity.Identified.identify`: HubOAuth, browser
cookie or API token, with the caller's JupyterHub groups and admin flag) before any byte of the
request body is read, reads a JSON body of at most
``DatadiveService.max_json_body_bytes`` (bounded in depth, parsed off the event loop when large),
opens a database session on demand, and turns every error into ``{"status": N, "message": "..."}``
— 4xx for the caller's mistakes, 502 for an upstream that failed, 503 when the database is
unavailable or locked.

Bodies are streamed (``@stream_request_body``): tornado reads them only after :meth:`prepare`, and
a request that is refused (not signed in, too large) has its body read and dropped, never kept, so
that the answer reaches the client through the proxy (closing the connection early would show as
a 503 there).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import logging
from collections.abc import Callable, Coroutine
from http.client import responses
from types import TracebackType
from typing import Any

from datadive_contents.stores import ObjectStore, StoreError
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session
from tornado import web

from .. import guests
from ..identity import Identified
from ..models import Role
from . import jsonbody

VERBS = ("get", "head", "post", "put", "patch", "delete", "options")
#: bodies up to this size are parsed on the event loop; larger ones in a thread
PARSE_INLINE_BYTES = 64 << 10
_NO_BODY = object()


def _after_body(method: Callable[..., object]) -> Callable[..., Coroutine[Any, Any, None]]:
    """Wrap a verb method so that it runs only once the body is in: a refusal decided before the
    body was read (401, 403, 413, ...) is answered now, and a JSON body is parsed first."""

    @functools.wraps(method)
    async def verb(self: APIHandler, *args: Any, **kwargs: Any) -> None:
        await self._body_done()
        result = method(self, *args, **kwargs)
        if inspect.isawaitable(result):
            await result

    verb._after_body = True  # type: ignore[attr-defined]
    return verb


class SessionOnDemand:
    """``self.db``: a database session opened on first use; :meth:`release_db` ends it.

    Rule: a handler never holds ``self.db`` across an ``await``. It does its reads and writes in
    one synchronous stretch and calls :meth:`release_db` before awaiting the store or the hub (a
    later ``self.db`` opens a fresh session).
    """

    _db: Session | None = None
    settings: dict[str, Any]  # tornado's RequestHandler.settings

    @property
    def db(self) -> Session:
        if self._db is None:
            self._db = self.settings["session_factory"]()
        return self._db

    def release_db(self) -> None:
        """End the session and give its connection back to the pool, before an ``await``.

        Rows already loaded stay readable (``expire_on_commit=False``); to change them later,
        load them again through ``self.db``.
        """
        if self._db is not None:
            # close() rolls back what was not committed and returns the connection; unlike
            # rollback() it leaves loaded attributes readable
            db, self._db = self._db, None
            db.close()


def json_answer(obj: Any) -> bytes:
    """The body of a JSON answer (dates and other non-JSON values as their str())."""
    return json.dumps(obj, default=str).encode()


def error_message(status_code: int, exc: BaseException | None) -> tuple[int, str]:
    """The status and message an error answers with (the API's JSON and the pages alike)."""
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
    return status_code, message


@web.stream_request_body
class APIHandler(Identified, SessionOnDemand, web.RequestHandler):
    """Authenticated, authorized JSON handler with a database session (see
    :class:`SessionOnDemand` for the rule on holding it)."""

    #: an error decided before the body was read; answered once the body has been dropped
    _deferred: web.HTTPError | None = None
    _body: bytearray | None = None
    _body_limit = 0
    _body_received = 0
    _json: Any = _NO_BODY

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in VERBS:
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "_after_body", False):
                setattr(cls, name, _after_body(method))

    @property
    def log(self) -> logging.Logger:
        log: logging.Logger = self.settings["log"]
        return log

    @property
    def store(self) -> ObjectStore:
        """The service's object store: the only holder of storage credentials."""
        store: ObjectStore = self.service.store
        return store

    # -- authentication -------------------------------------------------------------------

    async def prepare(self) -> None:
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        # Nothing is answered from here: tornado would close the connection after an answer
        # given before it has read the request (even one without a body), without telling the
        # proxy, whose next request on that pooled connection then fails with 503. Errors are
        # answered by the verb method, once the body has been read and dropped.
        has_body = self._has_body()
        if has_body:
            drain = 2 * int(self.service.max_upload_bytes) + (64 << 20)
            self.request.connection.set_max_body_size(drain)  # type: ignore[union-attr]
        try:
            await self.authenticate()
            self._body_limit = limit = self.body_limit()
            length = self.request.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > limit:
                raise web.HTTPError(413, self.too_large_message(limit))
            await self.before_body()
        except web.HTTPError as e:
            self._deferred = e
            return
        finally:
            self.release_db()  # not held while the body arrives
        if has_body:
            self._body = bytearray()

    def _has_body(self) -> bool:
        h = self.request.headers
        return h.get("Content-Length", "0") not in ("", "0") or "Transfer-Encoding" in h

    async def authenticate(self) -> None:
        """Identify the caller (``self.current_user``, ``self.user``), or 401 / 403."""
        user = await self.identify()
        if user is not None and user.kind == "guest":
            refusal = guests.guest_route_refusal(self)
            if refusal is not None:
                raise refusal
            guests.check_xsrf(self)
        if user is None:
            if self._forbidden_reason:
                raise web.HTTPError(403, self._forbidden_reason)
            raise web.HTTPError(
                401,
                "Not signed in: send a JupyterHub API token (Authorization: token ...) "
                "or sign in to the hub in this browser",
            )

    # -- the request body ----------------------------------------------------------------

    def body_limit(self) -> int:
        """Most bytes of body this request may send (a JSON body unless a subclass streams)."""
        return int(self.service.max_json_body_bytes)

    def too_large_message(self, limit: int) -> str:
        return (
            f"The request body is larger than this API accepts ({limit} bytes, "
            f"{limit / 2**20:g} MiB); nothing was changed. Send a smaller JSON document, or ask a "
            "hub admin to raise DatadiveService.max_json_body_bytes"
        )

    async def before_body(self) -> None:
        """Hook: runs after authentication, before the body is read (e.g. start an upload)."""

    def body_chunk(self, chunk: bytes) -> Any:
        """Hook: one piece of an accepted body (default: kept, to be parsed as JSON)."""
        assert self._body is not None
        self._body += chunk

    def body_refused(self) -> None:
        """Hook: the body turned out too large mid-stream (e.g. abort an upload)."""

    async def body_settle(self) -> None:
        """Hook: awaited before a refusal is answered (e.g. until an upload is discarded)."""

    async def data_received(self, chunk: bytes) -> None:
        self._body_received += len(chunk)
        if self._deferred is not None or self._finished:
            return  # refused: the rest of the body is dropped
        if self._body_received > self._body_limit:
            self._deferred = web.HTTPError(413, self.too_large_message(self._body_limit))
            self._body = None
            self.body_refused()
            return
        result = self.body_chunk(chunk)
        if inspect.isawaitable(result):
            await result

    async def _body_done(self) -> None:
        """Answer a refusal decided earlier, else parse a JSON body (off the loop if large)."""
        if self._deferred is not None:
            await self.body_settle()
            raise self._deferred
        if self._body is None:
            return
        raw, self._body = bytes(self._body), None
        self.request.body = raw
        if not raw.strip():
            return
        depth = int(self.service.max_json_depth)
        if len(raw) <= PARSE_INLINE_BYTES:
            self._json = jsonbody.parse(raw, depth)
        else:
            self._json = await asyncio.to_thread(jsonbody.parse, raw, depth)

    # -- JSON in and out -----------------------------------------------------------------

    def json_body(self, required: tuple[str, ...] = ()) -> dict[str, Any]:
        """The request body as a JSON object, or 400 saying what is wrong with it."""
        body = {} if self._json is _NO_BODY else self._json
        if not isinstance(body, dict):
            raise web.HTTPError(400, "The request body must be a JSON object")
        missing = [k for k in required if k not in body]
        if missing:
            raise web.HTTPError(400, f"Missing field(s): {', '.join(missing)}")
        return body

    # -- audit log ------------------------------------------------------------------------

    #: verb -> what the project's audit log records when such a request succeeds
    audit_actions: dict[str, str] = {}
    #: set by a handler whose action depends on the request (overrides audit_actions)
    audit_action: str | None = None
    #: set by access.project_for: the project the request acted on
    audit_project: str | None = None
    #: set by access.project_for: the caller's role in that project
    role: Role | None
    #: what it acted on (default: the path's arguments other than the project id)
    audit_target: str | None = None

    def on_finish(self) -> None:
        """End the database session; record a successful request in the project's audit log."""
        self.release_db()
        action = self.audit_action or self.audit_actions.get(self.request.method.lower())
        if action and self.audit_project and self.get_status() < 400:
            target = self.audit_target
            if target is None:
                args = {k: v for k, v in self.path_kwargs.items() if k != "project_id"}
                target = " ".join(str(v) for v in args.values())
            self.service.audit.record(self.audit_project, self.user.name, action, target)

    def write_json(self, obj: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json_answer(obj))

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

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        status_code, message = error_message(status_code, exc)
        self.set_status(status_code)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps({"status": status_code, "message": message}))

    def log_exception(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if isinstance(value, OperationalError | DBAPIError):
            self.log.warning(
                "Database unavailable for %s %s: %s", self.request.method, self.request.uri, value
            )
            return
        super().log_exception(typ, value, tb)


# verbs a handler does not define answer 405, but only after a deferred 401/403/413
for _verb in VERBS:
    if _verb not in APIHandler.__dict__:
        setattr(APIHandler, _verb, _after_body(getattr(web.RequestHandler, _verb)))
