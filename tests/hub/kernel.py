"""Run code in a kernel through a user server's websocket, as JupyterLab does."""

import asyncio
import json
import uuid

import websockets


async def execute(ws_url: str, code: str, headers: dict, timeout: float = 60) -> dict:
    """Send ``execute_request`` on the kernel channels websocket; return the outputs seen."""
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
        "metadata": {},
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
    result = {"text/plain": None, "stdout": "", "error": None}
    async with websockets.connect(ws_url, additional_headers=headers, open_timeout=30) as ws:
        await ws.send(json.dumps(msg))
        async with asyncio.timeout(timeout):
            while True:
                reply = json.loads(await ws.recv())
                if reply.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind = reply["msg_type"]
                content = reply["content"]
                if kind == "execute_result":
                    result["text/plain"] = content["data"].get("text/plain")
                elif kind == "stream":
                    result["stdout"] += content.get("text", "")
                elif kind == "error":
                    result["error"] = f"{content['ename']}: {content['evalue']}"
                elif kind == "status" and content["execution_state"] == "idle":
                    return result
