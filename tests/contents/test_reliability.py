"""Reliability of the storage layer with real processes: a moto S3 server, real jupyter servers."""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
import pytest
from helpers import JupyterServer, TcpProxy
from moto_s3 import s3_client as s3
from nbformat.v4 import new_markdown_cell, new_notebook


def single_root_config(endpoint, bucket, prefix="root", user="alice", poll=0.3):
    return (
        f"c.DatadiveContentsManager.store_url = 's3://{bucket}/{prefix}'\n"
        f"c.DatadiveContentsManager.s3_endpoint_url = '{endpoint}'\n"
        "c.DatadiveContentsManager.s3_access_key_id = 'test'\n"
        "c.DatadiveContentsManager.s3_secret_access_key = 'test'\n"
        "c.DatadiveContentsManager.s3_check_folders = True\n"
        f"c.DatadiveContentsManager.poll_interval = {poll}\n"
        f"c.DatadiveContentsManager.username = '{user}'\n"
    )


def nb_model(text: str) -> dict:
    nb = new_notebook()
    nb.cells.append(new_markdown_cell(text))
    return {"type": "notebook", "content": nb}


def wait_for(cond, timeout=30, interval=0.2, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def stored(endpoint, bucket, key):
    try:
        return s3(endpoint).get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3(endpoint).exceptions.NoSuchKey:
        return None


@pytest.fixture
def servers(tmp_path):
    started: list[JupyterServer] = []

    def make(config: str, name: str) -> JupyterServer:
        srv = JupyterServer(str(tmp_path / f"root-{name}"), config, name=name)
        srv.start()
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()


@pytest.mark.slow
def test_endpoint_down_during_save_then_resumes(moto, s3_bucket, servers):
    port = moto.port
    proxy = TcpProxy(port)
    proxy.start()
    try:
        srv = servers(single_root_config(proxy.url, s3_bucket), "down")
        status, _ = srv.contents("PUT", "analysis.ipynb", nb_model("first"))
        assert status in (200, 201)
        proxy.stop()  # the S3 endpoint goes away
        status, body = srv.contents("PUT", "analysis.ipynb", nb_model("second, while S3 is down"))
        assert status == 503, body
        assert "not yet in the project store" in body["message"]
        assert proxy.url.split("//")[1] in body["message"], "the message names the endpoint"
        local = os.path.join(srv.root_dir, "analysis.ipynb")
        assert "second, while S3 is down" in Path(local).read_text(), "the local copy is kept"
        assert b"second" not in stored(moto.url, s3_bucket, "root/analysis.ipynb")
        proxy.start()  # the endpoint returns: the journaled upload resumes by itself
        expected = Path(local).read_bytes()
        wait_for(
            lambda: stored(moto.url, s3_bucket, "root/analysis.ipynb") == expected,
            timeout=30,
            what="the pending save to reach S3",
        )
        status, model = srv.contents("GET", "analysis.ipynb")
        assert (
            status == 200 and model["content"]["cells"][0]["source"] == "second, while S3 is down"
        )
    finally:
        proxy.stop()


@pytest.mark.slow
def test_endpoint_cut_mid_multipart_save_then_resumes(moto, s3_bucket, servers):
    """The endpoint goes away in the middle of a multipart upload (a file above the working
    copy's 8 MiB threshold): clear 503, local copy kept, nothing partial stored, and once the
    endpoint is back the journaled upload completes by itself with identical bytes."""
    import base64
    import hashlib

    from datadive_contents.workingcopy import STREAM_THRESHOLD

    port = moto.port
    proxy = TcpProxy(port)
    proxy.start()
    client = s3(moto.url)
    try:
        srv = servers(single_root_config(proxy.url, s3_bucket, poll=0.5), "cut")
        assert srv.contents("GET", "")[0] == 200
        data = os.urandom(STREAM_THRESHOLD * 2 + (3 << 20))  # 3 parts of 8 MiB at most
        model = {"type": "file", "format": "base64", "content": base64.b64encode(data).decode()}
        # cut once the first part went through and the second is on its way
        proxy.cut_after(STREAM_THRESHOLD + (4 << 20))
        status, body = srv.contents("PUT", "data/big.bin", model, timeout=180)
        assert proxy.cut.is_set(), "the endpoint was cut during the save"
        assert status == 503, body
        assert "not yet in the project store" in body["message"], body
        assert "uploaded automatically" in body["message"]
        assert proxy.url.split("//")[1] in body["message"], "the message names the endpoint"
        # the cut really was mid-multipart: moto holds the started upload, no object exists
        uploads = client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", [])
        assert [u["Key"] for u in uploads] == ["root/data/big.bin"]
        assert stored(moto.url, s3_bucket, "root/data/big.bin") is None
        local = os.path.join(srv.root_dir, "data", "big.bin")
        with open(local, "rb") as f:
            assert f.read() == data, "the local copy is kept, complete"
        time.sleep(1.5)  # scans while the endpoint is down keep the file pending
        assert stored(moto.url, s3_bucket, "root/data/big.bin") is None
        proxy.start()  # the endpoint returns
        wait_for(
            lambda: stored(moto.url, s3_bucket, "root/data/big.bin") is not None,
            timeout=90,
            what="the journaled upload to complete",
        )
        got = stored(moto.url, s3_bucket, "root/data/big.bin")
        assert hashlib.sha256(got).hexdigest() == hashlib.sha256(data).hexdigest()
        assert got == data, "byte-identical"
        head = client.head_object(Bucket=s3_bucket, Key="root/data/big.bin")
        assert head["ETag"].strip('"').endswith("-3"), "stored as a 3-part multipart upload"
        # the upload the outage interrupted was aborted once the endpoint answered again
        assert client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []
        status, listing = srv.contents("GET", "data")
        assert status == 200 and [e["name"] for e in listing["content"]] == ["big.bin"]
        assert listing["content"][0]["size"] == len(data)
    finally:
        proxy.stop()


@pytest.mark.slow
def test_sigkill_after_acknowledged_save_loses_nothing(moto, s3_bucket, servers, tmp_path):
    cfg = single_root_config(moto.url, s3_bucket, poll=30)  # no periodic help: only the journal
    srv = servers(cfg, "kill")
    status, _ = srv.contents(
        "PUT", "data/result.txt", {"type": "file", "format": "text", "content": "42\n"}
    )
    assert status in (200, 201)
    # a file a kernel wrote just before the crash (not yet uploaded: the scan runs every 30 s)
    kernel_file = os.path.join(srv.root_dir, "data", "from_kernel.csv")
    with open(kernel_file, "w") as f:
        f.write("a,b\n1,2\n")
    srv.kill()  # SIGKILL
    assert stored(moto.url, s3_bucket, "root/data/result.txt") == b"42\n", "acknowledged = stored"
    # restart on the same working copy: what the kernel wrote is uploaded at start-up
    srv2 = JupyterServer(
        srv.root_dir, single_root_config(moto.url, s3_bucket, poll=30), name="kill2"
    )
    srv2.start()
    try:
        wait_for(
            lambda: stored(moto.url, s3_bucket, "root/data/from_kernel.csv") == b"a,b\n1,2\n",
            timeout=30,
            what="the kernel-written file to be uploaded after restart",
        )
    finally:
        srv2.stop()


@pytest.mark.slow
def test_sigterm_flushes_kernel_written_files(moto, s3_bucket, servers):
    srv = servers(single_root_config(moto.url, s3_bucket, poll=60), "term")
    srv.contents("GET", "")  # mount the store
    with open(os.path.join(srv.root_dir, "figure.svg"), "w") as f:
        f.write("<svg/>")
    srv.stop()  # SIGTERM
    assert srv.proc.returncode is not None
    assert stored(moto.url, s3_bucket, "root/figure.svg") == b"<svg/>"


@pytest.mark.slow
def test_two_users_save_same_notebook_conflict_surfaced(moto, s3_bucket, servers):
    alice = servers(single_root_config(moto.url, s3_bucket, user="alice"), "alice")
    bob = servers(single_root_config(moto.url, s3_bucket, user="bob"), "bob")
    status, _ = alice.contents("PUT", "shared.ipynb", nb_model("original"))
    assert status in (200, 201)
    assert alice.contents("GET", "shared.ipynb")[0] == 200
    assert bob.contents("GET", "shared.ipynb")[0] == 200
    assert alice.contents("PUT", "shared.ipynb", nb_model("alice's edit"))[0] == 200
    status, body = bob.contents("PUT", "shared.ipynb", nb_model("bob's edit"))
    assert status == 409, body
    assert "changed by someone else" in body["message"]
    conflict_name = body["message"].split("yours was saved as ")[1].split(".ipynb")[0] + ".ipynb"
    assert conflict_name.startswith("shared.conflict-bob-")
    # both versions recoverable: alice's stays current, bob's is the conflict copy
    cur = nbformat.reads(stored(moto.url, s3_bucket, "root/shared.ipynb").decode(), 4)
    assert cur.cells[0].source == "alice's edit"
    mine = nbformat.reads(stored(moto.url, s3_bucket, f"root/{conflict_name}").decode(), 4)
    assert mine.cells[0].source == "bob's edit"
    status, model = bob.contents("GET", "shared.ipynb")
    assert model["content"]["cells"][0]["source"] == "alice's edit", "bob now sees alice's version"
    status, listing = bob.contents("GET", "")
    assert conflict_name in [e["name"] for e in listing["content"]]
    versions = s3(moto.url).list_object_versions(Bucket=s3_bucket, Prefix="root/shared.ipynb")
    assert len([v for v in versions["Versions"] if v["Key"] == "root/shared.ipynb"]) == 2


HOSTILE = [
    "/etc/passwd",  # absolute (an absolute path inside the project: Alpha//etc/passwd)
    "a\x00b.txt",  # a literal NUL (sent percent-encoded, decoded by the server)
    "\x00",
    "..",
    "../secret.txt",
    "../../outside.txt",
    "a/../../outside.txt",
    "%2e%2e/outside.txt",
    "%252e%252e/outside.txt",
    "..%2foutside.txt",
    "..%5coutside.txt",
    "a%00b.txt",
    "..\\outside.txt",
    "a\\..\\..\\outside.txt",
    "\uff0e\uff0e/outside.txt",
    "\u2025/outside.txt",
    "a\u2215..\u2215b",
    "x\u202egnp.exe",
    "zero\u200bwidth.txt",
    "ctrl\x07.txt",
    "line\nbreak.txt",
    "x" * 300 + ".txt",
    "/".join(["d" * 200] * 6) + "/f.txt",
    ".datadive-versions/x",
]


@pytest.mark.slow
def test_hostile_paths_rejected_and_confined(moto, s3_bucket, servers, tmp_path):
    from urllib.parse import quote

    client = s3(moto.url)
    client.put_object(Bucket=s3_bucket, Key="projects/p2/secret.txt", Body=b"other project")
    client.put_object(Bucket=s3_bucket, Key="outside.txt", Body=b"bucket root")
    cfg = (
        "from datadive_contents.stores.s3 import S3Store\n"
        "c.DatadiveContentsManager.project_source = lambda: "
        "[{'id': 'p1', 'name': 'Alpha', 'role': 'editor'}]\n"
        f"c.DatadiveContentsManager.project_store_factory = lambda pid: S3Store('{s3_bucket}', "
        f"'projects/' + pid, endpoint_url='{moto.url}', access_key_id='test', "
        "secret_access_key='test', check_folders=True)\n"
        "c.DatadiveContentsManager.poll_interval = 0.3\n"
    )
    srv = servers(cfg, "hostile")
    sentinel = tmp_path / "outside.txt"
    sentinel.write_text("on disk outside")
    before = sorted(os.listdir(tmp_path))
    assert (
        srv.contents("PUT", "Alpha/ok.txt", {"type": "file", "format": "text", "content": "ok"})[0]
        == 201
    )
    body = {"type": "file", "format": "text", "content": "pwned"}
    # plus the absolute path of a real file next to the working copy
    corpus = [*HOSTILE, str(sentinel)]
    for bad in corpus:
        for enc in (quote(bad, safe="/"), quote(bad, safe="")):
            for method, payload in (
                ("GET", None),
                ("PUT", body),
                ("DELETE", None),
                ("PATCH", {"path": "Alpha/" + bad}),
                ("PATCH", {"path": bad}),
            ):
                url = "/api/contents/Alpha/" + enc
                if method == "PATCH":
                    url = "/api/contents/Alpha/ok.txt"
                status, resp = srv.request(method, url, payload)
                assert 400 <= status < 500, (method, enc, payload, status, resp)
    time.sleep(1)  # let the periodic scan run once
    keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket=s3_bucket)["Contents"])
    assert [k for k in keys if not k.startswith("projects/p1/")] == [
        "outside.txt",
        "projects/p2/secret.txt",
    ]
    assert (
        client.get_object(Bucket=s3_bucket, Key="projects/p2/secret.txt")["Body"].read()
        == b"other project"
    )
    assert client.get_object(Bucket=s3_bucket, Key="outside.txt")["Body"].read() == b"bucket root"
    assert [k for k in keys if k.startswith("projects/p1/")] == ["projects/p1/ok.txt"]
    assert sentinel.read_text() == "on disk outside"
    assert sorted(os.listdir(tmp_path)) == before, "nothing written next to the working copy"
    assert set(os.listdir(srv.root_dir)) <= {"Alpha", ".datadive-workingcopy"}
    alpha = os.path.join(srv.root_dir, "Alpha")  # a link to the project's working copy
    on_disk = [
        os.path.relpath(os.path.join(d, f), alpha)
        for d, _, fs in os.walk(alpha)
        for f in fs
        if not f.startswith(".datadive-")  # the marker naming the project
    ]
    assert on_disk == ["ok.txt"]
    outside_copies = [
        os.path.join(d, f)
        for d, _, fs in os.walk(srv.root_dir)
        for f in fs
        if ".datadive-workingcopy" not in d and not os.path.islink(os.path.join(d, f))
    ]
    assert outside_copies == [], "no file outside the working copies"


@pytest.mark.slow
def test_viewer_project_is_read_only(moto, s3_bucket, servers):
    client = s3(moto.url)
    client.put_object(Bucket=s3_bucket, Key="projects/p9/report.txt", Body=b"read me")
    cfg = (
        "from datadive_contents.stores.s3 import S3Store\n"
        "c.DatadiveContentsManager.project_source = lambda: "
        "[{'id': 'p9', 'name': 'Shared', 'role': 'viewer'}, {'id': 'p8', 'name': 'Shared', 'role': 'owner'}]\n"
        f"c.DatadiveContentsManager.project_store_factory = lambda pid: S3Store('{s3_bucket}', "
        f"'projects/' + pid, endpoint_url='{moto.url}', access_key_id='test', secret_access_key='test')\n"
    )
    srv = servers(cfg, "viewer")
    status, root = srv.contents("GET", "")
    assert status == 200
    folders = {e["name"]: e for e in root["content"]}
    assert set(folders) == {"Shared", "Shared (2)"}, "duplicate project names are disambiguated"
    viewer_folder = "Shared" if not folders["Shared"]["writable"] else "Shared (2)"
    status, model = srv.contents("GET", f"{viewer_folder}/report.txt")
    assert status == 200 and model["content"] == "read me" and model["writable"] is False
    status, body = srv.contents(
        "PUT",
        f"{viewer_folder}/report.txt",
        {"type": "file", "format": "text", "content": "changed"},
    )
    assert status == 403 and "viewer" in body["message"]
    assert (
        client.get_object(Bucket=s3_bucket, Key="projects/p9/report.txt")["Body"].read()
        == b"read me"
    )
