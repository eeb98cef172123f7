"""Fixtures for the storage tests (tests/contents).

- ``moto_server`` (session): endpoint URL of a real moto S3 server subprocess on 127.0.0.1.
- ``s3_bucket``: name of a fresh versioned bucket on ``moto_server``.
- ``s3_store``: an S3Store on ``s3_bucket`` (under a prefix), closed afterwards.
- ``local_store``: a LocalDirectoryStore in a temp directory.
- ``hub_store`` (from tests/files/hub_fixtures.py): a HubServiceStore for a fresh project on the
  running ``platform`` (user servers' path to the store, through the Datadive service).
- ``store`` (parametrized): every ObjectStore backend in ``STORE_BACKENDS`` — the contract suite
  runs once per backend. Add a backend by adding one entry to ``STORE_BACKENDS``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest
from datadive_contents.stores.local import LocalDirectoryStore
from datadive_contents.stores.s3 import S3Store

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from helpers import MotoServer, free_port, make_bucket  # noqa: E402

sys.path.insert(0, os.path.join(HERE, "..", "files"))
from hub_fixtures import hub_store  # noqa: E402,F401  HubServiceStore via a real service (tests/files)


@pytest.fixture(scope="session")
def moto_server():
    srv = MotoServer()
    srv.start()
    yield srv.url
    srv.stop()


@pytest.fixture
def s3_bucket(moto_server):
    return make_bucket(moto_server)


@pytest.fixture
async def s3_store(moto_server, s3_bucket):
    store = S3Store(
        s3_bucket,
        "root",
        endpoint_url=moto_server,
        access_key_id="test",
        secret_access_key="test",
        check_folders=True,
    )
    yield store
    await store.close()


@pytest.fixture
def local_store(tmp_path):
    return LocalDirectoryStore(str(tmp_path / "store"))


#: backend name → fixture that provides it. One line per backend.
STORE_BACKENDS = {
    "hub": "hub_store",
    "local": "local_store",
    "s3": "s3_store",
}


@pytest.fixture(params=sorted(STORE_BACKENDS))
def store(request):
    return request.getfixturevalue(STORE_BACKENDS[request.param])


__all__ = ["free_port", "make_bucket", "socket", "subprocess", "time"]
