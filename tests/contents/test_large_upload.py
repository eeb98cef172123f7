"""A 1 GB upload through the contents API (chunked, as JupyterLab does) stays under 300 MB RSS."""

from __future__ import annotations

import base64
import hashlib
import os
import threading
import time

import boto3
import psutil
import pytest

from helpers import JupyterServer
from test_reliability import single_root_config

CHUNK = 1024 * 1024  # JupyterLab's upload chunk size
TOTAL_MB = int(os.environ.get("DATADIVE_LARGE_UPLOAD_MB", "1024"))
RSS_LIMIT = 300 * 1024 * 1024


@pytest.mark.slow
def test_1gb_chunked_upload_peak_rss(moto_server, s3_bucket, tmp_path):
    srv = JupyterServer(str(tmp_path / "root"), single_root_config(moto_server, s3_bucket), name="big")
    srv.start()
    peak = 0
    stop = threading.Event()
    proc = psutil.Process(srv.proc.pid)

    def sample():
        nonlocal peak
        while not stop.is_set():
            try:
                peak = max(peak, proc.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        block = os.urandom(CHUNK)
        md5 = hashlib.md5()
        t0 = time.monotonic()
        for i in range(1, TOTAL_MB + 1):
            data = block[i % 7 :] + block[: i % 7]  # every chunk differs a little
            md5.update(data)
            chunk = -1 if i == TOTAL_MB else i
            status, body = srv.contents(
                "PUT", "big/data.bin",
                {"type": "file", "format": "base64", "chunk": chunk,
                 "content": base64.b64encode(data).decode("ascii")},
                timeout=300,
            )
            assert status in (200, 201), body
        elapsed = time.monotonic() - t0
        assert body["size"] == TOTAL_MB * CHUNK
    finally:
        stop.set()
        sampler.join(5)
        srv.stop()
    s3 = boto3.client("s3", endpoint_url=moto_server, aws_access_key_id="test",
                      aws_secret_access_key="test", region_name="us-east-1")
    head = s3.head_object(Bucket=s3_bucket, Key="root/big/data.bin")
    assert head["ContentLength"] == TOTAL_MB * CHUNK
    h = hashlib.md5()
    for part in s3.get_object(Bucket=s3_bucket, Key="root/big/data.bin")["Body"].iter_chunks(8 << 20):
        h.update(part)
    assert h.hexdigest() == md5.hexdigest(), "the stored bytes are the uploaded bytes"
    print(f"\n1 GB chunked upload: {elapsed:.1f} s, server peak RSS {peak / 2**20:.0f} MB")
    assert peak < RSS_LIMIT, f"peak RSS {peak / 2**20:.0f} MB"
