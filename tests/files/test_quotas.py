"""Storage quotas and version retention, on a real platform with the local directory store and
with S3 (moto, versioned): what an owner sees in GET .../usage, what an upload or copy that would
pass a quota gets (413 before anything is stored, nothing half-written), and how many versions
of a file are kept under ``keep_versions`` (never the ones a snapshot or the trash needs)."""

from __future__ import annotations

import time

import pytest
import requests
from datadive_platform import start_platform, stop_platform
from openapi_check import validate_response

PROJECT_QUOTA = 100_000
USER_QUOTA = 150_000
KEEP = 3


@pytest.fixture(scope="module", params=["local", "s3"])
def limited(request, tmp_path_factory, moto):
    tmp = tmp_path_factory.mktemp(f"quota-{request.param}")
    config = tmp / "service_config.py"
    config.write_text(
        f"c.DatadiveService.project_quota_bytes = {PROJECT_QUOTA}\n"
        f"c.DatadiveService.user_quota_bytes = {USER_QUOTA}\n"
        f"c.DatadiveService.keep_versions = {KEEP}\n"
    )
    env = {"DATADIVE_SERVICE_CONFIG": str(config)}
    if request.param == "s3":
        bucket = f"quota-{int(time.time() * 1000)}"
        moto.make_bucket(bucket)
        env.update(
            DATADIVE_STORE_URL=f"s3://{bucket}/q?endpoint_url={moto.url}",
            AWS_ACCESS_KEY_ID="test",
            AWS_SECRET_ACCESS_KEY="test",
            AWS_DEFAULT_REGION="us-east-1",
        )
    p = start_platform(tmp, extra_env=env)
    p.kind = request.param
    yield p
    stop_platform(p.proc)


def call(p, method, user, rest, **kw):
    r = requests.request(
        method, f"{p.api}/{rest}", headers={**kw.pop("headers", {}), **user.headers}, **kw
    )
    validate_response(method, r.url, r.status_code, r.content, r.headers.get("Content-Type", ""))
    return r


def usage(p, owner, pid) -> dict:
    r = call(p, "GET", owner, f"projects/{pid}/usage")
    assert r.status_code == 200, r.text
    return r.json()


def versions(p, user, pid, path) -> list[dict]:
    r = call(p, "GET", user, f"projects/{pid}/versions/{path}", params={"limit": 50})
    assert r.status_code == 200, r.text
    return r.json()["versions"]


def wait_for_versions(p, user, pid, path, n, timeout=15.0) -> list[dict]:
    """Retention runs just after the write: wait until the file has ``n`` versions."""
    deadline = time.monotonic() + timeout
    while True:
        got = versions(p, user, pid, path)
        if len(got) == n or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def test_an_upload_that_would_pass_the_project_quota_is_refused_before_anything_is_stored(
    limited,
):
    p = limited
    owner = p.user()
    pid = p.project(owner)["id"]
    assert call(p, "PUT", owner, f"projects/{pid}/files/a.bin", data=b"a" * 60_000).ok
    u = usage(p, owner, pid)
    assert u["project_bytes"] == 60_000 and u["project_quota"] == PROJECT_QUOTA
    assert u["user"] == owner.name and u["keep_versions"] == KEEP

    r = call(p, "PUT", owner, f"projects/{pid}/files/b.bin", data=b"b" * 50_000)
    assert r.status_code == 413
    message = r.json()["message"]
    assert "storage quota" in message and "nothing was written" in message
    assert "project_quota_bytes" in message  # what an admin would raise
    assert call(p, "GET", owner, f"projects/{pid}/files/b.bin").status_code == 404

    # replacing a file keeps the old version: it counts too
    r = call(p, "PUT", owner, f"projects/{pid}/files/a.bin", data=b"A" * 45_000)
    assert r.status_code == 413
    assert call(p, "GET", owner, f"projects/{pid}/files/a.bin").content == b"a" * 60_000
    assert usage(p, owner, pid)["project_bytes"] == 60_000


def test_a_streamed_upload_without_length_is_cut_off_at_the_quota_and_leaves_nothing(limited):
    p = limited
    owner = p.user()
    pid = p.project(owner)["id"]

    def chunks():
        for _ in range(30):
            yield b"x" * 8192  # 245,760 bytes, chunked: the service learns the size as it comes

    r = call(p, "PUT", owner, f"projects/{pid}/files/stream.bin", data=chunks())
    assert r.status_code == 413, r.text
    assert "storage quota" in r.json()["message"]
    assert call(p, "GET", owner, f"projects/{pid}/files/stream.bin").status_code == 404
    listing = call(p, "GET", owner, f"projects/{pid}/files").json()
    assert listing["files"] == []
    assert usage(p, owner, pid)["project_bytes"] == 0


def test_the_creators_quota_counts_all_their_projects(limited):
    p = limited
    owner = p.user()
    first = p.project(owner)["id"]
    second = p.project(owner)["id"]
    assert call(p, "PUT", owner, f"projects/{first}/files/big.bin", data=b"1" * 90_000).ok
    # within the second project's own quota, but past the creator's total
    r = call(p, "PUT", owner, f"projects/{second}/files/more.bin", data=b"2" * 70_000)
    assert r.status_code == 413
    message = r.json()["message"]
    assert f"projects created by {owner.name}" in message and "user_quota_bytes" in message
    assert usage(p, owner, second)["user_bytes"] == 90_000
    assert call(p, "PUT", owner, f"projects/{second}/files/fits.bin", data=b"3" * 50_000).ok
    assert usage(p, owner, first)["user_bytes"] == 140_000


def test_a_copy_that_would_pass_the_quota_is_refused_and_writes_nothing(limited):
    p = limited
    owner = p.user()
    pid = p.project(owner)["id"]
    assert call(p, "PUT", owner, f"projects/{pid}/files/d/one.csv", data=b"9" * 40_000).ok
    assert call(p, "PUT", owner, f"projects/{pid}/files/d/two.csv", data=b"8" * 20_000).ok
    r = call(p, "POST", owner, f"projects/{pid}/files:copy", json={"from": "d", "to": "e"})
    assert r.status_code == 413 and "storage quota" in r.json()["message"]
    listing = call(p, "GET", owner, f"projects/{pid}/files", params={"recursive": "1"}).json()
    assert sorted(f["path"] for f in listing["files"]) == ["d/one.csv", "d/two.csv"]
    r = call(p, "POST", owner, f"projects/{pid}/files:copy", json={"from": "d/two.csv", "to": "t"})
    assert r.status_code == 200, r.text


def test_retention_keeps_the_newest_versions_and_those_a_snapshot_or_the_trash_needs(limited):
    p = limited
    owner = p.user()
    pid = p.project(owner)["id"]
    for i in range(5):
        assert call(p, "PUT", owner, f"projects/{pid}/files/notes.txt", data=b"%d" % i * 1000).ok
    kept = wait_for_versions(p, owner, pid, "notes.txt", KEEP)
    assert len(kept) == KEEP
    newest = [call(p, "GET", owner, f"projects/{pid}/files/notes.txt").content]
    assert newest == [b"4" * 1000]
    assert usage(p, owner, pid)["project_bytes"] == KEEP * 1000  # removed versions freed

    # a version a snapshot records survives however many writes follow
    assert call(p, "PUT", owner, f"projects/{pid}/files/data.csv", data=b"first\n").ok
    r = call(p, "POST", owner, f"projects/{pid}/snapshots", json={"name": "before"})
    assert r.status_code == 201, r.text
    for i in range(5):
        assert call(p, "PUT", owner, f"projects/{pid}/files/data.csv", data=b"v%d\n" % i).ok
    kept = wait_for_versions(p, owner, pid, "data.csv", KEEP + 1)
    assert len(kept) == KEEP + 1  # the newest three and the snapshot's
    r = call(p, "POST", owner, f"projects/{pid}/snapshots/before/restore")
    assert r.status_code == 200, r.text
    assert call(p, "GET", owner, f"projects/{pid}/files/data.csv").content == b"first\n"

    # a deleted file keeps, while it is in the trash, the version a restore brings back
    assert call(p, "PUT", owner, f"projects/{pid}/files/gone.txt", data=b"keep me").ok
    assert call(p, "DELETE", owner, f"projects/{pid}/files/gone.txt").ok
    for i in range(4):
        assert call(p, "PUT", owner, f"projects/{pid}/files/gone.txt", data=b"new %d" % i).ok
    kept = wait_for_versions(p, owner, pid, "gone.txt", KEEP + 1)
    assert len(kept) == KEEP + 1
    oldest = kept[-1]["version_id"]
    r = call(p, "GET", owner, f"projects/{pid}/files/gone.txt", params={"version_id": oldest})
    assert r.content == b"keep me"
