"""The running Datadive platform that tests act on (used by tests/conftest.py fixtures)."""

import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from openapi_check import validate_response

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
PG_ADMIN_URL = os.environ.get("DATADIVE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def unavailable(reason: str):
    """A prerequisite is missing: under CI (``$CI`` set to anything but "" / "0" / "false") the
    test fails with ``reason``; elsewhere it is skipped with ``reason``, which is also written to
    the terminal at once (not only in the ``-ra`` summary)."""
    reason = f"prerequisite missing: {reason}"
    sys.stderr.write(f"\n[datadive tests] {reason}\n")
    if in_ci():
        pytest.fail(reason + " (CI installs every prerequisite, so this is an error there)")
    pytest.skip(reason)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class User:
    name: str
    token: str
    admin: bool = False
    groups: tuple[str, ...] = ()
    password: str | None = None

    @property
    def headers(self) -> dict:
        return {"Authorization": f"token {self.token}"}


@dataclass
class Platform:
    """A running ``datadive up`` and helpers to act on it as different people."""

    url: str
    data_dir: Path
    admin_token: str
    proc: subprocess.Popen
    db_kind: str = "sqlite"
    users: dict = field(default_factory=dict)
    validate: bool = True  # check every response against the OpenAPI document

    @property
    def api(self) -> str:
        return f"{self.url}/services/datadive/api/v1"

    @property
    def admin(self) -> User:
        return User("admin", self.admin_token, admin=True)

    def hub(self, method: str, path: str, **kw) -> requests.Response:
        r = requests.request(
            method,
            f"{self.url}/hub/api/{path}",
            timeout=60,
            headers={"Authorization": f"token {self.admin_token}"},
            **kw,
        )
        return r

    def call(
        self, method: str, path: str, user: User | None = None, *, token: str | None = None, **kw
    ) -> requests.Response:
        """Request ``<service>/api/v1/<path>`` as ``user`` (or with ``token``, or anonymously)."""
        headers = kw.pop("headers", {})
        tok = token if token is not None else (user.token if user else None)
        if tok:
            headers["Authorization"] = f"token {tok}"
        r = requests.request(
            method, f"{self.api}/{path.lstrip('/')}", headers=headers, timeout=60, **kw
        )
        if self.validate:
            validate_response(
                method, r.url, r.status_code, r.content, r.headers.get("Content-Type", "")
            )
        return r

    def user(
        self,
        name: str | None = None,
        *,
        admin: bool = False,
        groups: tuple = (),
        password: bool = False,
    ) -> User:
        """A new JupyterHub user (created through the hub API) with an API token."""
        name = name or f"u{uuid.uuid4().hex[:8]}"
        r = self.hub("POST", f"users/{name}", json={"admin": admin})
        assert r.status_code in (201, 409), r.text
        for g in groups:
            self.group(g)
            r = self.hub("POST", f"groups/{g}/users", json={"users": [name]})
            assert r.status_code == 200, r.text
        r = self.hub("POST", f"users/{name}/tokens", json={"note": "tests", "expires_in": 3600})
        assert r.status_code == 201, r.text
        pw = None
        if password:
            from datadive_hub.auth.local import PasswordFile

            pw = PasswordFile(self.data_dir / "passwords.json").set_password(name, admin=admin)
        u = User(name, r.json()["token"], admin=admin, groups=tuple(groups), password=pw)
        self.users[name] = u
        return u

    def group(self, name: str) -> None:
        r = self.hub("POST", f"groups/{name}")
        assert r.status_code in (201, 409), r.text

    def project(self, owner: User, name: str | None = None) -> dict:
        r = self.call("POST", "projects", owner, json={"name": name or f"p-{uuid.uuid4().hex[:6]}"})
        assert r.status_code == 201, r.text
        return r.json()

    def share(self, owner: User, project_id: str, *people: tuple[User | str, str]) -> None:
        """As ``owner``, add each (user or user name, role) of ``people`` to the project."""
        for who, role in people:
            name = who if isinstance(who, str) else who.name
            r = self.call(
                "POST", f"projects/{project_id}/members", owner, json={"name": name, "role": role}
            )
            assert r.status_code == 201, r.text

    def stop_server(self, name: str) -> None:
        r = self.hub("DELETE", f"users/{name}/server")
        assert r.status_code in (202, 204, 400), r.text
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if not self.hub("GET", f"users/{name}").json().get("servers"):
                return
            time.sleep(0.5)


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"datadive up exited ({proc.returncode}):\n{log.read_text()[-4000:]}"
            )
        try:
            if requests.get(url, timeout=2).status_code in (200, 401, 403):
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"datadive up did not answer at {url} within {timeout}s")


def start_platform(
    tmp: Path, db_url: str | None = None, db_kind: str = "sqlite", extra_env: dict | None = None
):
    port = free_port()
    token = secrets.token_hex(24)
    data_dir = tmp / "data"
    env = {**os.environ, "DATADIVE_BOOTSTRAP_TOKEN": token, **(extra_env or {})}
    if "DATADIVE_SERVICE_CONFIG" not in env:
        # every test posts the guests' forms from 127.0.0.1: one rate-limit bucket for all of
        # them (tests/hub/test_guests.py checks the limit on a platform of its own)
        config = tmp / "service_config.py"
        config.write_text("c.DatadiveService.guest_form_posts_per_minute = 1_000_000\n")
        env["DATADIVE_SERVICE_CONFIG"] = str(config)
    env["PATH"] = (
        f"{Path(sys.executable).parent}:{ROOT / '.venv/node/node_modules/.bin'}:{env['PATH']}"
    )
    cmd = [
        sys.executable,
        "-m",
        "datadive_hub.cli",
        "up",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]
    if db_url:
        cmd += ["--db-url", db_url]
    log = tmp / "up.log"
    with open(log, "wb") as f:
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(f"{url}/services/datadive/api/v1/openapi.json", proc, log)
    except Exception:
        stop_platform(proc)
        raise
    return Platform(url=url, data_dir=data_dir, admin_token=token, proc=proc, db_kind=db_kind)


def stop_platform(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(2)  # SIGINT = Ctrl-C: datadive up stops every child
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def service_process(platform):
    """The psutil.Process of the Datadive service that ``platform`` (``datadive up``, through
    JupyterHub's managed services) runs."""
    import psutil

    for child in psutil.Process(platform.proc.pid).children(recursive=True):
        try:
            if "datadive_hub.service" in " ".join(child.cmdline()):
                return child
        except psutil.NoSuchProcess:
            continue
    raise AssertionError("no datadive_hub.service process under this platform")


def pg_unreachable_reason() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return None
    except Exception as e:  # noqa: BLE001
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {e}"
