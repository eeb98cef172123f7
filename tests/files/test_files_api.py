"""The file API against a real running platform (hub + proxy + service), local store and S3."""

from __future__ import annotations

import hashlib
import os

import pytest
import requests
from datadive_platform import service_process
from limits import MAX_UPLOAD

pytestmark = pytest.mark.hub


def test_upload_list_download_while_no_server_runs(team):
    # nobody has started a server: the service alone serves the files
    r = team.platform.hub("GET", f"users/{team.owner.name}")
    assert not r.json().get("servers"), "the owner's server should not be running"
    r = team.put("data/survey.csv", b"age,answer\n34,yes\n")
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["path"] == "data/survey.csv" and created["size"] == 18
    assert r.headers["ETag"] == f'"{created["etag"]}"'
    r = team.put("notes.txt", b"hello")
    assert r.status_code == 201
    r = team.put("notes.txt", b"hello again")
    assert r.status_code == 200, "replacing answers 200"

    listing = team.call("GET", "files").json()
    assert [f["path"] for f in listing["files"]] == ["notes.txt"]
    assert [d["path"] for d in listing["folders"]] == ["data"]
    f = listing["files"][0]
    assert f["size"] == 11 and f["etag"] and f["last_modified"]
    sub = team.call("GET", "files", params={"prefix": "data"}).json()
    assert [f["path"] for f in sub["files"]] == ["data/survey.csv"]
    rec = team.call("GET", "files", params={"recursive": "1"}).json()
    assert sorted(f["path"] for f in rec["files"]) == ["data/survey.csv", "notes.txt"]

    r = team.get("data/survey.csv")
    assert r.status_code == 200 and r.content == b"age,answer\n34,yes\n"
    assert r.headers["ETag"] == f'"{created["etag"]}"'
    assert r.headers["Last-Modified"] and r.headers["Accept-Ranges"] == "bytes"
    assert r.headers["Content-Disposition"].startswith("attachment")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    r = team.get("data/survey.csv", headers={"If-None-Match": f'"{created["etag"]}"'})
    assert r.status_code == 304
    r = team.call("HEAD", "files/data/survey.csv")
    assert r.status_code == 200 and r.headers["X-Datadive-Size"] == "18" and not r.content


def test_file_and_folder_names_never_clash(team):
    team.put("dir/x.txt", b"1")
    r = team.put("dir", b"2")
    assert r.status_code == 409 and "is a folder" in r.json()["message"]
    r = team.put("dir/x.txt/y.txt", b"3")
    assert r.status_code == 409 and "is a file" in r.json()["message"]
    r = team.call("POST", "files:copy", json={"from": "dir/x.txt", "to": "dir"})
    assert r.status_code == 409
    assert team.get("dir/x.txt").content == b"1"


def test_range_requests(team):
    body = bytes(range(256)) * 100
    team.put("bin/blob.dat", body)
    r = team.get("bin/blob.dat", headers={"Range": "bytes=10-19"})
    assert r.status_code == 206 and r.content == body[10:20]
    assert r.headers["Content-Range"] == f"bytes 10-19/{len(body)}"
    r = team.get("bin/blob.dat", headers={"Range": "bytes=-5"})
    assert r.status_code == 206 and r.content == body[-5:]
    r = team.get("bin/blob.dat", headers={"Range": "bytes=25000-"})
    assert r.status_code == 206 and r.content == body[25000:]
    r = team.get("bin/blob.dat", headers={"Range": f"bytes={len(body)}-"})
    assert r.status_code == 416 and "outside" in r.json()["message"]
    assert r.headers["Content-Range"] == f"bytes */{len(body)}"


def test_streamed_upload_of_several_mib_roundtrips(team):
    body = os.urandom(17 << 20)  # three S3 multipart parts (8 MiB each)

    def gen():
        for i in range(0, len(body), 1 << 20):
            yield body[i : i + (1 << 20)]

    r = team.put("big/random.bin", gen())  # chunked transfer encoding
    assert r.status_code == 201, r.text
    assert r.json()["size"] == len(body)
    r = team.get("big/random.bin")
    assert hashlib.sha256(r.content).digest() == hashlib.sha256(body).digest()


def test_conditional_uploads_answer_412_and_write_nothing(team):
    first = team.put("nb.ipynb", b"v1", headers={"If-None-Match": "*"})
    assert first.status_code == 201
    etag = first.json()["etag"]
    r = team.put("nb.ipynb", b"other", headers={"If-None-Match": "*"})
    assert r.status_code == 412
    assert "changed since you read it" in r.json()["message"] and r.json()["status"] == 412
    second = team.put("nb.ipynb", b"v2", headers={"If-Match": f'"{etag}"'})
    assert second.status_code == 200
    r = team.put("nb.ipynb", b"stale", headers={"If-Match": f'"{etag}"'})
    assert r.status_code == 412 and "Download the current version" in r.json()["message"]
    assert team.get("nb.ipynb").content == b"v2"
    r = team.put("never.ipynb", b"x", headers={"If-Match": "*"})
    assert r.status_code == 412, "If-Match: * needs an existing file"
    assert team.put("nb.ipynb", b"v3", headers={"If-Match": "*"}).status_code == 200


def test_delete_file_and_folder(team):
    for p in ("d/a.txt", "d/e/b.txt", "keep.txt"):
        team.put(p, b"x")
    r = team.call("DELETE", "files/keep.txt", team.editor)
    assert r.status_code == 200 and r.json()["deleted"] == 1
    assert team.get("keep.txt").status_code == 404
    r = team.call("DELETE", "files/d", team.editor)
    assert r.status_code == 200 and r.json()["deleted"] == 2
    assert team.call("GET", "files").json() == {
        "prefix": "",
        "recursive": False,
        "files": [],
        "folders": [],
    }
    r = team.call("DELETE", "files/d")
    assert r.status_code == 404 and "nothing deleted" in r.json()["message"]
    r = requests.delete(team.url("files/"), headers=team.owner.headers, timeout=60)
    assert r.status_code == 400 and "root cannot be deleted" in r.json()["message"]


def test_copy_and_move(team):
    team.put("raw/a.csv", b"1")
    team.put("raw/sub/b.csv", b"2")
    r = team.call("POST", "files:copy", json={"from": "raw/a.csv", "to": "copy/a.csv"})
    assert r.status_code == 200 and r.json()["files"] == 1
    assert team.get("copy/a.csv").content == b"1" and team.get("raw/a.csv").content == b"1"
    r = team.call("POST", "files:copy", json={"from": "raw/a.csv", "to": "copy/a.csv"})
    assert r.status_code == 409 and "overwrite" in r.json()["message"]
    r = team.call("POST", "files:move", json={"from": "raw", "to": "moved"})
    assert r.status_code == 200 and r.json()["files"] == 2
    assert team.get("moved/sub/b.csv").content == b"2"
    assert team.get("raw/a.csv").status_code == 404
    r = team.call("POST", "files:move", json={"from": "moved", "to": "moved/inside"})
    assert r.status_code == 400
    r = team.call("POST", "files:copy", json={"from": "nothing", "to": "x"})
    assert r.status_code == 404
    r = team.call("POST", "files:copy", json={"from": "../x", "to": "y"})
    assert r.status_code == 400


def test_versions_list_and_restore(team):
    v1 = team.put("hist.txt", b"one").json()
    v2 = team.put("hist.txt", b"two").json()
    r = team.call("GET", "versions/hist.txt", team.viewer)
    assert r.status_code == 200
    versions = r.json()["versions"]
    assert [v["version_id"] for v in versions[:2]] == [v2["version_id"], v1["version_id"]]
    assert versions[0]["is_current"] and not versions[1]["is_current"]
    old = team.get("hist.txt", params={"version_id": v1["version_id"]})
    assert old.content == b"one"
    r = team.call("POST", "versions/hist.txt", team.editor, json={"version_id": v1["version_id"]})
    assert r.status_code == 200, r.text
    assert r.json()["restored_from"] == v1["version_id"]
    assert team.get("hist.txt").content == b"one"
    after = team.call("GET", "versions/hist.txt").json()["versions"]
    assert len(after) == 3, "restoring adds a version; the old ones stay"
    # deleted files keep their history and can be brought back
    team.call("DELETE", "files/hist.txt")
    assert team.get("hist.txt").status_code == 404
    assert len(team.call("GET", "versions/hist.txt").json()["versions"]) >= 3
    r = team.call("POST", "versions/hist.txt", json={"version_id": v2["version_id"]})
    assert r.status_code == 200 and team.get("hist.txt").content == b"two"
    r = team.call("POST", "versions/hist.txt", json={"version_id": "no-such-version"})
    assert r.status_code == 404 and "GET .../versions/hist.txt" in r.json()["message"]
    assert team.call("GET", "versions/never.txt").status_code == 404


def test_presigned_download(team):
    team.put("p.csv", b"a,b\n1,2\n")
    r = team.get("p.csv", params={"presign": "1"})
    assert r.status_code == 200
    body = r.json()
    if team.platform.kind == "s3":
        assert body["url"].startswith("http") and body["expires_in"] > 0
        direct = requests.get(body["url"], timeout=30)  # no hub token: the URL alone suffices
        assert direct.status_code == 200 and direct.content == b"a,b\n1,2\n"
    else:
        assert body["url"] is None and "without presign" in body["message"]


def test_missing_and_folder_download_say_what_to_do(team):
    team.put("dir/x.txt", b"x")
    r = team.get("nope.txt")
    assert r.status_code == 404 and "list the files" in r.json()["message"]
    r = team.get("dir")
    assert r.status_code == 404 and "it is a folder" in r.json()["message"]


def test_oversized_upload_is_refused_with_the_limit_and_nothing_written(s3_platform):
    p = s3_platform
    owner = p.user()
    pid = p.project(owner)["id"]
    url = f"{p.api}/projects/{pid}/files/huge.bin"
    # declared size above the limit
    r = requests.put(url, data=b"x" * (MAX_UPLOAD + 1), headers=owner.headers, timeout=60)
    assert r.status_code == 413
    msg = r.json()["message"]
    assert str(MAX_UPLOAD) in msg and "max_upload_bytes" in msg and "nothing was written" in msg

    # a streamed (chunked) body that grows beyond the limit: the multipart upload is aborted
    def gen():
        for _ in range(MAX_UPLOAD // (1 << 20) + 4):
            yield b"y" * (1 << 20)

    r = requests.put(url, data=gen(), headers=owner.headers, timeout=60)
    assert r.status_code == 413 and "max_upload_bytes" in r.json()["message"]
    r = requests.get(url, headers=owner.headers, timeout=30)
    assert r.status_code == 404, "nothing may be written by a refused upload"
    uploads = p.s3.list_multipart_uploads(Bucket=p.bucket).get("Uploads", [])
    assert not [u for u in uploads if pid in u["Key"]], "multipart uploads must be aborted"
    objects = p.s3.list_objects_v2(Bucket=p.bucket, Prefix=f"{p.store_prefix}projects/{pid}/")
    assert objects.get("KeyCount", 0) == 0


def test_store_down_answers_502_with_what_to_do(s3_platform, store_down):
    p = s3_platform
    owner = p.user()
    pid = p.project(owner)["id"]
    for method, rest, kw in (
        ("GET", "files", {}),
        ("GET", "files/a.csv", {}),
        ("PUT", "files/a.csv", {"data": b"a,b\n"}),
        ("GET", "preview/a.csv", {}),
    ):
        r = requests.request(
            method, f"{p.api}/projects/{pid}/{rest}", headers=owner.headers, timeout=120, **kw
        )
        assert r.status_code == 502, (method, rest, r.status_code, r.text)
        msg = r.json()["message"]
        assert "unavailable" in msg and "Try again" in msg and "hub admin" in msg


@pytest.mark.slow
def test_big_transfers_are_streamed_with_bounded_service_memory(platform):
    """300 MB up and down through the service: its memory grows by far less than the file."""
    import threading

    service = service_process(platform)
    owner = platform.user()
    pid = platform.project(owner)["id"]
    url = f"{platform.api}/projects/{pid}/files/big/stream.bin"
    size = 300 << 20
    block = os.urandom(1 << 20)
    peak = [service.memory_info().rss]
    base = peak[0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], service.memory_info().rss)
            done.wait(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        r = requests.put(
            url, data=(block for _ in range(size >> 20)), headers=owner.headers, timeout=600
        )
        assert r.status_code == 201, r.text
        assert r.json()["size"] == size
        got = 0
        with requests.get(url, headers=owner.headers, timeout=600, stream=True) as r:
            assert r.status_code == 200
            for chunk in r.iter_content(1 << 20):
                got += len(chunk)
        assert got == size
    finally:
        done.set()
        sampler.join()
    grown = (peak[0] - base) >> 20
    print(f"service RSS {base >> 20} MiB → peak {peak[0] >> 20} MiB (+{grown} MiB) for 300 MiB")
    assert grown < 100, f"the service grew by {grown} MiB while moving 300 MiB"


def test_upload_abandoned_half_way_leaves_nothing(s3_platform):
    """The client goes away after 10 MiB of a chunked upload (one S3 part already sent)."""
    import http.client
    import time
    from urllib.parse import urlparse

    p = s3_platform
    owner = p.user()
    pid = p.project(owner)["id"]
    u = urlparse(f"{p.api}/projects/{pid}/files/half.bin")
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    conn.putrequest("PUT", u.path)
    conn.putheader("Authorization", owner.headers["Authorization"])
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    block = os.urandom(1 << 20)
    for _ in range(10):
        conn.send(b"%x\r\n%s\r\n" % (len(block), block))
    prefix = f"{p.store_prefix}projects/{pid}/"

    def pending():
        uploads = p.s3.list_multipart_uploads(Bucket=p.bucket).get("Uploads", [])
        return [x for x in uploads if x["Key"].startswith(prefix)]

    deadline = time.monotonic() + 30
    while not pending() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert pending(), "the first 8 MiB part should be on its way to S3 by now"
    conn.sock.close()  # no terminating chunk: the upload is abandoned
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not pending():
            break
        time.sleep(0.5)
    else:
        pytest.fail("the multipart upload of an abandoned request was not aborted")
    assert p.s3.list_objects_v2(Bucket=p.bucket, Prefix=prefix).get("KeyCount", 0) == 0
    r = requests.get(f"{p.api}/projects/{pid}/files/half.bin", headers=owner.headers, timeout=30)
    assert r.status_code == 404
