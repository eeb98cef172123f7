"""Shared fixtures: a real Datadive platform (``datadive up``) and PostgreSQL.

Fixtures
--------
platform
    Session-scoped :class:`Platform`: ``datadive up`` really running (JupyterHub +
    configurable-http-proxy + the Datadive service + SimpleLocalProcessSpawner) on SQLite and the
    local directory store, in a temporary data dir, with ``DATADIVE_BOOTSTRAP_TOKEN`` set.
platform_pg
    The same platform with the service's database on PostgreSQL at 127.0.0.1:5432 (a fresh
    database per run). PostgreSQL not reachable: the test fails under CI (``CI=true``), else it is
    skipped, with the reason printed either way (``datadive_platform.unavailable``).
any_platform
    Parametrized over ``platform`` and ``platform_pg``: service tests run on both databases.
postgres_url
    URL of a fresh, empty PostgreSQL database (dropped afterwards); unreachable → ``unavailable``.
moto
    Session-scoped :class:`moto_s3.MotoServer`: a real moto S3 server subprocess on 127.0.0.1
    (``.url``, ``.client()``, ``.make_bucket()``, ``.stop()`` / ``.start()``, ``.pause()`` /
    ``.resume()``). The only S3 endpoint of the tests.
s3_bucket
    Name of a fresh versioned bucket on ``moto``.
s3_store
    An S3Store on ``s3_bucket`` under the prefix ``root`` (folder markers checked), closed
    afterwards.
local_store
    A LocalDirectoryStore in a temporary directory.
hub_store
    A HubServiceStore for a fresh project of a fresh user on ``platform``, with that user's own
    JupyterHub token (what a user server uses), closed afterwards.
"""

import uuid

import pytest
from datadive_contents.stores.hub import HubServiceStore
from datadive_contents.stores.local import LocalDirectoryStore
from datadive_contents.stores.s3 import S3Store
from datadive_platform import (
    PG_ADMIN_URL,
    pg_unreachable_reason,
    start_platform,
    stop_platform,
    unavailable,
)
from moto_s3 import MotoServer


@pytest.fixture(scope="session")
def platform(tmp_path_factory):
    p = start_platform(tmp_path_factory.mktemp("platform"))
    yield p
    stop_platform(p.proc)


@pytest.fixture(scope="session")
def postgres_url():
    reason = pg_unreachable_reason()
    if reason:
        unavailable(reason)
    import psycopg

    name = f"datadive_test_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield (
        PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        + "/"
        + name
    )
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def platform_pg(tmp_path_factory, postgres_url):
    p = start_platform(
        tmp_path_factory.mktemp("platform-pg"), db_url=postgres_url, db_kind="postgresql"
    )
    yield p
    stop_platform(p.proc)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def any_platform(request):
    return request.getfixturevalue("platform" if request.param == "sqlite" else "platform_pg")


@pytest.fixture(scope="session")
def moto():
    srv = MotoServer()
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def s3_bucket(moto):
    return moto.make_bucket()


@pytest.fixture
async def s3_store(moto, s3_bucket):
    store = S3Store(
        s3_bucket,
        "root",
        endpoint_url=moto.url,
        access_key_id="test",
        secret_access_key="test",
        check_folders=True,
    )
    yield store
    await store.close()


@pytest.fixture
def local_store(tmp_path):
    return LocalDirectoryStore(str(tmp_path / "store"))


@pytest.fixture
async def hub_store(platform):
    owner = platform.user()
    project = platform.project(owner)
    store = HubServiceStore(
        project["id"], service_url=f"{platform.url}/services/datadive/", token=owner.token
    )
    yield store
    await store.close()
