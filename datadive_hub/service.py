"""The Datadive hub service: a JupyterHub-managed tornado application.

JupyterHub starts it (``python -m datadive_hub.service``) with its API token and URLs in the
environment; ``datadive_hub.configure(c)`` registers it. This module only wires traits to the
pieces: database (``db``), object store (``datadive_contents``), identity (``hubapi``,
``identity``), the API (``api``) and the HTML pages (``pages``, ``public``).
"""

import asyncio
import os
import signal
import sys
from urllib.parse import urlparse

from jupyterhub.services.auth import HubOAuthCallbackHandler
from jupyterhub.traitlets import ByteSpecification
from jupyterhub.utils import url_path_join
from tornado import web
from tornado.httpserver import HTTPServer
from traitlets import Bool, Bunch, Dict, Float, Integer, List, Unicode, default, validate
from traitlets.config import Application

from . import __version__, db, guest_servers, guests, invite_pages, pages, public
from .api import api_routes
from .audit import AuditLog
from .hubapi import CoalescingHubOAuth, HubUsers
from .pagecache import PageCache
from .storage_policy import StoragePolicy


class DatadiveService(Application):
    """The Datadive hub service."""

    name = "datadive-service"
    description = "Projects, notebooks, files and templates for JupyterHub (a hub-managed service)"
    version = __version__

    aliases = {
        "db-url": "DatadiveService.db_url",
        "store-url": "DatadiveService.store_url",
        "data-dir": "DatadiveService.data_dir",
        "config": "DatadiveService.config_file",
    }

    config_file = Unicode(
        "",
        config=True,
        help="Python config file to load (traitlets), e.g. written by datadive_hub.configure.",
    )

    @default("config_file")
    def _config_file_default(self) -> str:
        return os.environ.get("DATADIVE_SERVICE_CONFIG", "")

    data_dir = Unicode(
        config=True, help="Directory for the embedded defaults (SQLite file, local store)."
    )

    @default("data_dir")
    def _data_dir_default(self) -> str:
        return os.environ.get("DATADIVE_DATA_DIR", os.getcwd())

    db_url = Unicode(
        config=True,
        help="SQLAlchemy URL of the service's database: sqlite:///path (embedded default) or "
        "postgresql+psycopg://user:password@host/db (production).",
    )

    @default("db_url")
    def _db_url_default(self) -> str:
        return os.environ.get(
            "DATADIVE_DB_URL", f"sqlite:///{os.path.join(self.data_dir, 'datadive.sqlite')}"
        )

    @validate("db_url")
    def _check_db_url(self, proposal: Bunch) -> str:
        url: str = proposal["value"]
        if not url.startswith(("sqlite", "postgresql")):
            raise ValueError(
                f"db_url {db.redact(url)!r} is not supported: use sqlite:///path or "
                "postgresql+psycopg://user:password@host/db"
            )
        return url

    upgrade_db = Bool(
        True, config=True, help="Run Alembic migrations to the newest schema at start-up."
    )

    store_url = Unicode(
        config=True,
        help="Object store of project files: file:///dir (local directory store) or "
        "s3://bucket/prefix?endpoint_url=https://... (any S3-compatible endpoint).",
    )

    @default("store_url")
    def _store_url_default(self) -> str:
        return os.environ.get(
            "DATADIVE_STORE_URL", "file://" + os.path.join(os.path.abspath(self.data_dir), "store")
        )

    store_options = Dict(
        config=True,
        help="Extra keyword arguments for the object store (e.g. access_key_id, "
        "secret_access_key, region_name). Credentials may also come from the usual AWS "
        "environment variables. Only this service ever holds them.",
    )

    max_upload_bytes = Integer(
        10 * 1024**3, config=True, help="Largest file accepted by the file API, in bytes."
    )

    max_json_body_bytes = Integer(
        1024**2,
        config=True,
        help="Largest JSON request body accepted by the API, in bytes (file uploads are "
        "streamed and limited by max_upload_bytes instead). Larger bodies answer 413.",
    )

    max_json_depth = Integer(
        64,
        config=True,
        help="Deepest nesting of arrays and objects accepted in a JSON request body; deeper "
        "bodies answer 400.",
    )

    token_cache_seconds = Integer(
        2,
        config=True,
        help="Seconds the service trusts JupyterHub's answer about a token or cookie before "
        "asking again: a revoked token stops working within this time. Each distinct token "
        "costs the hub at most one API request per period.",
    )

    @validate("token_cache_seconds")
    def _check_token_cache(self, proposal: Bunch) -> int:
        seconds: int = proposal["value"]
        if seconds < 1:
            # HubAuth reads 0 as "cache forever"
            raise ValueError("token_cache_seconds must be at least 1 (0 would cache forever)")
        return seconds

    api_page_default_limit = Integer(
        50,
        config=True,
        help="Projects per page of GET projects when the request gives no ?limit= "
        "(as JupyterHub.api_page_default_limit).",
    )

    project_list_cache_seconds = Float(
        2.0,
        config=True,
        help="How long an answer of GET projects may be served again to the same caller while "
        "nothing is written to the database. Every write made through this service ends it at "
        "once; writes by another process (a second replica, a database console) are seen after "
        "at most this long. 0 turns the cache off.",
    )

    api_page_max_limit = Integer(
        200,
        config=True,
        help="Most projects per page of GET projects; a larger ?limit= is capped to it "
        "(as JupyterHub.api_page_max_limit).",
    )

    template_author_groups = List(
        Unicode(),
        config=True,
        help="JupyterHub groups whose members (and hub admins, and holders of the custom scope "
        "custom:datadive:templates:publish) may publish, deprecate and delete cell templates "
        "(default: $DATADIVE_TEMPLATE_AUTHOR_GROUPS, comma-separated, else "
        "datadive-template-authors).",
    )

    @default("template_author_groups")
    def _template_author_groups_default(self) -> list[str]:
        raw = os.environ.get("DATADIVE_TEMPLATE_AUTHOR_GROUPS", "datadive-template-authors")
        return [g.strip() for g in raw.split(",") if g.strip()]

    member_name_pattern = Unicode(
        r"[^/\s]{1,255}",
        config=True,
        help="Names a project owner may add as a member before that person has signed in (a "
        "pending membership, in effect from their first sign-in). Set it to the authenticator's "
        "Authenticator.username_pattern where one is set, so only names that could sign in are "
        "accepted. Names are lower-cased first, as JupyterHub's default normalize_username does.",
    )

    public_requests_per_minute = Integer(
        60,
        config=True,
        help="Requests per minute one client address may make to public links "
        "(<prefix>/public/<token>), unknown tokens included; more answer 429 with Retry-After.",
    )

    project_quota_bytes = Integer(
        0,
        config=True,
        help="Most bytes one project may keep in the store, old versions included (0: no "
        "limit). An upload or copy that would pass it answers 413 before anything is written.",
    )

    user_quota_bytes = Integer(
        0,
        config=True,
        help="Most bytes the projects a user created may keep together, old versions included "
        "(0: no limit); checked like project_quota_bytes.",
    )

    keep_versions = Integer(
        0,
        config=True,
        help="Keep at most this many versions of each file (0: all). Applied by the service "
        "after each write of the file; versions a snapshot or a 'Recently deleted' entry "
        "needs are kept. Alternative: an S3 lifecycle rule (docs/history.md).",
    )

    keep_days = Integer(
        0,
        config=True,
        help="Remove versions of a file older than this many days when the file is next "
        "written (0: keep); the current content is never removed.",
    )

    @validate("project_quota_bytes", "user_quota_bytes", "keep_versions", "keep_days")
    def _check_not_negative(self, proposal: Bunch) -> int:
        value: int = proposal["value"]
        if value < 0:
            raise ValueError(f"{proposal['trait'].name} must be 0 (no limit) or more")
        return value

    allow_guests = Bool(
        True,
        config=True,
        help="Let project owners invite external collaborators as guests (POST "
        "projects/<id>/invitations): a single-use, expiring link; whoever opens it chooses a "
        "display name and password and can reach the invited project only, as viewer or editor. "
        "False: new invitations answer 403, invitation links stop working and signed-in guests "
        "are refused at their next request.",
    )

    guest_servers = Bool(
        False,
        config=True,
        help="Let editor guests run code on a Jupyter server of their own (off: guests work "
        "through the service's pages only). The hub knows each such guest as the user "
        "datadive-guest-<id> in the group datadive-guests; it needs one of Datadive's "
        "authenticators (they add the guests' sign-in), and the guest's server stops when its "
        "last editor invitation expires or is revoked.",
    )

    guest_mem_limit = ByteSpecification(
        2 * 1024**3,
        allow_none=True,
        config=True,
        help="Memory limit of a guest's server in bytes, or as JupyterHub's Spawner.mem_limit "
        "(512M, 2G; None: no limit). KubeSpawner enforces it on the pod; Datadive's system-users spawner "
        "as the data-segment limit of the server and each kernel.",
    )

    guest_cpu_limit = Float(
        1.0,
        config=True,
        help="CPU cores a guest's server may use (Spawner.cpu_limit; 0: no limit). Enforced by "
        "KubeSpawner; local spawners have no CPU limit.",
    )

    guest_sweep_seconds = Float(
        30.0,
        config=True,
        help="Seconds between checks that stop the servers of guests whose invitations expired "
        "(a revocation stops them at once).",
    )

    guest_session_hours = Integer(
        12,
        config=True,
        help="Hours a guest stays signed in (the lifetime of the service's signed guest cookie); "
        "their access still ends at once when their invitation expires or is revoked.",
    )

    @validate("guest_session_hours", "invitation_default_days", "invitation_max_days")
    def _check_positive(self, proposal: Bunch) -> int:
        value: int = proposal["value"]
        if value < 1:
            raise ValueError(f"{proposal['trait'].name} must be at least 1")
        return value

    invitation_default_days = Integer(
        14,
        config=True,
        help="Days an invitation stays valid when its owner gives no 'expires' time (at most "
        "invitation_max_days).",
    )

    invitation_max_days = Integer(
        365,
        config=True,
        help="Longest an invitation (and so a guest's access) may last, in days from its creation; "
        "a later 'expires' answers 400.",
    )

    guest_form_posts_per_minute = Integer(
        10,
        config=True,
        help="Invitation and guest sign-in forms one client address may send per minute (wrong "
        "passwords included); more answer 429 with Retry-After.",
    )

    publish_builtin_templates = Bool(
        True, config=True, help="Publish the built-in template library at start-up."
    )

    service_prefix = Unicode(config=True, help="URL prefix of the service (from JupyterHub).")

    @default("service_prefix")
    def _prefix_default(self) -> str:
        return os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/datadive/")

    service_url = Unicode(config=True, help="URL the service listens on (from JupyterHub).")

    @default("service_url")
    def _url_default(self) -> str:
        return os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10101")

    hub_api_url = Unicode(config=True, help="JupyterHub API URL (from JupyterHub).")

    @default("hub_api_url")
    def _hub_api_default(self) -> str:
        return os.environ.get("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api")

    # -- wiring -------------------------------------------------------------------------

    def initialize(self, argv: list[str] | None = None) -> None:
        super().initialize(argv)
        if self.config_file:
            self.load_config_file(self.config_file)
        from datadive_contents.stores import store_from_url

        if self.upgrade_db:
            db.upgrade(self.db_url)
        self.engine = db.make_engine(self.db_url)
        db.watch_held_connections(self.engine, self.log)
        self.session_factory = db.session_factory(self.engine)
        # read-only listings run outside transactions (same pool, no BEGIN/ROLLBACK round trips)
        self.read_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.project_lists = PageCache(self.project_list_cache_seconds)
        self.project_lists.watch(self.engine)
        self.store = store_from_url(self.store_url, **self.store_options)
        token = os.environ.get("JUPYTERHUB_API_TOKEN", "")
        # the OAuth callback handler uses the singleton, so every handler must share it
        self.hub_auth = CoalescingHubOAuth.instance(
            api_token=token, api_url=self.hub_api_url, cache_max_age=self.token_cache_seconds
        )
        self.hub_users = HubUsers(self.hub_api_url, token)
        self.public_rate_limiter = public.RateLimiter(self.public_requests_per_minute)
        self.public_pages = public.PageCache()
        self.guest_form_limiter = public.RateLimiter(self.guest_form_posts_per_minute)
        self.guest_tickets = guest_servers.Tickets()
        self.cookie_secret = guests.cookie_secret(token)
        self.audit = AuditLog(self.session_factory, self.log)
        self.storage = StoragePolicy(
            self.store,
            self.session_factory,
            self.log,
            project_quota=self.project_quota_bytes,
            user_quota=self.user_quota_bytes,
            keep_versions=self.keep_versions,
            keep_days=self.keep_days,
        )
        self.log.info(
            "Datadive service %s: database %s, store %s (%s), JupyterHub API %s",
            __version__,
            db.redact(self.db_url),
            self.store_url.split("?")[0],
            type(self.store).__name__,
            self.hub_api_url,
        )

    def make_app(self) -> web.Application:
        prefix = self.service_prefix
        api_prefix = url_path_join(prefix, "api/v1/")
        handlers = [
            (prefix.rstrip("/") + "/?", pages.root_handler),
            (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler),
            *api_routes(api_prefix),
            *[(url_path_join(prefix, pattern), h) for pattern, h in public.routes],
            *[(url_path_join(prefix, pattern), h) for pattern, h in pages.routes],
            *[(url_path_join(prefix, pattern), h) for pattern, h in invite_pages.routes],
        ]
        return web.Application(
            handlers,
            hub_auth=self.hub_auth,
            session_factory=self.session_factory,
            datadive=self,
            log=self.log,
            api_prefix=api_prefix,
            cookie_secret=self.cookie_secret,
            # checked by the guest forms and guests' API requests themselves (guests.check_xsrf)
            xsrf_cookies=False,
            xsrf_cookie_kwargs={"path": prefix, "samesite": "Strict"},
        )

    def publish_builtins(self) -> None:
        from .api.templates import publish_builtins

        with self.session_factory() as session:
            publish_builtins(session)

    async def run(self) -> None:
        if self.publish_builtin_templates:
            self.publish_builtins()
        url = urlparse(self.service_url)
        # API handlers stream their bodies and set their own limit per request, after
        # authentication; this cap is for everything else (the OAuth callback, unknown URLs)
        server = HTTPServer(self.make_app(), xheaders=True, max_body_size=self.max_json_body_bytes)
        server.listen(url.port or 80, url.hostname or "127.0.0.1")
        self.audit.start()
        self.guest_sweep_wanted = asyncio.Event()
        sweeper = asyncio.ensure_future(guest_servers.sweep_forever(self))
        self.log.info(
            "Datadive service listening on %s (prefix %s)", self.service_url, self.service_prefix
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        server.stop()
        sweeper.cancel()
        self.audit.stop()  # writes what is still queued
        await self.storage.settle()
        await self.store.close()
        self.engine.dispose()

    def start(self) -> None:
        asyncio.run(self.run())


def main(argv: list[str] | None = None) -> int:
    app = DatadiveService.instance()
    app.initialize(argv)
    app.start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
