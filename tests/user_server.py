"""A user's real server under a running ``datadive up``, as the hub, contents and files tests
reach it: :func:`wait_for_server` (its URL once ready), :class:`Server` (requests with the
user's token) and :func:`execute` (code run in a kernel through the server's websocket, as
JupyterLab does)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from urllib.parse import quote

import requests
import websockets
from nbformat.v4 import output_from_msg

#: the servers' project list is cached for project_cache_seconds (10 s) and scanned every 2 s
SETTLE = 40


async def execute(
    ws_url: str, code: str, headers: dict, timeout: float = 60, cell_id: str | None = None
) -> dict:
    """Send ``execute_request`` on the kernel channels websocket; return the outputs seen
    (``outputs``: as nbformat stores them). ``cell_id``: the notebook cell it runs as (Lab
    sends it in the request's metadata)."""
    msg_id = uuid.uuid4().hex
    msg = {
        "header": {
            "msg_id": msg_id,
            "msg_type": "execute_request",
            "username": "test",
            "session": uuid.uuid4().hex,
            "version": "5.3",
            "date": "",
        },
        "parent_header": {},
        "metadata": {"cellId": cell_id} if cell_id else {},
        "channel": "shell",
        "buffers": [],
        "content": {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        },
    }
    result = {"text/plain": None, "stdout": "", "error": None, "outputs": []}
    async with websockets.connect(ws_url, additional_headers=headers, open_timeout=30) as ws:
        await ws.send(json.dumps(msg))
        async with asyncio.timeout(timeout):
            while True:
                reply = json.loads(await ws.recv())
                if reply.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind = reply["msg_type"]
                content = reply["content"]
                if kind in ("stream", "execute_result", "display_data", "error"):
                    result["outputs"].append(output_from_msg(reply))
                if kind == "execute_result":
                    result["text/plain"] = content["data"].get("text/plain")
                elif kind == "stream":
                    result["stdout"] += content.get("text", "")
                elif kind == "error":
                    result["error"] = f"{content['ename']}: {content['evalue']}"
                elif kind == "status" and content["execution_state"] == "idle":
                    return result


def wait_for_server(platform, user, timeout=120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        model = platform.hub("GET", f"users/{user.name}").json()
        server = model.get("servers", {}).get("")
        if server and server.get("ready"):
            return server["url"]
        time.sleep(0.5)
    raise AssertionError(f"{user.name}'s server did not become ready in {timeout}s")


class Server:
    """A user's real server, reached through the hub's proxy with the user's token."""

    def __init__(self, platform, user):
        self.platform, self.user = platform, user
        r = platform.hub("POST", f"users/{user.name}/server")
        assert r.status_code in (201, 202), r.text
        self.base = f"{platform.url}{wait_for_server(platform, user)}"

    def get(self, path: str, **kw) -> requests.Response:
        return requests.get(f"{self.base}{path}", headers=self.user.headers, timeout=60, **kw)

    def contents(self, api_path: str = "") -> requests.Response:
        return self.get(f"api/contents/{quote(api_path)}")

    def folders(self) -> dict[str, str]:
        r = self.contents("")
        assert r.status_code == 200, r.text
        return {e["name"]: e["writable"] for e in r.json()["content"]}

    def sync(self) -> dict:
        r = self.get("datadive/api/sync")
        assert r.status_code == 200, r.text
        return r.json()

    def wait_until(self, what: str, check, timeout: float = SETTLE):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = check()
            if last:
                return last
            time.sleep(1)
        raise AssertionError(f"{self.user.name}'s server: {what} not seen in {timeout}s ({last})")

    def kernel(self, notebook_path: str) -> str:
        r = requests.post(
            f"{self.base}api/sessions",
            headers=self.user.headers,
            timeout=120,
            json={
                "path": notebook_path,
                "type": "notebook",
                "name": notebook_path.rsplit("/", 1)[-1],
                "kernel": {"name": "python3"},
            },
        )
        assert r.status_code == 201, r.text
        return r.json()["kernel"]["id"]

    def run(self, kernel_id: str, code: str) -> str:
        url = self.base.replace("http://", "ws://") + f"api/kernels/{kernel_id}/channels"
        result = asyncio.run(execute(url, code, self.user.headers, timeout=120))
        assert result["error"] is None, result["error"]
        return result["stdout"]

    def stop(self) -> None:
        self.platform.stop_server(self.user.name)
