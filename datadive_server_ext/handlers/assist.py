"""``datadive/api/assist`` and ``datadive/api/assist/recheck``: the test assistant on a data file
of this server's contents (see docs/assistant.md for the contract).

The path is a contents path (relative to the server's root); it is resolved through the
contents manager and must stay inside the root. The computation runs in a small thread pool,
off the event loop, and is given ``ASSIST_TIMEOUT`` seconds.
"""

from __future__ import annotations

import asyncio
import json
import os
import posixpath
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import ensure_async
from tornado import web

from ..assistant import AssistError, Question, assist_file, recheck
from .base import DatadiveHandler

#: largest request body (the question is a few column names)
MAX_BODY = 64 * 1024
#: seconds a computation may take before the answer is 504
ASSIST_TIMEOUT = 120.0
#: largest data file read through the contents API when it is not on local disk
MAX_REMOTE_BYTES = 200 * 1024 * 1024

_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="datadive-assist")


def clean_path(path: Any) -> str:
    """A contents path without traversal: relative, no ``..``, no backslashes or NULs."""
    if not isinstance(path, str) or not path.strip("/"):
        raise web.HTTPError(
            400, 'Give the data file as "path": its path in the file browser, e.g. "study/data.csv"'
        )
    if "\\" in path or "\x00" in path:
        raise web.HTTPError(400, f"{path!r} is not a valid path; use / between folders")
    parts = path.strip("/").split("/")
    if any(p in ("..", ".") for p in parts) or path.startswith("/"):
        raise web.HTTPError(
            400, f"{path!r} leaves the server's folder; give a path inside it (no '..')"
        )
    return "/".join(p for p in parts if p)


class AssistBase(DatadiveHandler):
    def json_body(self) -> dict[str, Any]:
        body = self.request.body or b""
        if len(body) > MAX_BODY:
            raise web.HTTPError(413, f"The request body is larger than {MAX_BODY} bytes")
        try:
            data = json.loads(body or b"{}")
        except (ValueError, RecursionError) as e:
            raise web.HTTPError(400, f"The request body is not valid JSON ({e})") from None
        if not isinstance(data, dict):
            raise web.HTTPError(400, "The request body must be a JSON object")
        return data

    async def local_file(self, path: str) -> tuple[str, str | None]:
        """``(os path, temporary copy or None)`` of contents path ``path``; 404 when absent."""
        cm = self.contents_manager
        model = await ensure_async(cm.get(path, content=False))
        if model.get("type") == "directory":
            raise web.HTTPError(400, f"{path} is a folder; give the path of a data file")
        kernel_path = getattr(cm, "get_kernel_path", None)
        if kernel_path is not None and hasattr(cm, "local_path"):
            await ensure_async(kernel_path(path))  # Datadive: make the working copy current
        to_os = getattr(cm, "local_path", None) or getattr(cm, "_get_os_path", None)
        if to_os is not None:
            os_path = to_os(path)
            root = getattr(cm, "working_root", None) or cm.root_dir
            real, real_root = os.path.realpath(os_path), os.path.realpath(root)
            if real != real_root and not real.startswith(real_root.rstrip(os.sep) + os.sep):
                raise web.HTTPError(404, f"No file {path}")
            if os.path.isfile(os_path):
                return os_path, None
        # not on local disk: read it through the contents API into a temporary file
        size = model.get("size")
        if size is not None and size > MAX_REMOTE_BYTES:
            raise web.HTTPError(413, f"{path} is larger than {MAX_REMOTE_BYTES} bytes")
        full = await ensure_async(cm.get(path, content=True, format="base64", type="file"))
        import base64

        data = base64.b64decode(full["content"])
        fd, tmp = tempfile.mkstemp(suffix=posixpath.splitext(path)[1])
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return tmp, tmp

    async def compute(self, fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        try:
            return await asyncio.wait_for(loop.run_in_executor(_pool, fn, *args), ASSIST_TIMEOUT)
        except AssistError as e:
            raise web.HTTPError(400, str(e)) from None
        except TimeoutError:
            raise web.HTTPError(
                504,
                f"The analysis took longer than {ASSIST_TIMEOUT:.0f} s; use a filter to analyse "
                "fewer rows",
            ) from None

    def shown_path(self, path: str, notebook: Any) -> str:
        """How the cell names the data: relative to the notebook's folder (default: the data's
        folder, where the notebook usually is)."""
        base = posixpath.dirname(path)
        if isinstance(notebook, str) and notebook.strip("/"):
            base = posixpath.dirname(clean_path(notebook))
        return posixpath.relpath(path, base or ".")

    def reply(self, answer: dict[str, Any]) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(answer, allow_nan=False, ensure_ascii=False))


class AssistHandler(AssistBase):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body()
        path = clean_path(body.pop("path", None))
        notebook = body.pop("notebook", None)
        try:
            question = Question.from_dict({k: v for k, v in body.items() if v is not None})
        except AssistError as e:
            raise web.HTTPError(400, str(e)) from None
        os_path, tmp = await self.local_file(path)
        try:
            answer = await self.compute(
                assist_file, os_path, question, self.shown_path(path, notebook)
            )
        finally:
            if tmp:
                os.unlink(tmp)
        answer["cell"]["metadata"]["datadive"]["assistant"]["data"]["path"] = path
        self.log.info("Datadive assistant: %s on %s", answer["test"], path)
        self.reply(answer)


class RecheckHandler(AssistBase):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body()
        path = clean_path(body.get("path"))
        metadata = body.get("metadata")
        if not isinstance(metadata, dict):
            raise web.HTTPError(
                400, 'Send the cell\'s metadata as "metadata": its datadive.assistant object'
            )
        os_path, tmp = await self.local_file(path)
        try:
            result = await self.compute(
                recheck, metadata, os_path, self.shown_path(path, body.get("notebook"))
            )
        finally:
            if tmp:
                os.unlink(tmp)
        result["answer"]["cell"]["metadata"]["datadive"]["assistant"]["data"]["path"] = path
        self.reply(result)


routes = [
    (r"api/assist/?", AssistHandler),
    (r"api/assist/recheck/?", RecheckHandler),
]
