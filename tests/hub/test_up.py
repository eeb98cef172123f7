"""`datadive up`: prints how to sign in, keeps data across restarts, Ctrl-C stops everything."""

import os
import re
import signal
import subprocess
import sys
import time

import psutil
import pytest
import requests
from datadive_platform import free_port

pytestmark = pytest.mark.hub


def ignore_sigint():
    """What a shell does to a job started with ``&`` (or ``nohup``): SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def start(data_dir, port, preexec_fn=None):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "datadive_hub.cli",
            "up",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=preexec_fn,
    )
    lines = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Press Ctrl-C to stop" in line:
            return proc, "".join(lines)
    proc.kill()
    raise AssertionError("datadive up did not start:\n" + "".join(lines))


def sign_in(url, name, password) -> bool:
    s = requests.Session()
    s.get(f"{url}/hub/login", timeout=30)
    r = s.post(
        f"{url}/hub/login",
        data={"username": name, "password": password, "_xsrf": s.cookies.get("_xsrf")},
        timeout=30,
    )
    return r.status_code == 200 and "Invalid username or password" not in r.text


def stop(proc, sig=signal.SIGINT) -> list:
    """Ctrl-C (or ``sig``); returns the processes that were its children and are still alive."""
    children = psutil.Process(proc.pid).children(recursive=True)
    assert children, "datadive up should have started JupyterHub, the proxy and the service"
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=60)
    assert "Stopped." in out
    gone, alive = psutil.wait_procs(children, timeout=10)
    return [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def test_first_start_restart_and_clean_stop(tmp_path):
    data = tmp_path / "data"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc, out = start(data, port)
    assert f"Datadive is running at {url}/" in out
    assert "[1/4]" in out and "[4/4]" in out  # progress while starting
    # whether users are kept apart is said at start-up (here pytest's 0700 temp dir keeps
    # other accounts out of the homes, so: single-user, and why)
    assert re.search(r"^(Users are isolated|Single-user): ", out, re.M), out
    assert re.search(r"Users:\s+(isolated|single-user)", out), out
    password = re.search(r"Password:\s+(\S+)", out).group(1)
    assert sign_in(url, "admin", password)
    s = requests.Session()
    s.get(f"{url}/hub/login", timeout=30)
    r = s.post(
        f"{url}/hub/login",
        data={"username": "admin", "password": "wrong", "_xsrf": s.cookies.get("_xsrf")},
        timeout=30,
    )
    assert "Invalid username or password" in r.text
    # create something through the API with a token for admin
    hub = requests.Session()
    hub.get(f"{url}/hub/login", timeout=30)
    hub.post(
        f"{url}/hub/login",
        data={"username": "admin", "password": password, "_xsrf": hub.cookies.get("_xsrf")},
        timeout=30,
    )
    r = hub.post(
        f"{url}/hub/api/users/admin/tokens",
        json={"note": "t"},
        headers={"X-XSRFToken": hub.cookies.get("_xsrf")},
        timeout=30,
    )
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    headers = {"Authorization": f"token {token}"}
    r = requests.post(
        f"{url}/services/datadive/api/v1/projects",
        json={"name": "Kept"},
        headers=headers,
        timeout=30,
    )
    assert r.status_code == 201, r.text

    assert stop(proc) == [], "every child process must be gone after Ctrl-C"

    proc, out = start(data, port)
    try:
        assert "shown only this once" not in out  # the password is not reset
        assert sign_in(url, "admin", password)
        r = requests.get(f"{url}/services/datadive/api/v1/projects", headers=headers, timeout=30)
        assert r.status_code == 200, r.text
        assert [p["name"] for p in r.json()["projects"]] == ["Kept"]
    finally:
        assert stop(proc) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_started_in_the_background_stops_on_sigint_and_sigterm(tmp_path, sig):
    """``datadive up &`` (SIGINT ignored, as a shell does for background jobs): kill -INT and
    kill -TERM both stop the hub, the proxy, the service and the user servers."""
    proc, _ = start(tmp_path / "data", free_port(), preexec_fn=ignore_sigint)
    try:
        # the hub does not inherit the ignore (it stops user servers with SIGINT)
        for child in psutil.Process(proc.pid).children():
            status = open(f"/proc/{child.pid}/status").read()
            ignored = int(re.search(r"^SigIgn:\s+([0-9a-f]+)", status, re.M).group(1), 16)
            assert not ignored & (1 << (signal.SIGINT - 1)), f"{child.cmdline()} ignores SIGINT"
        assert stop(proc, sig) == [], f"every child process must be gone after {sig.name}"
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_bootstrap_token_is_an_admin_token(platform):
    r = platform.hub("GET", "user")
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "admin" and r.json()["admin"] is True
    r = platform.hub("GET", "users")
    assert r.status_code == 200


def test_a_failed_start_says_why_and_leaves_no_process(tmp_path):
    """The service cannot start (a bad setting): datadive up exits non-zero with the hub's log
    and stops the proxy JupyterHub had started."""
    bad = tmp_path / "service_config.py"
    bad.write_text('c.DatadiveService.max_upload_bytes = "not a number"\n')
    port = free_port()
    env = {**os.environ, "DATADIVE_SERVICE_CONFIG": str(bad)}
    cmd = [sys.executable, "-m", "datadive_hub.cli", "up", "--port", str(port)]
    cmd += ["--data-dir", str(tmp_path / "data")]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    assert out.returncode != 0
    assert "Service datadive exited" in out.stdout + out.stderr
    left = [
        p
        for p in psutil.process_iter(["cmdline"])
        if "configurable-http-proxy" in " ".join(p.info["cmdline"] or [])
        and f"--port {port}" in " ".join(p.info["cmdline"] or [])
    ]
    assert left == [], "the proxy of a hub that failed to start must be stopped"
