"""Helpers for the storage tests: a TCP proxy that can cut connections, a jupyter server (the
moto S3 server is tests/moto_s3.py)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading

from datadive_platform import free_port
from moto_s3 import wait_http

__all__ = ["JupyterServer", "TcpProxy", "free_port", "wait_http"]


class TcpProxy:
    """A TCP forwarder 127.0.0.1:port → target port, in a thread. ``stop()`` closes the listener
    and every connection (clients get "connection refused"); ``start()`` again on the same port.
    ``cut_after(n)``: stop by itself once ``n`` more bytes went from clients to the target (an
    outage in the middle of a request); ``cut.wait()`` / ``cut.is_set()`` tell when it happened."""

    def __init__(self, target_port: int, port: int | None = None) -> None:
        self.target_port = target_port
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._cut_at: int | None = None
        self.upstream_bytes = 0
        self.cut = threading.Event()

    def cut_after(self, nbytes: int) -> None:
        with self._lock:
            self.upstream_bytes = 0
            self._cut_at = nbytes
            self.cut.clear()

    def start(self) -> None:
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.port))
        ls.listen(64)
        self._listener = ls
        threading.Thread(target=self._accept, args=(ls,), daemon=True).start()

    def _accept(self, ls: socket.socket) -> None:
        while True:
            try:
                client, _ = ls.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b, up in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pipe, args=(a, b, up), daemon=True).start()

    def _pipe(self, a: socket.socket, b: socket.socket, up: bool = False) -> None:
        try:
            while data := a.recv(1 << 16):
                if up and self._cut_at is not None:
                    with self._lock:
                        self.upstream_bytes += len(data)
                        cut = self._cut_at is not None and self.upstream_bytes >= self._cut_at
                    if cut:
                        self._cut_at = None
                        self.stop()
                        self.cut.set()
                        return
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        if self._listener is not None:
            try:  # wakes the thread blocked in accept() (close alone does not, on Linux)
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        with self._lock:
            for s in self._conns:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            self._conns.clear()


class JupyterServer:
    """A real ``jupyter server`` subprocess using DatadiveContentsManager.

    ``config`` is Python code for jupyter_server_config.py (``c`` is the config object).
    """

    def __init__(self, root_dir: str, config: str, name: str = "server") -> None:
        self.root_dir = root_dir
        self.port = free_port()
        self.token = "tok-" + name
        self.url = f"http://127.0.0.1:{self.port}"
        self.config_dir = os.path.join(os.path.dirname(root_dir), f"config-{name}-{self.port}")
        os.makedirs(self.config_dir, exist_ok=True)
        os.makedirs(root_dir, exist_ok=True)
        with open(os.path.join(self.config_dir, "jupyter_server_config.py"), "w") as f:
            f.write("c = get_config()  # noqa\n")
            f.write(
                "c.ServerApp.contents_manager_class = "
                "'datadive_contents.manager.DatadiveContentsManager'\n"
            )
            f.write(config + "\n")
        self.log_path = os.path.join(os.path.dirname(root_dir), f"{name}-{self.port}.log")
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> None:
        env = dict(os.environ, JUPYTER_CONFIG_DIR=self.config_dir, JUPYTER_NO_CONFIG="")
        env.pop("JUPYTER_NO_CONFIG")
        if getattr(self, "log", None) is not None:
            self.log.close()  # a restart after kill()
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter_server",
                "--no-browser",
                "--allow-root",
                f"--ServerApp.port={self.port}",
                "--ServerApp.ip=127.0.0.1",
                f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={self.root_dir}",
                "--ServerApp.port_retries=0",
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_http(self.url + "/api/status?token=" + self.token, timeout, self.proc)

    def request(self, method: str, path: str, body=None, timeout: float = 60):
        """(status, parsed JSON or text) of an API call; ``path`` is sent exactly as given."""
        import http.client
        import json as _json

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        data = None if body is None else _json.dumps(body).encode()
        conn.request(
            method,
            path,
            body=data,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        resp = conn.getresponse()
        raw = resp.read()
        conn.close()
        try:
            return resp.status, _json.loads(raw) if raw else None
        except ValueError:
            return resp.status, raw.decode("utf-8", "replace")

    def contents(self, method: str, api_path: str, body=None, timeout: float = 60):
        from urllib.parse import quote

        return self.request(method, "/api/contents/" + quote(api_path), body, timeout)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if getattr(self, "log", None) is not None:
            self.log.close()
            self.log = None
