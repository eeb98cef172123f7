"""With the Datadive service frozen (SIGSTOP) or killed, a user's server keeps its files.

The server uses the last project list it knew, lists and opens files from its working copy,
and a save answers 503 "saved on this server" within ``save_upload_timeout`` (never a 500),
journaled, so the file reaches the store once the service answers again. Runs on a platform of
its own: freezing the shared one would stall every other test.
"""

from __future__ import annotations

import os
import signal
import time
from urllib.parse import quote

import pytest
import requests
from datadive_platform import service_process, start_platform, stop_platform

from .test_project_binding import Server, put, stored

pytestmark = [pytest.mark.hub, pytest.mark.slow]


@pytest.fixture(scope="module")
def own_platform(tmp_path_factory):
    p = start_platform(tmp_path_factory.mktemp("outage"))
    yield p
    stop_platform(p.proc)


def save(srv: Server, path: str, text: str) -> tuple[requests.Response, float]:
    t0 = time.monotonic()
    r = requests.put(
        f"{srv.base}api/contents/{quote(path)}",
        headers=srv.user.headers,
        json={"type": "file", "format": "text", "content": text},
        timeout=120,
    )
    return r, time.monotonic() - t0


def test_frozen_service_saves_are_kept_and_uploaded_later(own_platform):
    platform = own_platform
    alice = platform.user()
    project = platform.project(alice, "Field study")
    pid = project["id"]
    put(platform, alice, pid, "survey.csv", b"id\n1\n")
    srv = Server(platform, alice)
    try:
        assert "survey.csv" in {e["name"] for e in srv.contents("Field study").json()["content"]}
        assert srv.contents("Field study/survey.csv").status_code == 200  # opened once: local
        service = service_process(platform).pid
        os.kill(service, signal.SIGSTOP)
        try:
            time.sleep(11)  # the server's cached project list (10 s) has expired
            t0 = time.monotonic()
            r = srv.contents("")
            took = time.monotonic() - t0
            assert r.status_code == 200, r.text
            assert [e["name"] for e in r.json()["content"]] == ["Field study"]
            assert took < 12, f"the last known project list took {took:.1f}s"
            r = srv.contents("Field study")
            assert r.status_code == 200, r.text
            assert "survey.csv" in {e["name"] for e in r.json()["content"]}
            r = srv.contents("Field study/survey.csv")
            assert r.status_code == 200 and r.json()["content"] == "id\n1\n", r.text
            r, took = save(srv, "Field study/notes.md", "written while the service hung\n")
            assert r.status_code == 503, r.text
            assert "saved on this server" in r.json()["message"], r.text
            assert took < 30, f"the save answered after {took:.1f}s"
            sync = srv.sync()
            assert sync["pending"] >= 1, sync
        finally:
            os.kill(service, signal.SIGCONT)
        srv.wait_until(
            "notes.md in the store after the service came back",
            lambda: (
                stored(platform, alice, pid).get("notes.md") == b"written while the service hung\n"
            ),
            timeout=60,
        )
    finally:
        srv.stop()


def test_killed_service_never_loses_a_save(own_platform):
    platform = own_platform
    bob = platform.user()
    project = platform.project(bob, "Pilot")
    srv = Server(platform, bob)
    try:
        assert "Pilot" in srv.folders()
        time.sleep(11)  # the next request asks the service for the project list again
        os.kill(service_process(platform).pid, signal.SIGKILL)
        r, _ = save(srv, "Pilot/results.md", "saved while the service was down\n")
        # JupyterHub restarts a managed service that died; the save lands before or after
        assert r.status_code in (200, 201, 503), r.text
        if r.status_code == 503:
            assert "saved on this server" in r.json()["message"], r.text
        assert srv.contents("").status_code == 200
        srv.wait_until(
            "results.md in the store",
            lambda: (
                _stored_or_none(platform, bob, project["id"], "results.md")
                == b"saved while the service was down\n"
            ),
            timeout=120,
        )
    finally:
        srv.stop()


def _stored_or_none(platform, user, project_id, path):
    try:
        return stored(platform, user, project_id).get(path)
    except (AssertionError, requests.RequestException):
        return None  # the service is still restarting
