"""Service API benchmark: ``GET projects`` against JupyterHub's own ``GET /hub/api/user``, one run.

A real ``datadive up`` (JupyterHub + configurable-http-proxy + the Datadive service) with the
service's database on PostgreSQL at 127.0.0.1:5432 (a fresh database, dropped afterwards) holding
100,000 projects, 1,000 of which belong to the measured user. 32 concurrent clients (keep-alive
connections, one request at a time each) for 20 s per route, both through the proxy with the same
user's API token, after a warm-up.

Run: ``./dev bench`` or ``python benchmarks/service_api.py [--seconds S] [--projects N]``;
the last line of output is one JSON object with ``projects_p50_ms``, ``projects_p99_ms``,
``projects_rps``, ``hub_user_p50_ms``, ``hub_user_p99_ms``, ``hub_user_rps``, ``p99_ratio``
(projects / hub user; target <= 1.0), ``page_bytes_1000`` vs ``page_bytes_100000`` (a first page
must not grow with the number of projects), ``hub_user_server_cpu_ms`` / ``projects_server_cpu_ms``
(CPU time the answering process spent per request: JupyterHub's, the service's) and
``up_cold_start_s`` (a fresh ``datadive up`` on the embedded defaults until the service answers).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "contents"), str(ROOT / "tests")]

import aiohttp  # noqa: E402
import psutil  # noqa: E402
import psycopg  # noqa: E402
import requests  # noqa: E402
from datadive_platform import (  # noqa: E402
    PG_ADMIN_URL,
    pg_unreachable_reason,
    start_platform,
    stop_platform,
)

CLIENTS = 32
MINE = 1000


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def fill(db_url: str, owner_of, count: int, spread: int = 1, suffix: str = "") -> None:
    """``count`` projects with one owner each, ``owner_of(i)``, named ``Project <i*spread>``
    plus ``suffix`` so that separate fills interleave in the name order (COPY: takes seconds)."""
    projects, members = io.StringIO(), io.StringIO()
    for i in range(count):
        pid = uuid.uuid4().hex
        name = f"Project {i * spread:06d}{suffix}"
        owner = owner_of(i)
        projects.write(
            f"{pid}\t{name}\t{name.casefold()}\t\t{owner}\t2026-01-01\t2026-01-01\t\\N\n"
        )
        members.write(f"{pid}\tuser\t{owner}\towner\t2026-01-01\t{name.casefold()}\n")
    with psycopg.connect(db_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        with conn.cursor() as cur:
            with cur.copy(
                "COPY projects (id, name, name_key, description, created_by, created_at, "
                "updated_at, deleted_at) FROM STDIN"
            ) as cp:
                cp.write(projects.getvalue())
            with cur.copy(
                "COPY memberships (project_id, kind, name, role, created_at, project_key) FROM STDIN"
            ) as cp:
                cp.write(members.getvalue())
        conn.execute("ANALYZE")


async def load(url: str, token: str, seconds: float, clients: int) -> dict:
    """``clients`` concurrent loops of GET ``url`` for ``seconds``; latencies of 200 answers."""
    lat: list[float] = []
    errors = 0
    headers = {"Authorization": f"token {token}"}
    conn = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=conn, headers=headers) as session:

        async def one(until: float, record: bool) -> None:
            nonlocal errors
            while time.perf_counter() < until:
                t0 = time.perf_counter()
                async with session.get(url) as r:
                    await r.read()
                    ok = r.status == 200
                if record:
                    if ok:
                        lat.append((time.perf_counter() - t0) * 1000)
                    else:
                        errors += 1

        warm = time.perf_counter() + 2
        await asyncio.gather(*(one(warm, False) for _ in range(clients)))
        t0 = time.perf_counter()
        until = t0 + seconds
        await asyncio.gather(*(one(until, True) for _ in range(clients)))
        elapsed = time.perf_counter() - t0
    return {
        "p50_ms": round(statistics.median(lat), 2),
        "p99_ms": round(pct(lat, 99), 2),
        "rps": round(len(lat) / elapsed, 1),
        "requests": len(lat),
        "errors": errors,
    }


def server_processes(up_pid: int) -> tuple[psutil.Process, psutil.Process]:
    """The JupyterHub process and the Datadive service process under ``datadive up``."""
    kids = psutil.Process(up_pid).children(recursive=True)
    cmd = {k: " ".join(k.cmdline()) for k in kids}
    service = next(k for k in kids if "datadive_hub.service" in cmd[k])
    hub = next(
        k for k in kids if "jupyterhub" in cmd[k] and k is not service and "node" not in k.name()
    )
    return hub, service


def cpu_seconds(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return t.user + t.system


def cold_start(tmp: Path) -> float:
    """A fresh ``datadive up`` on the embedded defaults (SQLite, local store) until it answers."""
    (tmp / "cold").mkdir()
    t0 = time.perf_counter()
    p = start_platform(tmp / "cold")
    took = time.perf_counter() - t0
    stop_platform(p.proc)
    return round(took, 2)


def measure(platform, token: str, api: str, args, result: dict, keys: tuple[str, str]) -> None:
    """Load JupyterHub's GET /hub/api/user, then ``api``, with ``token``; figures into
    ``result`` under ``keys`` (hub's, ours)."""
    hub, service = server_processes(platform.proc.pid)
    for key, url, proc in (
        (keys[0], f"{platform.url}/hub/api/user", hub),
        (keys[1], api, service),
    ):
        log(f"{args.clients} clients for {args.seconds:.0f} s: GET {url}")
        cpu0 = cpu_seconds(proc)
        stats = asyncio.run(load(url, token, args.seconds, args.clients))
        stats["server_cpu_ms"] = round(
            (cpu_seconds(proc) - cpu0) / max(1, stats["requests"]) * 1000, 2
        )
        log(f"  {stats}")
        for k in ("p50_ms", "p99_ms", "rps", "errors", "server_cpu_ms"):
            result[f"{key}_{k}"] = stats[k]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--projects", type=int, default=100_000)
    ap.add_argument("--clients", type=int, default=CLIENTS)
    args = ap.parse_args()

    reason = pg_unreachable_reason()
    if reason:
        print(json.dumps({"skipped": reason}))
        return
    name = f"datadive_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    db_url = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    db_url += "/" + name
    result: dict = {"projects_total": args.projects, "projects_mine": MINE, "clients": args.clients}
    try:
        with tempfile.TemporaryDirectory(prefix="dd-bench-api-") as tmp:
            result["up_cold_start_s"] = cold_start(Path(tmp))
            log(f"cold start of datadive up: {result['up_cold_start_s']} s")
            (Path(tmp) / "pg").mkdir()
            platform = start_platform(Path(tmp) / "pg", db_url=db_url, db_kind="postgresql")
            try:
                user = platform.user("bench")
                api = f"{platform.api}/projects"
                others = args.projects - MINE
                fill(db_url, lambda i: "bench", MINE, spread=max(1, others // MINE))
                small = requests.get(api, headers=user.headers, timeout=30)  # 1,000 in the db
                fill(db_url, lambda i: f"other{i % 997}", others, suffix="x")
                big = requests.get(api, headers=user.headers, timeout=30)
                assert big.status_code == 200, big.text
                mine = len(big.json()["projects"])
                result["page_size"] = mine
                result["page_bytes_1000"] = len(small.content)
                result["page_bytes_100000"] = len(big.content)
                log(f"{args.projects} projects in the database; first page: {mine} projects")
                measure(platform, user.token, api, args, result, ("hub_user", "projects"))
            finally:
                stop_platform(platform.proc)
            # the same routes on a service whose project-list cache is off: every answer read
            # from PostgreSQL (the cache's miss path, what a first request costs)
            (Path(tmp) / "nocache").mkdir()
            config = Path(tmp) / "nocache" / "service_config.py"
            config.write_text("c.DatadiveService.project_list_cache_seconds = 0\n")
            platform = start_platform(
                Path(tmp) / "nocache",
                db_url=db_url,
                db_kind="postgresql",
                extra_env={"DATADIVE_SERVICE_CONFIG": str(config)},
            )
            try:
                user = platform.user("bench")
                api = f"{platform.api}/projects"
                measure(
                    platform,
                    user.token,
                    api,
                    args,
                    result,
                    ("nocache_hub_user", "nocache_projects"),
                )
            finally:
                stop_platform(platform.proc)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    for prefix in ("", "nocache_"):
        for p in ("p99", "p50"):
            result[f"{prefix}{p}_ratio"] = round(
                result[f"{prefix}projects_{p}_ms"] / result[f"{prefix}hub_user_{p}_ms"], 3
            )
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
