"""Migrations 0002/0003 and publish_builtins on SQLite and PostgreSQL (real databases)."""

from __future__ import annotations

import uuid

import pytest
from alembic import command
from datadive_platform import PG_ADMIN_URL, pg_unreachable_reason, unavailable
from sqlalchemy import inspect, select

from datadive_hub import db
from datadive_hub.api.templates import bury, latest, publish_builtins, tombstone, versions_of
from datadive_hub.models.templates import TemplateTombstone, TemplateVersion
from datadive_server_ext.templates import builtin_templates


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """A fresh database of its own (this test downgrades the schema, so nothing may share it)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'datadive.sqlite'}"
        return
    import psycopg  # a dev requirement (requirements/dev.txt): missing is a broken setup

    reason = pg_unreachable_reason()
    if reason:
        unavailable(reason)  # fails under CI, skips with the reason elsewhere
    admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    name = f"datadive_tpl_{uuid.uuid4().hex[:8]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    yield f"{base}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_upgrade_publish_downgrade(db_url):
    db.upgrade(db_url)
    engine = db.make_engine(db_url)
    try:
        assert "template_versions" in inspect(engine).get_table_names()
        sessions = db.session_factory(engine)
        with sessions() as s:
            assert publish_builtins(s) == len(builtin_templates())
            assert publish_builtins(s) == 0  # idempotent
            rows = versions_of(s, "load-qualtrics")
            assert [r.version for r in rows] == ["1.1.0"] and rows[0].builtin
            assert latest(rows).document["id"] == "load-qualtrics"
            assert rows[0].source and "ImportId" in rows[0].source
            n = len(s.scalars(select(TemplateVersion)).all())
            assert n == len(builtin_templates())
        assert "template_tombstones" in inspect(engine).get_table_names()
        command.downgrade(db.alembic_config(db_url), "0002")
        assert "template_tombstones" not in inspect(engine).get_table_names()
        command.downgrade(db.alembic_config(db_url), "0001")
        assert "template_versions" not in inspect(engine).get_table_names()
        db.upgrade(db_url)
        assert {"template_versions", "template_tombstones"} <= set(
            inspect(engine).get_table_names()
        )
    finally:
        engine.dispose()


def test_publish_builtins_from_a_second_instance(tmp_path):
    """A second service instance (its own session) adds nothing and does not fail."""
    url = f"sqlite:///{tmp_path / 'datadive.sqlite'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        sessions = db.session_factory(engine)
        with sessions() as a, sessions() as b:
            a.scalars(select(TemplateVersion)).all()
            b.scalars(select(TemplateVersion)).all()
            assert publish_builtins(a) == len(builtin_templates())
            assert publish_builtins(b) == 0
        with sessions() as s:
            assert len(s.scalars(select(TemplateVersion)).all()) == len(builtin_templates())
    finally:
        engine.dispose()


def test_deleted_builtin_comes_back_only_unchanged(db_url):
    """A deleted built-in is re-added at start with the same content, but not when its content
    changed under the same version (cells that recorded that version expect the old content)."""
    db.upgrade(db_url)
    engine = db.make_engine(db_url)
    try:
        sessions = db.session_factory(engine)
        with sessions() as s:
            publish_builtins(s)
            row = versions_of(s, "describe")[0]
            old_hash = row.content_hash
            bury(s, row, "someone")
            s.commit()
            grave = tombstone(s, "describe", row.version)
            assert grave is not None and grave.content_hash == old_hash
            assert grave.deleted_by == "someone"
            assert publish_builtins(s) == 1  # same content: restored
            assert versions_of(s, "describe")[0].content_hash == old_hash
            # deleting it again keeps the one tombstone
            bury(s, versions_of(s, "describe")[0], "someone else")
            s.commit()
            assert len(s.scalars(select(TemplateTombstone)).all()) == 1
            # the built-in changed without a new version: it stays deleted
            grave = tombstone(s, "describe", row.version)
            grave.content_hash = "sha256:" + "0" * 64
            s.commit()
            assert publish_builtins(s) == 0
            assert versions_of(s, "describe") == []
    finally:
        engine.dispose()
