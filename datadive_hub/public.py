"""``<service prefix>/public/<token>``: a published file or notebook, without sign-in.

What a link serves is fixed when it is made: one stored version of one file. Notebooks are shown
as static HTML (nbconvert, never executed; code hidden when the link says so); other files are
sent as they are. Every request looks the link up again, so a revoked or expired link (or one of
a deleted project) answers 404 at once, with the same text as a token that never existed.

The page must not become a way into the hub's origin: it is sent with a ``sandbox`` content
security policy (no scripts, no forms, no same-origin access), ``nosniff``, no referrer (the
token stays out of other sites' logs) and ``no-store``. Requests are rate-limited per client
address (:class:`RateLimiter`), lookups of unknown tokens included.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import mimetypes
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from datadive_contents.stores.base import NotFound, ObjectStore, StoreError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tornado import web
from tornado.httputil import HTTPServerRequest

from .models import Project, PublicLink, utcnow

if TYPE_CHECKING:
    from .guest_servers import DatadiveService

NOT_FOUND = "This link does not exist, has expired or was withdrawn by its owner."
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        "font-src data:; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
}
#: the largest notebook shown as a page (rendering holds it in memory)
MAX_NOTEBOOK_BYTES = 50 << 20
TOO_LARGE = "This notebook is too large to show as a page."
#: types a browser shows itself; anything else (HTML and SVG included) is a download
INLINE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"}
INLINE_TYPES |= {"text/plain", "text/csv"}


class RateLimiter:
    """At most ``per_minute`` requests per client address (a token bucket per address, at most
    ``max_clients`` addresses remembered: the oldest is forgotten first)."""

    def __init__(self, per_minute: int, max_clients: int = 10_000):
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self.max_clients = max_clients
        self._buckets: collections.OrderedDict[str, tuple[float, float]] = collections.OrderedDict()

    def allow(self, client: str, now: float | None = None) -> float:
        """0 if ``client`` may make a request now, else the seconds to wait."""
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(client, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
        self._buckets[client] = (tokens - 1 if wait == 0 else tokens, now)
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait


def client_address(request: HTTPServerRequest) -> str:
    """The address the proxy saw: the last X-Forwarded-For entry (the one the proxy added),
    else the connection's."""
    forwarded = request.headers.get("X-Forwarded-For", "")
    return forwarded.split(",")[-1].strip() or request.remote_ip or "?"


def render_notebook(raw: bytes, hide_code: bool) -> str:
    """Static HTML of a notebook: nothing executed, no metadata (paths, template inputs, kernel
    details), inputs and prompts left out when ``hide_code``."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
    title = nb.metadata.get("title") or ""
    nb.metadata = nbformat.NotebookNode({"title": title} if title else {})
    for cell in nb.cells:
        cell.metadata = nbformat.NotebookNode()
    exporter = HTMLExporter(  # type: ignore[no-untyped-call]
        template_name="lab",
        exclude_input=hide_code,
        exclude_input_prompt=hide_code,
        exclude_output_prompt=hide_code,
        embed_images=True,
    )
    html, _ = exporter.from_notebook_node(nb)
    return html


async def notebook_html(
    service: DatadiveService,
    store: ObjectStore,
    path: str,
    version_id: str | None,
    hide_code: bool,
    key: tuple[Any, ...],
) -> str:
    """The static HTML of one stored version of the notebook ``path`` in ``store`` (a project's
    view), rendered off the event loop and kept in the service's page cache under ``key`` +
    the version. Raises NotFound, StoreError, or 413 for a notebook too large to show.

    Serve it only with :data:`SECURITY_HEADERS`' sandbox policy: outputs may hold any HTML."""

    pinned = version_id
    if not version_id:  # the current version: which one it is now
        current = await store.head(path)
        if current is None:
            raise NotFound(path)
        version_id, pinned = current.version_id or None, current.version_id or current.etag

    async def render() -> str:
        info = await store.head(path, version_id=version_id)
        if info is None:
            raise NotFound(path)
        if info.size > MAX_NOTEBOOK_BYTES:
            raise web.HTTPError(413, f"{TOO_LARGE[:-1]}; ask its owner for a copy")
        raw, _ = await store.get(path, version_id=version_id)
        return await asyncio.to_thread(render_notebook, raw, hide_code)

    pages: PageCache = service.public_pages
    return await pages.get((*key, path, pinned, hide_code), render)


class PublicHandler(web.RequestHandler):
    """No authentication by design: the token in the URL is the permission."""

    @property
    def service(self) -> DatadiveService:
        return self.settings["datadive"]

    def set_default_headers(self) -> None:
        for name, value in SECURITY_HEADERS.items():
            self.set_header(name, value)

    def client_address(self) -> str:
        return client_address(self.request)

    _retry_after = 0

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        if self._retry_after:
            self.set_header("Retry-After", str(self._retry_after))
        reason = kwargs.get("exc_info", (None, None))[1]
        message = getattr(reason, "log_message", None) or self._reason
        self.finish(message + "\n")

    def _link(self, token: str) -> PublicLink | None:
        digest = hashlib.sha256(token.encode()).hexdigest()
        sessions: sessionmaker[Session] = self.settings["session_factory"]
        with sessions() as db:
            row = db.execute(
                select(PublicLink, Project.deleted_at)
                .join(Project, Project.id == PublicLink.project_id)
                .where(PublicLink.token_hash == digest)
            ).first()
            if row is None:
                return None
            link, deleted_at = row
            db.expunge(link)
        if deleted_at is not None or (link.expires_at and link.expires_at <= utcnow()):
            return None
        return link

    async def get(self, token: str) -> None:
        wait = self.service.public_rate_limiter.allow(self.client_address())
        if wait:
            self._retry_after = int(wait) + 1  # headers set now would be cleared by the error
            raise web.HTTPError(429, f"Too many requests; try again in {int(wait) + 1} s")
        link = self._link(token)
        if link is None:
            raise web.HTTPError(404, NOT_FOUND)
        store = self.service.store.sub(f"projects/{link.project_id}")
        name = link.path.rsplit("/", 1)[-1]
        try:
            if link.kind == "notebook":
                await self._notebook(store, link)
            else:
                await self._file(store, link, name)
            self.service.audit.record(link.project_id, "(public)", "opened a public link", name)
        except NotFound:
            raise web.HTTPError(404, NOT_FOUND) from None
        except StoreError:
            raise web.HTTPError(
                503, "The file store is not reachable right now; try again in a minute"
            ) from None

    async def _notebook(self, store: ObjectStore, link: PublicLink) -> None:
        html = await notebook_html(
            self.service, store, link.path, link.version_id, link.hide_code, ("link", link.id)
        )
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(html)

    async def _file(self, store: ObjectStore, link: PublicLink, name: str) -> None:
        ctype = mimetypes.guess_type(name)[0] or ""
        inline = ctype in INLINE_TYPES
        if not inline:  # HTML, SVG, scripts...: bytes to save, never a page of this origin
            ctype = "application/octet-stream"
        disposition = "inline" if inline else "attachment"
        chunks = store.open_stream(link.path, version_id=link.version_id)
        first = await anext(chunks, b"")  # NotFound here, before any header is sent
        self.set_header(
            "Content-Type", ctype + ("; charset=utf-8" if ctype.startswith("text/") else "")
        )
        self.set_header("Content-Disposition", f'{disposition}; filename="{_ascii(name)}"')
        self.write(first)
        async for chunk in chunks:
            self.write(chunk)
            await self.flush()
        self.finish()


def _ascii(name: str) -> str:
    return "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in name)


class PageCache:
    """The last ``size`` rendered pages, by (link, version); concurrent requests for one page
    share one rendering."""

    def __init__(self, size: int = 32):
        self.size = size
        self._pages: collections.OrderedDict[tuple[Any, ...], asyncio.Future[str]] = (
            collections.OrderedDict()
        )

    async def get(self, key: tuple[Any, ...], render: Callable[[], Awaitable[str]]) -> str:
        fut = self._pages.get(key)
        if fut is None:
            fut = asyncio.ensure_future(render())
            self._pages[key] = fut
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(key)
        try:
            return await asyncio.shield(fut)
        except Exception:
            self._pages.pop(key, None)
            raise


routes = [(r"public/([^/]*)", PublicHandler)]
