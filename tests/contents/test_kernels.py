"""Kernels see ordinary files: cwd in the project's working copy, files they write get uploaded."""

from __future__ import annotations

import asyncio
import os
import time

import boto3
import pytest
from helpers import JupyterServer
from test_reliability import nb_model, wait_for
from user_server import execute as run_code


def execute(srv: JupyterServer, kernel_id: str, code: str, timeout: float = 60) -> str:
    """Run ``code`` in the kernel through the server's websocket; return its stdout."""
    url = f"ws://127.0.0.1:{srv.port}/api/kernels/{kernel_id}/channels?token={srv.token}"
    result = asyncio.run(run_code(url, code, {}, timeout))
    assert result["error"] is None, f"kernel error: {result['error']}"
    return result["stdout"]


@pytest.mark.slow
def open_notebook_session(srv: JupyterServer, path: str) -> dict:
    """Save an empty notebook at ``path`` and start a kernel session for it, as Lab does."""
    assert srv.contents("PUT", path, nb_model(path.rsplit("/", 1)[-1][:-6]))[0] == 201
    status, session = srv.request(
        "POST",
        "/api/sessions",
        {
            "path": path,
            "type": "notebook",
            "name": path.rsplit("/", 1)[-1],
            "kernel": {"name": "python3"},
        },
    )
    assert status == 201, session
    return session


def test_kernel_reads_and_writes_project_files(moto, s3_bucket, tmp_path):
    s3 = boto3.client(
        "s3",
        endpoint_url=moto.url,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )
    # written by another tool straight into the bucket: no folder markers
    s3.put_object(Bucket=s3_bucket, Key="projects/p1/data/survey.csv", Body=b"a,b\n1,2\n3,4\n")
    cfg = (
        "from datadive_contents.stores.s3 import S3Store\n"
        "c.DatadiveContentsManager.project_source = lambda: [{'id': 'p1', 'name': 'Alpha', 'role': 'owner'}]\n"
        f"c.DatadiveContentsManager.project_store_factory = lambda pid: S3Store('{s3_bucket}', "
        f"'projects/' + pid, endpoint_url='{moto.url}', access_key_id='test', secret_access_key='test')\n"
        "c.DatadiveContentsManager.poll_interval = 0.5\n"
    )
    srv = JupyterServer(str(tmp_path / "home"), cfg, name="kernel")
    srv.start()
    try:
        status, listing = srv.contents("GET", "Alpha/data")
        assert status == 200 and [e["name"] for e in listing["content"]] == ["survey.csv"]
        session = open_notebook_session(srv, "Alpha/data/analysis.ipynb")
        code = (
            "import os, pandas as pd\n"
            "df = pd.read_csv('survey.csv')\n"
            "df.assign(c=df.a * 2).to_csv('out.csv', index=False)\n"
            "print(os.getcwd()); print(len(df))\n"
        )
        out = execute(srv, session["kernel"]["id"], code).split()
        assert out[0] == os.path.realpath(tmp_path / "home" / "Alpha" / "data"), (
            "kernel cwd = the notebook's folder (Alpha is a link to the project's working copy)"
        )
        assert "/.datadive-workingcopy/projects/p1/" in out[0], "bound to the project id"
        assert out[1] == "2", "the kernel read survey.csv from the working copy"
        wait_for(
            lambda: _get(s3, s3_bucket, "projects/p1/data/out.csv") == b"a,b,c\n1,2,2\n3,4,6\n",
            timeout=20,
            what="out.csv written by the kernel to reach the store",
        )
        status, listing = srv.contents("GET", "Alpha/data")
        assert "out.csv" in [e["name"] for e in listing["content"]]
        srv.request("DELETE", f"/api/sessions/{session['id']}")
    finally:
        srv.stop()


def _get(s3, bucket, key):
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception:
        return None


@pytest.mark.slow
def test_remote_change_is_pulled_on_listing_and_opening_and_kernel_sees_it(
    moto, s3_bucket, tmp_path
):
    """Another client writes to the store; the next listing (or opening) of the folder brings
    the change into the working copy, and the running kernel reads the new bytes."""
    s3 = boto3.client(
        "s3",
        endpoint_url=moto.url,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )
    key = "projects/p1/data/survey.csv"
    s3.put_object(Bucket=s3_bucket, Key=key, Body=b"a,b\n1,2\n3,4\n")
    cfg = (
        "from datadive_contents.stores.s3 import S3Store\n"
        "c.DatadiveContentsManager.project_source = lambda: [{'id': 'p1', 'name': 'Alpha', 'role': 'owner'}]\n"
        f"c.DatadiveContentsManager.project_store_factory = lambda pid: S3Store('{s3_bucket}', "
        f"'projects/' + pid, endpoint_url='{moto.url}', access_key_id='test', secret_access_key='test')\n"
        "c.DatadiveContentsManager.poll_interval = 0.5\n"
    )
    srv = JupyterServer(str(tmp_path / "home"), cfg, name="remote")
    srv.start()
    read = "print(open('survey.csv').read().replace(chr(10), '|'))"
    try:
        session = open_notebook_session(srv, "Alpha/data/analysis.ipynb")
        kid = session["kernel"]["id"]
        assert execute(srv, kid, read).strip() == "a,b|1,2|3,4|"
        # another client changes the file in the store (same size: only the ETag tells)
        s3.put_object(Bucket=s3_bucket, Key=key, Body=b"a,b\n5,6\n7,8\n")
        # another client adds a file and removes nothing
        s3.put_object(Bucket=s3_bucket, Key="projects/p1/data/extra.csv", Body=b"x\n9\n")
        time.sleep(1.2)  # periodic scans upload, they do not pull: still the old bytes
        assert execute(srv, kid, read).strip() == "a,b|1,2|3,4|"
        status, listing = srv.contents("GET", "Alpha/data")
        assert status == 200
        assert {e["name"] for e in listing["content"]} == {
            "survey.csv",
            "analysis.ipynb",
            "extra.csv",
        }
        assert execute(srv, kid, read).strip() == "a,b|5,6|7,8|", "the listing pulled the change"
        assert execute(srv, kid, "print(open('extra.csv').read().split())").strip() == "['x', '9']"
        # opening the file pulls too
        s3.put_object(Bucket=s3_bucket, Key=key, Body=b"a,b\n0,0\n")
        status, model = srv.contents("GET", "Alpha/data/survey.csv")
        assert status == 200 and model["content"] == "a,b\n0,0\n"
        assert execute(srv, kid, read).strip() == "a,b|0,0|", "opening pulled the change"
        # pandas in the kernel sees it as well
        out = execute(srv, kid, "import pandas as pd; print(pd.read_csv('survey.csv').a.tolist())")
        assert out.strip() == "[0]"
        # the pulls did not come back as uploads: the store still has the other client's bytes
        time.sleep(1.2)
        assert _get(s3, s3_bucket, key) == b"a,b\n0,0\n"
        srv.request("DELETE", f"/api/sessions/{session['id']}")
    finally:
        srv.stop()
