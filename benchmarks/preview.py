"""Preview 100 rows of a 100 MB CSV on S3 (moto) through the Datadive service while the owner's
server is stopped, versus spawning the owner's server and reading the file through it.

Run on its own: ``python benchmarks/preview.py`` (the last line of output is one JSON object):

- ``preview_100mb_s``: median latency of ``GET .../preview/big.csv?rows=100`` (5 runs, after one
  warm-up), through the proxy, with no user server running;
- ``preview_100mb_bytes_read``: bytes the service read from S3 for one preview;
- ``preview_first_s``: the first (cold) preview;
- ``raw_range_get_64k_s``: one raw 64 KiB ranged GET of the same object straight from the endpoint
  (the floor: moto reads the whole object for a ranged GET, so on moto this grows with the
  object's size, unlike S3);
- ``spawn_and_read_s``: starting the owner's server until the same file has been opened through
  it (Lab's way: the contents API, which brings the file into the server's working copy).

Targets: preview under 0.1 s reading under 2 MB.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for p in (str(ROOT / "tests"), str(ROOT / "contents"), str(ROOT)):
    if p not in sys.path:
        sys.path.insert(0, p)
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(ROOT), str(ROOT / "contents")]
    + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])
)

import boto3  # noqa: E402
import requests  # noqa: E402

SIZE = 100 * 10**6
ROWS = 100


def make_csv(size: int = SIZE) -> bytes:
    """A CSV of about ``size`` bytes: id, score, group, timestamp, flag, free text."""
    header = b"id,score,group,when,ok,comment\n"
    lines = []
    total = len(header)
    i = 0
    while total < size:
        line = (
            f"{i},{(i * 7919 % 10007) / 10007:.6f},{'control' if i % 2 else 'treated'},"
            f"2024-01-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00,{i % 3 == 0},"
            f"participant note number {i} with some padding text\n"
        ).encode()
        lines.append(line)
        total += len(line)
        i += 1
    return header + b"".join(lines)


def _wait_ready(platform, name: str, timeout: float = 180) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server = platform.hub("GET", f"users/{name}").json().get("servers", {}).get("")
        if server and server.get("ready"):
            return server["url"]
        time.sleep(0.2)
    raise TimeoutError(f"{name}'s server did not become ready within {timeout}s")


def _find_in_server(base: str, headers: dict, project: dict, filename: str) -> str:
    """Path of ``filename`` in the project's folder as the user's server shows it."""
    root = requests.get(f"{base}api/contents/", headers=headers, timeout=120).json()
    for entry in root.get("content") or []:
        if entry["type"] == "directory" and (
            entry["name"] == project["name"] or project["id"] in entry["path"]
        ):
            return f"{entry['path']}/{filename}"
    raise RuntimeError(f"project {project['name']!r} not shown by the user's server: {root}")


def measure_preview() -> dict:
    """Run the measurement (starts moto and ``datadive up`` on S3; stops both)."""
    from datadive_platform import start_platform, stop_platform
    from moto_s3 import MotoServer

    moto = MotoServer()
    moto.start()
    s3 = boto3.client(
        "s3",
        endpoint_url=moto.url,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )
    bucket = "datadive-bench"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    env = {
        "DATADIVE_STORE_URL": f"s3://{bucket}/dd?endpoint_url={moto.url}",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    tmp = Path(tempfile.mkdtemp(prefix="datadive-bench-preview-"))
    platform = start_platform(tmp, extra_env=env)
    try:
        owner = platform.user()
        project = platform.project(owner)
        data = make_csv()
        s3.put_object(Bucket=bucket, Key=f"dd/projects/{project['id']}/big.csv", Body=data)
        assert not platform.hub("GET", f"users/{owner.name}").json().get("servers")

        url = f"{platform.api}/projects/{project['id']}/preview/big.csv"
        session = requests.Session()
        session.headers.update(owner.headers)
        times = []
        result = None
        for _ in range(6):
            t = time.perf_counter()
            r = session.get(url, params={"rows": ROWS}, timeout=120)
            times.append(time.perf_counter() - t)
            r.raise_for_status()
            result = r.json()
            assert len(result["rows"]) == ROWS
        first, steady = times[0], times[1:]
        # the floor set by the endpoint: one raw 64 KiB ranged GET of the same object (moto reads
        # the whole object for a ranged GET, so this grows with the object's size; S3 does not)
        raw = []
        for _ in range(5):
            t = time.perf_counter()
            s3.get_object(
                Bucket=bucket, Key=f"dd/projects/{project['id']}/big.csv", Range="bytes=0-65535"
            )["Body"].read()
            raw.append(time.perf_counter() - t)

        # the peer path: spawn the owner's server, open the file through it
        t = time.perf_counter()
        r = platform.hub("POST", f"users/{owner.name}/server")
        assert r.status_code in (201, 202), r.text
        server_url = _wait_ready(platform, owner.name)
        base = platform.url + server_url
        path = _find_in_server(base, owner.headers, project, "big.csv")
        r = requests.get(
            f"{base}api/contents/{path}",
            headers=owner.headers,
            timeout=600,
            params={"type": "file", "format": "text", "content": "1"},
        )
        r.raise_for_status()
        text = r.json()["content"]
        head = text.split("\n", ROWS + 1)[: ROWS + 1]
        spawn_and_read = time.perf_counter() - t
        assert len(head) == ROWS + 1
        platform.stop_server(owner.name)
        return {
            "preview_100mb_s": round(statistics.median(steady), 4),
            "preview_100mb_bytes_read": result["bytes_read"],
            "preview_first_s": round(first, 4),
            "raw_range_get_64k_s": round(statistics.median(raw), 4),
            "preview_100mb_requests": result["requests"],
            "file_bytes": len(data),
            "spawn_and_read_s": round(spawn_and_read, 3),
        }
    finally:
        stop_platform(platform.proc)
        moto.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    out = measure_preview()
    for k, v in out.items():
        print(f"{k:28s} {v}", file=sys.stderr)
    print(json.dumps(out))
