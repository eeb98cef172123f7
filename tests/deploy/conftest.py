"""Fixtures for the production-deployment tests (issue 6).

Fixtures:
- ``repo_root``: the repository root (``Path``).
- ``z2jh_dir``: ``../shared/z2jh`` beside the repository, or ``$DATADIVE_Z2JH_DIR`` (chart
  ``values.yaml`` + ``values.schema.yaml``); missing → ``unavailable`` (from tests/datadive_platform.py).
- ``free_port``: a function returning a free TCP port on 127.0.0.1.
- ``oidc_provider`` (module): a real OpenID Connect provider (npm ``oidc-provider``, ``tests/deploy/oidc``)
  on 127.0.0.1; an ``OIDCProvider`` with ``issuer``, ``client_id``, ``client_secret``, ``users``
  and ``set_groups(user, groups)`` (takes effect at the user's next sign-in).
- ``start_hub`` (module): an async factory ``await start_hub(config_text, env=None)`` that runs a real
  JupyterHub (+ configurable-http-proxy) in a subprocess and returns a ``Hub`` with ``url``,
  ``api(method, path)`` (an admin service token), ``log()``; every hub is stopped by PID at teardown.
- ``test_image.py`` has its own module fixtures (``wheel_dir``, ``image_env``, ``image_hub``,
  ``researcher``), listed in its docstring.

A missing prerequisite goes through ``unavailable(reason)``: under CI (``$CI`` set) the test fails
with the reason, elsewhere it is skipped with the reason, which pytest prints in its summary
(``-ra``) and which is written to the terminal at once. This machine has every prerequisite, so
nothing here skips.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from datadive_platform import unavailable

from datadive_hub.up import stop_tree

REPO = Path(__file__).resolve().parents[2]
OIDC_DIR = Path(__file__).resolve().parent / "oidc"
VENV_BIN = Path(sys.executable).parent
CHP_BIN = REPO / ".venv" / "node" / "node_modules" / ".bin"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def z2jh_dir() -> Path:
    d = Path(os.environ.get("DATADIVE_Z2JH_DIR") or REPO.parent / "shared" / "z2jh")
    missing = [f for f in ("values.yaml", "values.schema.yaml") if not (d / f).exists()]
    if missing:
        unavailable(
            f"the zero-to-jupyterhub chart data ({', '.join(missing)}) is not in {d}: put "
            "shared/ beside the repository or set DATADIVE_Z2JH_DIR"
        )
    return d


@pytest.fixture(scope="session")
def free_port():
    return _free_port


@dataclass
class OIDCProvider:
    issuer: str
    client_id: str
    client_secret: str
    config_path: Path
    users: dict = field(default_factory=dict)

    def set_groups(self, user: str, groups: list[str]) -> None:
        data = json.loads(self.config_path.read_text())
        data["users"][user]["groups"] = groups
        self.config_path.write_text(json.dumps(data))


OIDC_USERS = {
    "alice": {"password": "alice-pw", "groups": ["researchers"]},
    "bob": {"password": "bob-pw", "groups": ["researchers", "hub-admins"]},
    "mallory": {"password": "mallory-pw", "groups": ["students"]},
    "nogroups": {"password": "nogroups-pw", "groups": []},
    "dave": {"password": "dave-pw", "groups": ["researchers"]},
}


@pytest.fixture(scope="module")
def oidc_provider(tmp_path_factory, free_port):
    """A real oidc-provider on 127.0.0.1 (one per test module); its client redirects to
    ``http://127.0.0.1:<hub_port>/hub/oauth_callback``."""
    tmp_path = tmp_path_factory.mktemp("oidc")
    node = shutil.which("node")
    if node is None:
        unavailable("node is not on PATH; the OpenID Connect provider needs Node.js 20+")
    if not (OIDC_DIR / "node_modules" / "oidc-provider").exists():
        r = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--silent"],
            cwd=OIDC_DIR,
            timeout=300,
            capture_output=True,
            text=True,
        )
        if r.returncode != 0:
            unavailable(
                f"npm ci in {OIDC_DIR} failed (exit {r.returncode}), so the OpenID Connect "
                f"provider cannot run:\n{(r.stdout + r.stderr)[-1500:]}"
            )
    port = free_port()
    hub_port = free_port()
    cfg = tmp_path / "oidc.json"
    provider = OIDCProvider(
        issuer=f"http://127.0.0.1:{port}",
        client_id="datadive-hub",
        client_secret=secrets.token_hex(16),
        config_path=cfg,
        users=json.loads(json.dumps(OIDC_USERS)),
    )
    provider.hub_port = hub_port  # the port the hub must use (its redirect URI is registered)
    cfg.write_text(
        json.dumps(
            {
                "clients": [
                    {
                        "client_id": provider.client_id,
                        "client_secret": provider.client_secret,
                        "redirect_uris": [f"http://127.0.0.1:{hub_port}/hub/oauth_callback"],
                    }
                ],
                "users": provider.users,
            }
        )
    )
    log = open(tmp_path / "oidc.log", "w+")
    proc = subprocess.Popen(
        [node, str(OIDC_DIR / "provider.mjs"), str(port), str(cfg)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=OIDC_DIR,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(
                    provider.issuer + "/.well-known/openid-configuration", timeout=2
                ).ok:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"the OpenID Connect provider did not start:\n{log.read()}")
            time.sleep(0.2)
        yield provider
    finally:
        stop_tree(proc, timeout=10)
        log.close()


@dataclass
class Hub:
    url: str
    token: str
    proc: subprocess.Popen
    log_path: Path

    def api(self, method: str, path: str, **kw) -> requests.Response:
        return requests.request(
            method,
            self.url + "/hub/api/" + path.lstrip("/"),
            headers={"Authorization": f"token {self.token}"},
            timeout=30,
            **kw,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


HUB_PREAMBLE = """
# written by tests/deploy/conftest.py
c.JupyterHub.bind_url = {bind_url!r}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.JupyterHub.db_url = "sqlite:///{db}"
c.JupyterHub.cookie_secret_file = {cookie_secret_file!r}
c.JupyterHub.pid_file = {pid_file!r}
c.JupyterHub.cleanup_servers = True
c.JupyterHub.services = [{{"name": "test-admin", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{
    "name": "test-admin",
    "scopes": ["admin:users", "admin:groups", "admin:servers", "list:services", "read:services",
               "read:roles", "tokens"],
    "services": ["test-admin"],
}}]
"""


@pytest.fixture(scope="module")
async def start_hub(tmp_path_factory, free_port):
    """Factory running real hubs in subprocesses; all of them are stopped at the module's end."""
    tmp_path = tmp_path_factory.mktemp("hubs")
    if not (CHP_BIN / "configurable-http-proxy").exists():
        unavailable(f"configurable-http-proxy is not in {CHP_BIN}: run ./dev setup once")
    started: list[subprocess.Popen] = []
    logs = []

    async def start(config_text: str, *, port: int | None = None, env: dict | None = None) -> Hub:
        import asyncio

        n = len(started)
        d = tmp_path / f"hub{n}"
        d.mkdir()
        port = port or free_port()
        token = secrets.token_hex(16)
        (d / "cookie_secret").write_text(secrets.token_hex(32))
        os.chmod(d / "cookie_secret", 0o600)
        preamble = HUB_PREAMBLE.format(
            bind_url=f"http://127.0.0.1:{port}/",
            hub_port=free_port(),
            proxy_api_port=free_port(),
            db=d / "jupyterhub.sqlite",
            cookie_secret_file=str(d / "cookie_secret"),
            pid_file=str(d / "proxy.pid"),
            token=token,
        )
        (d / "jupyterhub_config.py").write_text(preamble + "\n" + config_text)
        run_env = dict(os.environ)
        run_env["PATH"] = f"{VENV_BIN}:{CHP_BIN}:{run_env.get('PATH', '')}"
        run_env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO), str(REPO / "contents"), run_env.get("PYTHONPATH", "")]
        )
        run_env.update(env or {})
        log_path = d / "hub.log"
        log = open(log_path, "w")
        logs.append(log)
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(d / "jupyterhub_config.py")],
            cwd=d,
            env=run_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append(proc)
        hub = Hub(url=f"http://127.0.0.1:{port}", token=token, proc=proc, log_path=log_path)
        deadline = time.monotonic() + 90
        while True:
            try:
                r = await asyncio.to_thread(requests.get, hub.url + "/hub/api/", timeout=2)
                if r.ok:
                    return hub
            except requests.ConnectionError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterHub did not start (see {log_path}):\n{hub.log()[-4000:]}")
            await asyncio.sleep(0.3)

    yield start
    for proc in reversed(started):
        stop_tree(proc, timeout=20)
    for log in logs:
        log.close()
