"""Database engine, sessions and schema upgrades (Alembic) for the hub service."""

import asyncio
import logging
import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

log = logging.getLogger("datadive.db")
MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets a busy timeout, foreign keys and WAL."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 5})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(
            conn: DBAPIConnection, _record: ConnectionPoolEntry
        ) -> None:  # pragma: no cover - trivial
            cur = conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        return engine
    # no pre-ping round trip per request: a dropped connection fails one request (503) and
    # SQLAlchemy then replaces every pooled connection, so the next request works
    return create_engine(url, **kwargs)


def watch_held_connections(engine: Engine, log: logging.Logger) -> None:
    """Log an error whenever a pooled connection taken on the event loop is still checked out
    when the loop moves on: it was held across an ``await``.

    Such a connection makes other requests wait for the pool, and waiting for the pool blocks
    the event loop, so one client's burst would freeze the service for everyone.
    """

    def check(record: ConnectionPoolEntry, mark: object) -> None:
        if record.info.get("datadive_checkout") is mark:
            log.error(
                "A database connection is held across an await (%s); the event loop may block "
                "in pool checkout. Call release_db() before awaiting",
                engine.pool.status(),
            )

    @event.listens_for(engine, "checkout")
    def _checkout(
        _conn: DBAPIConnection, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
    ) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # start-up or a thread: not a request on the event loop
        mark = record.info["datadive_checkout"] = object()
        loop.call_soon(check, record, mark)

    @event.listens_for(engine, "checkin")
    def _checkin(_conn: DBAPIConnection | None, record: ConnectionPoolEntry) -> None:
        record.info.pop("datadive_checkout", None)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema at ``url`` up to ``revision`` (creating the SQLite file if needed)."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    log.info("Upgrading database %s to %s", redact(url), revision)
    command.upgrade(alembic_config(url), revision)


def redact(url: str) -> str:
    """The URL with any password replaced, for logs and messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL is logged as given, minus nothing secret
        return url.split("@")[-1]
