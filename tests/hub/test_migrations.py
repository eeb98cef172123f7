"""Schema managed by Alembic: `datadive db upgrade` reaches head, models and migrations agree."""

import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from datadive_hub import db
from datadive_hub.models import Base


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'm.sqlite'}"
    return request.getfixturevalue("postgres_url")


def test_datadive_db_upgrade_reaches_head_and_matches_the_models(empty_db):
    out = subprocess.run(
        [sys.executable, "-m", "datadive_hub.cli", "db", "upgrade", "--db-url", empty_db],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    head = db.head_revision(empty_db)
    assert f"is at revision {head}" in out.stdout
    engine = db.make_engine(empty_db)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # the migrations create exactly what the models describe
    assert diff == [], f"models and migrations disagree: {diff}"
    # running it again is a no-op
    out = subprocess.run(
        [sys.executable, "-m", "datadive_hub.cli", "db", "upgrade", "--db-url", empty_db],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0 and f"is at revision {head}" in out.stdout
    engine.dispose()


def test_bad_database_url_is_refused_with_the_fix():
    from datadive_hub.service import DatadiveService

    app = DatadiveService()
    with pytest.raises(Exception, match="postgresql\\+psycopg://"):
        app.db_url = "mysql://x@y/z"
