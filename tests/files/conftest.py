"""Fixtures for the file API and preview tests (tests/files).

- ``moto`` (session): a real moto S3 server subprocess on 127.0.0.1 (``.url``, ``.stop()``,
  ``.start()``), with a versioned bucket ``moto.bucket``.
- ``s3_platform`` (session): ``datadive up`` (real hub + proxy + service) whose store is S3 on
  ``moto`` (bucket versioning on) and whose ``DatadiveService.max_upload_bytes`` is
  ``MAX_UPLOAD`` (20 MiB); ``.s3`` is a boto3 client on the bucket, ``.store_prefix`` the key prefix.
- ``files_platform`` (parametrized "local" / "s3"): the root ``platform`` (local directory store)
  or ``s3_platform``; ``.kind`` says which.
- ``team``: a fresh project on ``files_platform`` with an owner, an editor, a viewer and an
  outsider (a user who is no member), plus ``call``/``put``/``get``/``url`` helpers (every
  answer validated against the OpenAPI document).
- ``store_down``: stops ``moto`` for the test and brings it back (with an empty versioned
  bucket) afterwards.
- ``hub_store`` (from hub_fixtures.py): a HubServiceStore for a fresh project on ``platform``.
- ``local_store`` / ``s3_store``: the storage engineer's stores, for the pure preview tests
  (a LocalDirectoryStore in a temp dir; an S3Store on ``moto``'s bucket under a fresh prefix).
- ``preview_store`` (parametrized "local" / "s3"): one of those two.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

from hub_fixtures import MAX_UPLOAD, hub_store  # noqa: E402,F401


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# the shared platform helpers (start_platform) and the storage tests' moto helper
import datadive_platform as root_conftest  # noqa: E402
from openapi_check import validate_response  # noqa: E402

contents_helpers = _load("_datadive_contents_helpers", ROOT / "tests" / "contents" / "helpers.py")


class Moto(contents_helpers.MotoServer):
    bucket = "datadive-files"

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            region_name="us-east-1",
        )

    def make_bucket(self) -> None:
        s3 = self.client()
        s3.create_bucket(Bucket=self.bucket)
        s3.put_bucket_versioning(Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"})


@pytest.fixture(scope="session")
def moto():
    srv = Moto()
    srv.start()
    srv.make_bucket()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def s3_platform(moto, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("s3-platform")
    config = tmp / "service_config.py"
    config.write_text(f"c.DatadiveService.max_upload_bytes = {MAX_UPLOAD}\n")
    env = {
        "DATADIVE_STORE_URL": f"s3://{moto.bucket}/dd?endpoint_url={moto.url}&check_folders=1",
        "DATADIVE_SERVICE_CONFIG": str(config),
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    p = root_conftest.start_platform(tmp, extra_env=env)
    p.kind = "s3"
    p.s3 = moto.client()
    p.bucket = moto.bucket
    p.store_prefix = "dd/"
    yield p
    root_conftest.stop_platform(p.proc)


@pytest.fixture(scope="session", params=["local", "s3"])
def files_platform(request):
    if request.param == "local":
        p = request.getfixturevalue("platform")
        p.kind = "local"
        return p
    return request.getfixturevalue("s3_platform")


@dataclass
class Team:
    platform: object
    project: dict
    owner: object
    editor: object
    viewer: object
    outsider: object

    @property
    def pid(self) -> str:
        return self.project["id"]

    def url(self, rest: str) -> str:
        return f"{self.platform.api}/projects/{self.pid}/{rest}"

    def call(self, method: str, rest: str, user=None, **kw) -> requests.Response:
        """``method`` on ``projects/<id>/<rest>`` as ``user`` (default the owner; False: no
        token); every answer is checked against the OpenAPI document."""
        user = self.owner if user is None else user
        headers = {**kw.pop("headers", {}), **(user.headers if user else {})}
        r = requests.request(method, self.url(rest), headers=headers, timeout=120, **kw)
        validate_response(
            method, r.url, r.status_code, r.content, r.headers.get("Content-Type", "")
        )
        return r

    def put(self, path: str, data: bytes, user=None, **kw) -> requests.Response:
        return self.call("PUT", f"files/{path}", user, data=data, **kw)

    def get(self, path: str, user=None, **kw) -> requests.Response:
        return self.call("GET", f"files/{path}", user, **kw)


@pytest.fixture
def team(files_platform):
    p = files_platform
    owner, editor, viewer, outsider = (p.user() for _ in range(4))
    project = p.project(owner)
    for user, role in ((editor, "editor"), (viewer, "viewer")):
        r = p.call(
            "POST",
            f"projects/{project['id']}/members",
            owner,
            json={"kind": "user", "name": user.name, "role": role},
        )
        assert r.status_code == 201, r.text
    return Team(p, project, owner, editor, viewer, outsider)


@pytest.fixture
def store_down(moto):
    moto.stop()
    yield
    moto.start()
    moto.make_bucket()


@pytest.fixture
def local_store(tmp_path):
    from datadive_contents.stores.local import LocalDirectoryStore

    return LocalDirectoryStore(str(tmp_path / "store"))


@pytest.fixture
async def s3_store(moto):
    from datadive_contents.stores.s3 import S3Store

    store = S3Store(
        moto.bucket,
        f"preview-{uuid.uuid4().hex[:8]}",
        endpoint_url=moto.url,
        access_key_id="test",
        secret_access_key="test",
    )
    yield store
    await store.close()


@pytest.fixture(params=["local", "s3"])
def preview_store(request):
    return request.getfixturevalue(f"{request.param}_store")


__all__ = ["MAX_UPLOAD", "Team", "os"]
