"""Fixtures for the file API and preview tests (tests/files).

From tests/conftest.py: ``platform``, ``moto``, ``s3_store``, ``local_store``, ``hub_store``.

- ``s3_platform`` (session): ``datadive up`` (real hub + proxy + service) whose store is S3 on
  ``moto`` (bucket ``FILES_BUCKET``, versioning on) and whose
  ``DatadiveService.max_upload_bytes`` is ``MAX_UPLOAD`` (20 MiB); ``.s3`` is a boto3 client on
  the bucket, ``.store_prefix`` the key prefix.
- ``files_platform`` (parametrized "local" / "s3"): the root ``platform`` (local directory store)
  or ``s3_platform``; ``.kind`` says which.
- ``team``: a fresh project on ``files_platform`` with an owner, an editor, a viewer and an
  outsider (a user who is no member), plus ``call``/``put``/``get``/``url`` helpers (every
  answer validated against the OpenAPI document).
- ``store_down``: stops ``moto`` for the test and brings it back (with an empty versioned
  ``FILES_BUCKET``) afterwards.
- ``preview_store`` (parametrized "local" / "s3"): ``local_store`` or ``s3_store``, for the pure
  preview tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import requests
from datadive_platform import start_platform, stop_platform
from limits import MAX_UPLOAD
from openapi_check import validate_response

#: the bucket of ``s3_platform``'s store on ``moto``
FILES_BUCKET = "datadive-files"


@pytest.fixture(scope="session")
def s3_platform(moto, tmp_path_factory):
    moto.make_bucket(FILES_BUCKET)
    tmp = tmp_path_factory.mktemp("s3-platform")
    config = tmp / "service_config.py"
    config.write_text(f"c.DatadiveService.max_upload_bytes = {MAX_UPLOAD}\n")
    env = {
        "DATADIVE_STORE_URL": f"s3://{FILES_BUCKET}/dd?endpoint_url={moto.url}&check_folders=1",
        "DATADIVE_SERVICE_CONFIG": str(config),
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    p = start_platform(tmp, extra_env=env)
    p.kind = "s3"
    p.s3 = moto.client()
    p.bucket = FILES_BUCKET
    p.store_prefix = "dd/"
    yield p
    stop_platform(p.proc)


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
    p.share(owner, project["id"], (editor, "editor"), (viewer, "viewer"))
    return Team(p, project, owner, editor, viewer, outsider)


@pytest.fixture
def store_down(moto):
    moto.stop()
    yield
    moto.start()
    moto.make_bucket(FILES_BUCKET)


@pytest.fixture(params=["local", "s3"])
def preview_store(request):
    return request.getfixturevalue(f"{request.param}_store")


__all__ = ["MAX_UPLOAD", "Team"]
