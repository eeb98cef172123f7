"""``datadive up``: the whole platform on one machine (embedded defaults).

JupyterHub with configurable-http-proxy, the Datadive service as a hub-managed service, user
servers as local processes, SQLite and a local directory store, all under one data directory.
A second start on the same directory keeps everything.

Run as root, each user's server runs as its own system account (``datadive_hub.system_users``)
and the data directory lets an account reach only its own home; otherwise (or when the server's
Python or the homes cannot be reached by another account) it says plainly that it is
single-user: every server runs as the current account.
"""

import os
import pwd
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import psutil

from . import db
from .auth.local import PasswordFile
from .configure import proxy_command

CONFIG_TEMPLATE = """\
# Written by `datadive up` at every start; edit the options of `datadive up` instead.
import datadive_hub

c = get_config()  # noqa: F821
datadive_hub.configure(
    c,
    data_dir={data_dir!r},
    service_port={service_port},
    db_url={db_url!r},
    spawner={spawner!r},
    server_python={server_python!r},
)
c.JupyterHub.bind_url = "http://{ip}:{port}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.JupyterHub.db_url = "sqlite:///" + {hub_db!r}
c.JupyterHub.cookie_secret_file = {cookie_secret!r}
c.JupyterHub.pid_file = {pid_file!r}
c.ConfigurableHTTPProxy.command = {proxy_cmd!r}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.pid_file = {proxy_pid!r}
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def step(n: int, total: int, text: str) -> None:
    print(f"[{n}/{total}] {text}", flush=True)


def _get(url: str, timeout: float = 2) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            status: int = r.status
            return status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


def wait_until(
    check: Callable[[], bool], timeout: float, proc: subprocess.Popen[bytes], what: str, log: Path
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"JupyterHub exited while {what}; the end of {log}:\n{tail(log)}")
        if check():
            return
        time.sleep(0.3)
    raise SystemExit(f"Timed out after {timeout:.0f}s {what}; the end of {log}:\n{tail(log)}")


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


# Nobody's ids: the account that checks what another account could reach.
PROBE_UID = PROBE_GID = 65534
PROBE_CODE = (
    "import os, sys; os.stat(sys.argv[1]); "
    "import jupyterhub.singleuser, ipykernel, datadive_server_ext, datadive_contents"
)


def start_probe(python: str, users_dir: Path) -> subprocess.Popen[str] | OSError:
    """Start ``python`` as an unprivileged account: can it import the user server and reach
    the homes? (An OSError if it cannot even be started.)"""
    env = {k: os.environ[k] for k in ("PATH", "PYTHONPATH", "LANG") if k in os.environ}
    try:
        return _popen_as_nobody(python, users_dir, env)
    except OSError as e:
        return e


def _popen_as_nobody(python: str, users_dir: Path, env: dict[str, Any]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [python, "-c", PROBE_CODE, str(users_dir)],
        cwd="/",
        env={**env, "HOME": "/"},
        user=PROBE_UID,
        group=PROBE_GID,
        extra_groups=[],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def probe_error(probe: subprocess.Popen[str] | OSError, python: str, users_dir: Path) -> str | None:
    """None if the probe succeeded, else why another account cannot run user servers."""
    if isinstance(probe, OSError):
        last = str(probe)
    else:
        try:
            _, err = probe.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            probe.kill()
            probe.communicate()
            return f"{python} did not start within 60 s as another account"
        if probe.returncode == 0:
            return None
        last = (err.strip().splitlines() or [f"exit status {probe.returncode}"])[-1]
    return (
        f"another account cannot run {python} or reach {users_dir} ({last}); install "
        "Datadive where every account can read it (e.g. under /opt, not /root) or give "
        "--server-python, and keep the data directory's parents traversable (mode 0711)"
    )


def choose_spawner(euid: int, problem: str | None) -> tuple[str, str]:
    """The configure() spawner for ``datadive up`` and the line that tells the admin about it:
    'system-users' only as root with nothing in the way, else single-user 'local'."""
    if euid == 0 and problem is None:
        return "system-users", (
            "Users are isolated: each user's server runs as their own system account "
            "(datadive-NAME, made on first start), with a private home"
        )
    account = _account(euid)
    why = problem if euid == 0 else "datadive up is not running as root, so it cannot make accounts"
    return "local", (
        f"Single-user: every user server runs as {account}, so users are NOT isolated from "
        f"each other ({why})"
    )


def _account(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def secure_data_dir(data: Path, isolated: bool) -> None:
    """Only this account reaches the data directory; with isolation, others may pass through it and
    ``users/`` to their own home. Every other entry (store, databases, secrets, logs, config)
    and every home is private; a home is handed to its account at spawn."""
    users = data / "users"
    users.mkdir(exist_ok=True)
    passable = 0o711 if isolated else 0o700
    os.chmod(data, passable)
    for entry in data.iterdir():
        if entry.is_symlink():
            continue
        if entry == users:
            os.chmod(users, passable)
            for home in users.iterdir():
                if not home.is_symlink():
                    os.chmod(home, 0o700 if home.is_dir() else 0o600)
        else:
            os.chmod(entry, 0o700 if entry.is_dir() else 0o600)


def write_config(
    data_dir: Path,
    ip: str,
    port: int,
    db_url: str,
    spawner: str = "local",
    server_python: str | None = None,
) -> Path:
    cfg = data_dir / "jupyterhub_config.py"
    cfg.write_text(
        CONFIG_TEMPLATE.format(
            data_dir=str(data_dir),
            ip=ip,
            port=port,
            db_url=db_url,
            spawner=spawner,
            server_python=server_python,
            hub_port=free_port(),
            proxy_api_port=free_port(),
            service_port=free_port(),
            hub_db=str(data_dir / "jupyterhub.sqlite"),
            cookie_secret=str(data_dir / "jupyterhub_cookie_secret"),
            pid_file=str(data_dir / "jupyterhub.pid"),
            proxy_pid=str(data_dir / "proxy.pid"),
            proxy_cmd=proxy_command(),
        )
    )
    return cfg


def stop_tree(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """Stop JupyterHub (which stops the proxy, the service and user servers), then any straggler."""
    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    _, alive = psutil.wait_procs(children, timeout=5)
    for p in alive:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=5)


def stop_leftover_proxy(pid_file: Path) -> None:
    """Stop the proxy JupyterHub recorded in ``pid_file`` if it outlived the hub (a hub that
    exits on its own, e.g. because the service failed to start, leaves its proxy running)."""
    try:
        proxy = psutil.Process(int(pid_file.read_text().strip()))
        if "configurable-http-proxy" not in " ".join(proxy.cmdline()):
            return
        proxy.terminate()
        proxy.wait(5)
    except (OSError, ValueError, psutil.Error):
        pass


def up(
    port: int = 8000,
    data_dir: str = "datadive-data",
    ip: str = "127.0.0.1",
    db_url: str | None = None,
    server_python: str | None = None,
) -> int:
    total = 4
    data = Path(data_dir).resolve()
    python = server_python or sys.executable
    os.umask(0o077)  # whatever the hub, the proxy and the service write is theirs alone
    step(1, total, f"Preparing {data}")
    (data / "logs").mkdir(parents=True, exist_ok=True)
    (data / "users").mkdir(exist_ok=True)
    euid = os.geteuid()
    if euid == 0:
        secure_data_dir(data, isolated=True)  # the probe must be able to pass, nothing more
        probe = start_probe(python, data / "users")
    step(2, total, "Upgrading the Datadive database (Alembic)")
    db_url = db_url or f"sqlite:///{data / 'datadive.sqlite'}"
    db.upgrade(db_url)
    spawner, users_line = choose_spawner(
        euid, probe_error(probe, python, data / "users") if euid == 0 else None
    )
    secure_data_dir(data, isolated=spawner == "system-users")
    print(users_line, flush=True)
    passwords = PasswordFile(data / "passwords.json")
    first_password = None
    if "admin" not in passwords.names():
        first_password = passwords.set_password("admin", admin=True)

    step(3, total, "Starting JupyterHub, configurable-http-proxy and the Datadive service")
    cfg = write_config(data, ip, port, db_url, spawner, server_python)
    log = data / "logs" / "jupyterhub.log"
    env = {**os.environ, "DATADIVE_DATA_DIR": str(data)}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    stopping = False

    def _stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    # Both signals stop everything, however ``up`` was started: a shell that runs it in the
    # background (``&``, ``nohup``) sets SIGINT to "ignore", which Python keeps. Set before the
    # hub starts, so that the hub (and the user servers it stops with SIGINT) get the default
    # disposition back instead of inheriting the ignore.
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    url = f"http://{ip}:{port}"
    proc: subprocess.Popen[bytes] | None = None
    try:
        with open(log, "ab") as logf:
            proc = subprocess.Popen(
                [sys.executable, "-m", "jupyterhub", "-f", str(cfg)],
                cwd=data,
                env=env,
                stdout=logf,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        step(4, total, "Waiting for the hub and the Datadive service to answer")
        wait_until(lambda: _get(f"{url}/hub/health") == 200, 90, proc, "starting the hub", log)
        wait_until(
            lambda: _get(f"{url}/services/datadive/api/v1/openapi.json") in (401, 403, 200),
            90,
            proc,
            "starting the Datadive service",
            log,
        )
        cli = os.path.join(os.path.dirname(sys.executable), "datadive")
        print(
            textwrap.dedent(f"""
            Datadive is running at {url}/
              Sign in as:  admin
              Password:    {first_password or "(set at the first start; reset with: " + cli + " users passwd admin --data-dir " + str(data) + ")"}
            {"  (the password is shown only this once; keep it)" if first_password else ""}
              Add people:  {cli} users add NAME --data-dir {data}
              Logs:        {log}
              Users:       {"isolated (one system account each)" if spawner == "system-users" else "single-user (NOT isolated from each other)"}
            Press Ctrl-C to stop.
            """),
            flush=True,
        )
        while proc.poll() is None:
            time.sleep(0.5)
        print(f"JupyterHub stopped unexpectedly; the end of {log}:\n{tail(log)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping Datadive (JupyterHub, proxy, service, user servers)...", flush=True)
        return 0
    finally:
        if proc is not None:
            stop_tree(proc)
        stop_leftover_proxy(data / "proxy.pid")
        print("Stopped.", flush=True)
