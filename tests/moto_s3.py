"""The one moto launcher: a real moto S3 server subprocess on 127.0.0.1 (the ``moto`` fixture of
tests/conftest.py, the storage and file tests, and benchmarks/ all use it)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

import boto3
from datadive_platform import free_port

VENV_BIN = os.path.dirname(sys.executable)
#: moto accepts any keys; every client in the tests uses these
KEYS = dict(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")


def wait_http(url: str, timeout: float = 30, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


class MotoServer:
    """A moto S3 server subprocess on 127.0.0.1 (stop()/start() keep the port; state is lost
    on stop, so tests that need state across a restart use ``pause``/``resume`` (SIGSTOP))."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        #: where moto's recorder writes the requests it sees (see ``recording``)
        self.recording_path = os.path.join(tempfile.gettempdir(), f"moto-{uuid.uuid4().hex}.jsonl")

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [os.path.join(VENV_BIN, "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "MOTO_RECORDER_FILEPATH": self.recording_path},
        )
        wait_http(self.url + "/moto-api/", 30, self.proc)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def pause(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)

    @contextlib.contextmanager
    def recording(self):
        """The server's own request log while the block runs: yields a list that holds, after
        the block, one ``{"method", "url", "headers"}`` per request the endpoint received."""
        requests: list[dict] = []
        api = self.url + "/moto-api/recorder/"
        urllib.request.urlopen(urllib.request.Request(api + "reset-recording", method="POST"))
        urllib.request.urlopen(urllib.request.Request(api + "start-recording", method="POST"))
        try:
            yield requests
        finally:
            urllib.request.urlopen(urllib.request.Request(api + "stop-recording", method="POST"))
            with urllib.request.urlopen(api + "download-recording") as r:
                lines = r.read().decode().splitlines()
            for line in lines:
                entry = json.loads(line)
                requests.append({k: entry.get(k) for k in ("method", "url", "headers")})

    def client(self):
        """A boto3 S3 client on this server."""
        return s3_client(self.url)

    def make_bucket(self, name: str | None = None, versioning: bool = True) -> str:
        """Create bucket ``name`` (default: a fresh name), versioned unless told otherwise."""
        return make_bucket(self.url, name, versioning)


def s3_client(url: str):
    """A boto3 S3 client on the moto server at ``url``."""
    return boto3.client("s3", endpoint_url=url, **KEYS)


def make_bucket(
    url: str, name: str | None = None, versioning: bool = True, prefix: str = "dd"
) -> str:
    """Create bucket ``name`` (default: a fresh ``<prefix>-...`` name) on the moto server at
    ``url``, versioned unless told otherwise."""
    name = name or f"{prefix}-{uuid.uuid4().hex[:12]}"
    s3 = s3_client(url)
    s3.create_bucket(Bucket=name)
    if versioning:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name
