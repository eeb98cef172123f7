"""On one machine, users are isolated from each other (``datadive up`` run as root).

A real ``datadive up`` as root: alice and bob each get a server; bob's kernel tries to read what
belongs to alice or to the platform (the store, the databases, the cookie secret, alice's home,
her kernel connection files, the hub's and the service's process environments) and every read
fails; alice's server still saves into the store and her kernel runs in her working copy.
Started without root, ``datadive up`` says that it is single-user.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import psutil
import pytest
import requests
from datadive_platform import ROOT, free_port, start_platform, stop_platform, unavailable
from user_server import execute, wait_for_server

from .server_python import NOBODY, reachable_python

pytestmark = pytest.mark.hub

# bob's kernel runs this with PATHS: each path → "ok" or the exception's name
PROBE = """
import json, os
seen = {}
for p in PATHS:
    try:
        if os.path.isdir(p):
            os.listdir(p)
        else:
            with open(p, "rb") as f:
                f.read(1)
        seen[p] = "ok"
    except Exception as e:
        seen[p] = type(e).__name__
print(json.dumps(seen))
"""


def _require_root_and_python() -> str:
    """The Python user servers run with; skipped (failed under CI) when this cannot run."""
    reason = None
    if os.geteuid() != 0:
        reason = "needs root: datadive up makes one system account per user only as root"
    elif not shutil.which("useradd"):
        reason = "useradd is missing (apt-get install passwd)"
    python, how = reachable_python() if reason is None else (None, reason)
    if python is None:
        unavailable(how)
    return python


@pytest.fixture(scope="module")
def server_python():
    return _require_root_and_python()


@pytest.fixture(scope="module")
def iso(server_python):
    """``datadive up`` as root with its data dir where accounts may pass (mode 0711)."""
    top = Path(tempfile.mkdtemp(prefix="datadive-iso-"))
    top.chmod(0o711)
    started = time.monotonic()
    p = start_platform(top, extra_env={"DATADIVE_SERVER_PYTHON": server_python})
    p.started_in = time.monotonic() - started
    (top / "up.log").chmod(0o600)  # the test's own log holds the admin password
    p.hub_names = []
    yield p
    stop_platform(p.proc)
    for entry in pwd.getpwall():  # the accounts datadive up made for this test's users
        if any(entry.pw_gecos == f"Datadive user {n}" for n in p.hub_names):
            subprocess.run(["userdel", entry.pw_name], capture_output=True)
            shutil.rmtree(f"/run/datadive/{entry.pw_uid}", ignore_errors=True)
    shutil.rmtree(top, ignore_errors=True)


def start_server(p, user) -> tuple[str, float]:
    t0 = time.monotonic()
    r = p.hub("POST", f"users/{user.name}/server")
    assert r.status_code in (201, 202), r.text
    url = wait_for_server(p, user)
    return f"{p.url}{url}", time.monotonic() - t0


def open_kernel(p, user, base: str, project: dict, notebook: str) -> str:
    r = p.call("POST", f"projects/{project['id']}/notebooks", user, json={"name": notebook})
    assert r.status_code == 201, r.text
    path = f"{project['name']}/{notebook}.ipynb"
    r = requests.get(
        f"{base}api/contents/{quote(project['name'])}", headers=user.headers, timeout=60
    )
    assert r.status_code == 200, r.text
    r = requests.post(
        f"{base}api/sessions",
        headers=user.headers,
        timeout=60,
        json={
            "path": path,
            "type": "notebook",
            "name": f"{notebook}.ipynb",
            "kernel": {"name": "python3"},
        },
    )
    assert r.status_code == 201, r.text
    return base.replace("http://", "ws://") + f"api/kernels/{r.json()['kernel']['id']}/channels"


async def run(ws: str, user, code: str) -> str:
    result = await execute(ws, code, user.headers)
    assert result["error"] is None, result["error"]
    return result["stdout"]


def pid_of(cmd_part: str, parent: int) -> int:
    for child in psutil.Process(parent).children(recursive=True):
        if cmd_part in " ".join(child.cmdline()):
            return child.pid
    raise AssertionError(f"no process {cmd_part!r} under {parent}")


async def test_bobs_kernel_reads_nothing_of_alice_or_the_platform(iso):
    p = iso
    tag = uuid.uuid4().hex[:6]
    alice, bob = p.user(f"alice{tag}"), p.user(f"bob{tag}")
    p.hub_names += [alice.name, bob.name]
    data = p.data_dir

    # alice: a project with a file saved through her server, a running kernel
    project = p.project(alice, "Secret study")
    alice_base, alice_spawn = start_server(p, alice)
    r = requests.put(
        f"{alice_base}api/contents/{quote('Secret study')}/secret.csv",
        headers=alice.headers,
        json={"type": "file", "format": "text", "content": "id,diagnosis\n1,confidential\n"},
        timeout=60,
    )
    assert r.status_code in (200, 201), r.text
    alice_ws = open_kernel(p, alice, alice_base, project, "analysis")
    alice_out = json.loads(
        await run(alice_ws, alice, "import os, json; print(json.dumps([os.getuid(), os.getcwd()]))")
    )
    home = data / "users" / alice.name
    assert alice_out[1] == os.path.realpath(home / "Secret study"), (
        "alice's kernel runs in her working copy (the project folder links to it)"
    )
    assert alice_out[1].startswith(str(home) + os.sep)
    stored = data / "store" / "projects" / project["id"] / "secret.csv"
    assert stored.read_text() == "id,diagnosis\n1,confidential\n", "alice's save reached the store"

    # bob: his own server and kernel
    mine = p.project(bob, "Mine")
    bob_base, bob_spawn = start_server(p, bob)
    bob_ws = open_kernel(p, bob, bob_base, mine, "probe")
    bob_uid = json.loads(await run(bob_ws, bob, "import os; print(os.getuid())"))
    assert bob_uid != 0, "bob's kernel must not run as root"
    assert bob_uid != alice_out[0], "alice and bob must be different accounts"
    assert pwd.getpwuid(bob_uid).pw_name == f"datadive-{bob.name}"

    alice_server_pid = p.hub("GET", f"users/{alice.name}").json()["servers"][""]["state"]["pid"]
    hub_pid = int((data / "jupyterhub.pid").read_text())
    runtime = Path("/run/datadive") / str(alice_out[0])
    kernel_files = sorted(runtime.glob("kernel-*"))
    assert [f for f in kernel_files if f.suffix == ".json"], f"alice's kernel files: {runtime}"
    # her kernel's channels are Unix sockets there, not 127.0.0.1 ports anyone could subscribe to
    info = json.loads(next(f for f in kernel_files if f.suffix == ".json").read_text())
    assert info["transport"] == "ipc" and info["ip"].startswith(f"{runtime}/"), info
    targets = [
        stored,
        stored.parent,
        data / "store",
        data / "jupyterhub.sqlite",
        data / "datadive.sqlite",
        data / "jupyterhub_cookie_secret",
        data / "passwords.json",
        data / "jupyterhub_config.py",
        data / "logs" / "jupyterhub.log",
        home,
        home / "Secret study" / "secret.csv",
        *kernel_files,
        runtime,
        Path(f"/proc/{hub_pid}/environ"),
        Path(f"/proc/{pid_of('datadive_hub.service', hub_pid)}/environ"),
        Path(f"/proc/{pid_of('configurable-http-proxy', hub_pid)}/environ"),
        Path(f"/proc/{alice_server_pid}/environ"),
    ]
    for t in targets:
        assert t.exists(), f"{t} should exist (else the test proves nothing)"
    code = f"PATHS = {[str(t) for t in targets]!r}\n{PROBE}"
    seen = json.loads((await run(bob_ws, bob, code)).strip().splitlines()[-1])
    readable = {path: what for path, what in seen.items() if what != "PermissionError"}
    assert readable == {}, f"bob's kernel could read (or got another error on) {readable}"

    # and bob's own home works: a file his kernel writes is his
    own = json.loads(
        await run(
            bob_ws,
            bob,
            "import os, json; open('own.txt', 'w').write('x'); "
            "print(json.dumps([os.getcwd(), os.stat('own.txt').st_uid]))",
        )
    )
    assert own == [os.path.realpath(data / "users" / bob.name / "Mine"), bob_uid]
    print(
        f"\nisolation figures: datadive up ready in {p.started_in:.1f}s; first spawn (account "
        f"made) alice {alice_spawn:.1f}s, bob {bob_spawn:.1f}s"
    )
    p.stop_server(alice.name)
    p.stop_server(bob.name)


def test_data_directory_modes(iso):
    """Only root reaches the data directory's contents; accounts may only pass to their home."""
    data = iso.data_dir
    assert data.stat().st_mode & 0o777 == 0o711
    assert (data / "users").stat().st_mode & 0o777 == 0o711
    for entry in data.iterdir():
        if entry.name != "users":
            assert entry.stat().st_mode & 0o077 == 0, f"{entry} is open to other accounts"
            assert entry.stat().st_uid == 0


def test_account_names_are_valid_and_never_shared():
    from datadive_hub.system_users import account_comment, account_name

    names = ["alice", "Alice", "a.b@example.org", "alice-1a2b3c4d", "x" * 40, "x" * 41, "ü", "-"]
    accounts = [account_name(n) for n in names]
    assert accounts[0] == "datadive-alice"
    assert len(set(accounts)) == len(names), accounts
    assert all(len(a) <= 32 and a.startswith("datadive-") for a in accounts)
    # a hub name that looks like another's hashed account gets an account of its own
    assert account_name(account_name("Alice")[len("datadive-") :]) != account_name("Alice")
    assert account_comment("a:b") != account_comment("a;b") and ":" not in account_comment("a:b")


def test_an_account_not_made_for_this_user_is_refused(server_python):
    """A system account with the right name but not Datadive's (e.g. made by hand) is not used."""
    from datadive_hub.system_users import account_name, ensure_account

    hub_name = f"mallory{uuid.uuid4().hex[:6]}"
    account = account_name(hub_name)
    subprocess.run(["useradd", "--no-create-home", account], check=True)
    try:
        with pytest.raises(RuntimeError, match="not Datadive's account"):
            ensure_account(account, "/nonexistent", hub_name)
    finally:
        subprocess.run(["userdel", account], check=True)


def test_a_home_from_a_single_user_start_is_handed_over(tmp_path, server_python):
    from datadive_hub.system_users import ensure_home

    home = tmp_path / "home"
    (home / "Project").mkdir(parents=True)
    (home / "Project" / "a.csv").write_text("1")
    (home / "link").symlink_to("/etc/passwd")
    ensure_home(str(home), NOBODY, NOBODY)
    assert home.stat().st_mode & 0o777 == 0o700
    assert {(home / n).lstat().st_uid for n in ("", "Project", "Project/a.csv", "link")} == {NOBODY}
    assert Path("/etc/passwd").stat().st_uid == 0, "a symlink is never followed"


def test_single_user_is_said_plainly():
    from datadive_hub.up import choose_spawner

    spawner, line = choose_spawner(1000, None)
    assert spawner == "local" and "Single-user" in line and "NOT isolated" in line
    assert "not running as root" in line
    spawner, line = choose_spawner(0, "another account cannot run /root/venv/bin/python")
    assert spawner == "local" and "cannot run /root/venv/bin/python" in line
    assert choose_spawner(0, None)[0] == "system-users"


def _first_lines(proc) -> str:
    """What ``datadive up`` prints until it has said how users run (or is up), then Ctrl-C."""
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith(("Single-user", "Users are isolated")) or "Press Ctrl-C" in line:
            break
    proc.send_signal(signal.SIGINT)
    try:
        proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
    return "".join(lines)


def test_not_root_says_single_user_at_start(server_python):
    """``datadive up`` run by an ordinary account prints that it is single-user."""
    top = Path(tempfile.mkdtemp(prefix="datadive-nonroot-"))
    try:
        os.chown(top, NOBODY, NOBODY)
        env = {
            "PATH": f"{Path(server_python).parent}:{ROOT / '.venv/node/node_modules/.bin'}:"
            + os.environ["PATH"],
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
            "HOME": str(top),
        }
        cmd = [server_python, "-m", "datadive_hub.cli", "up", "--port", str(free_port())]
        proc = subprocess.Popen(
            [*cmd, "--data-dir", str(top / "data")],
            cwd=top,
            env=env,
            user=NOBODY,
            group=NOBODY,
            extra_groups=[],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        out = _first_lines(proc)
        assert "Single-user: every user server runs as nobody" in out, out
        assert "NOT isolated" in out and "not running as root" in out
    finally:
        shutil.rmtree(top, ignore_errors=True)


def test_root_with_unreachable_homes_says_single_user_and_why(tmp_path):
    """As root, but the data directory sits under a folder other accounts cannot pass (here
    pytest's 0700 temp dir): servers cannot run as their own accounts, and it says so."""
    if os.geteuid() != 0:
        unavailable("needs root: this is what datadive up does as root")
    tmp_path.chmod(0o700)
    cmd = [sys.executable, "-m", "datadive_hub.cli", "up", "--port", str(free_port())]
    proc = subprocess.Popen(
        [*cmd, "--data-dir", str(tmp_path / "data")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out = _first_lines(proc)
    assert "Single-user: every user server runs as root" in out, out
    assert "another account cannot run" in out and str(tmp_path / "data" / "users") in out


def test_jupyterlab_started_as_root_writes_nothing_the_users_servers_read(tmp_path):
    """JupyterLab migrates `disabledExtensions` to `lockedExtensions` by writing page_config.json
    into the environment's etc/; run as root under the platform's umask 077 that file is
    unreadable to every user's server, whose Lab then fails to load (every /lab page 404: seen
    with guest servers). Datadive's page config names both keys, so nothing is written."""
    target = Path(sys.prefix) / "etc" / "jupyter" / "labconfig" / "page_config.json"
    before = target.exists()
    code = "from jupyterlab.commands import _AppHandler, AppOptions; _AppHandler(AppOptions())"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path, timeout=120)
    written = target.exists() and not before
    if written:
        target.unlink()
    assert not written, f"starting JupyterLab wrote {target}"
