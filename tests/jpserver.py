"""Start a real ``jupyter server`` subprocess with the datadive extension (tests and benchmark)."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterServer:
    """A jupyter_server process on 127.0.0.1 serving ``root`` (stopped by PID in :meth:`stop`)."""

    def __init__(
        self,
        root: Path,
        workdir: Path,
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
    ):
        self.root, self.workdir = Path(root), Path(workdir)
        self.args = list(args or [])
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}/"
        cfg = self.workdir / "config"
        cfg.mkdir(parents=True, exist_ok=True)
        (cfg / "jupyter_server_config.json").write_text(
            json.dumps(
                {
                    "ServerApp": {
                        "jpserver_extensions": {
                            "datadive_server_ext": True,
                            "jupyterlab": False,
                            "notebook_shim": False,
                            "jupyter_lsp": False,
                            "jupyter_server_terminals": False,
                        }
                    }
                }
            )
        )
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "contents")]),
            "JUPYTER_CONFIG_DIR": str(cfg),
            "JUPYTER_RUNTIME_DIR": str(self.workdir / "runtime"),
            **(env or {}),
        }
        for key in ("DATADIVE_SERVICE_URL", "JUPYTERHUB_API_TOKEN"):
            if key not in (env or {}):
                self.env.pop(key, None)
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 90) -> JupyterServer:
        log = open(self.workdir / "server.log", "wb")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter_server",
                "--no-browser",
                f"--port={self.port}",
                "--ip=127.0.0.1",
                f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={self.root}",
                "--ServerApp.port_retries=0",
                "--allow-root",
                *self.args,
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter server exited: {self.log()[-3000:]}")
            try:
                code, _ = self.request("GET", "api/status")
                if code == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"jupyter server did not start within {timeout}s: {self.log()[-3000:]}")

    def log(self) -> str:
        return (self.workdir / "server.log").read_text(errors="replace")

    def request(
        self,
        method: str,
        path: str,
        body=None,
        token: str | None = None,
        headers: dict | None = None,
        timeout: float = 30,
    ):
        """(status, parsed JSON or None) — never raises for HTTP error statuses."""
        data = (
            json.dumps(body).encode()
            if body is not None
            else (b"{}" if method in ("POST", "PUT", "PATCH") else None)
        )
        req = urllib.request.Request(
            self.url + path.lstrip("/"),
            data=data,
            method=method,
            headers={
                "Authorization": f"token {self.token if token is None else token}",
                "Content-Type": "application/json",
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                raw, code = resp.read(), resp.status
        except urllib.error.HTTPError as e:
            raw, code = e.read(), e.code
        try:
            return code, json.loads(raw) if raw else None
        except ValueError:
            return code, raw.decode(errors="replace")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
