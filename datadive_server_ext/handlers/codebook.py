"""``datadive/api/codebook/<path of a data file>``: the codebook of a survey dataset.

GET answers the codebook stored beside the file (``<file>.codebook.json``) or, when there is
none, one built now from the file's own metadata (Qualtrics export + ``.qsf``, SPSS ``.sav``) or
inferred from its values. PUT stores an edited codebook, guarded by the sha256 of the stored file
the client read (409 when it changed since). Files go through the server's contents manager, so
a saved codebook reaches the project store like any other file; parsing runs off the event loop
and only for data files up to ``DatadiveExtension.codebook_max_data_mb``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import posixpath
import tempfile
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import ensure_async
from tornado import web

from ..survey import SUFFIXES as DATA_SUFFIXES
from ..survey import Codebook, CodebookInvalid, SurveyError, build_codebook, codebook_path
from .base import DatadiveHandler, KeyedLocks
from .templates import nesting_depth

#: largest codebook document a PUT may send
MAX_CODEBOOK_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 16

_lock = KeyedLocks()


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def clean_path(path: str) -> str:
    """The contents path of the data file, or 400 for one that leaves the root or is no data."""
    parts = path.replace("\\", "/").split("/")
    if path.startswith("/") or any(p in ("..", ".") for p in parts) or "\x00" in path:
        raise web.HTTPError(
            400, f"{path!r} is not a path inside your files; give it relative to the root"
        )
    path = "/".join(p for p in parts if p)
    if not path.lower().endswith(DATA_SUFFIXES):
        raise web.HTTPError(
            400,
            f"{path} is not survey data: codebooks belong to CSV, TSV, Excel or SPSS .sav files",
        )
    return path


NOT_SIGNED_IN = (
    "Not signed in: send your Jupyter token (Authorization: token ...) or open the server in "
    "the browser first"
)


class CodebookHandler(DatadiveHandler):
    # a caller without valid credentials gets 401 (jupyter-server's API default is 403, for a
    # caller who is known but not allowed), before any file is read
    def get_login_url(self) -> str:
        if not self.current_user:
            raise web.HTTPError(401, NOT_SIGNED_IN)
        return super().get_login_url()

    def check_xsrf_cookie(self) -> None:
        if hasattr(self, "_jupyter_current_user") and not self.current_user:
            raise web.HTTPError(401, NOT_SIGNED_IN)
        return super().check_xsrf_cookie()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        if status_code == 401:
            self.set_header("WWW-Authenticate", 'token realm="jupyter"')
        super().write_error(status_code, **kwargs)

    @property
    def max_bytes(self) -> int:
        return int(self.settings.get("datadive_codebook_max_data_mb", 100) * 1024 * 1024)

    async def data_model(self, path: str) -> dict[str, Any]:
        cm = self.contents_manager
        if not await ensure_async(cm.file_exists(path)):
            raise web.HTTPError(404, f"No data file {path}; check the name and folder")
        return await ensure_async(cm.get(path, content=False, type="file"))

    def check_size(self, path: str, model: dict[str, Any]) -> None:
        size = model.get("size")
        if size is not None and size > self.max_bytes:
            limit = self.settings.get("datadive_codebook_max_data_mb", 100)
            raise web.HTTPError(
                413,
                f"{path} is {size / 1e6:.1f} MB, more than the {limit:g} MB this server reads for "
                f"a codebook; run `datadive codebook {posixpath.basename(path)} --write` in a "
                "terminal, or ask your administrator to raise "
                "DatadiveExtension.codebook_max_data_mb",
            )

    async def stored(self, path: str) -> tuple[str | None, str | None]:
        """(text, sha256) of the stored codebook, or (None, None)."""
        cm, cb_path = self.contents_manager, codebook_path(path)
        if not await ensure_async(cm.file_exists(cb_path)):
            return None, None
        model = await ensure_async(cm.get(cb_path, content=True, type="file", format="text"))
        return model["content"], _sha256(model["content"])

    async def _bytes(self, path: str) -> bytes:
        model = await ensure_async(
            self.contents_manager.get(path, content=True, type="file", format="base64")
        )
        return await asyncio.to_thread(base64.b64decode, model["content"])

    async def build(self, path: str) -> Codebook:
        """The codebook the data file itself gives (with the ``.qsf`` beside an export)."""
        files = {posixpath.basename(path): await self._bytes(path)}
        qsf = await self.sibling_qsf(path)
        if qsf is not None:
            files[posixpath.basename(qsf)] = await self._bytes(qsf)
        try:
            return await asyncio.to_thread(_build_in_tmp, files, posixpath.basename(path))
        except SurveyError as e:
            raise web.HTTPError(400, str(e)) from None

    async def sibling_qsf(self, path: str) -> str | None:
        if not path.lower().endswith((".csv", ".tsv", ".txt")):
            return None
        folder = posixpath.dirname(path)
        listing = await ensure_async(
            self.contents_manager.get(folder, content=True, type="directory")
        )
        qsfs = sorted(
            m["path"]
            for m in listing["content"]
            if m["type"] == "file"
            and m["name"].lower().endswith(".qsf")
            and (m.get("size") or 0) <= self.max_bytes
        )
        same = posixpath.splitext(path)[0] + ".qsf"
        if same in qsfs:
            return same
        return qsfs[0] if len(qsfs) == 1 else None

    def reply(
        self, path: str, codebook: dict[str, Any], stored: bool, digest: str | None, **extra: Any
    ) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(
            json.dumps(
                {"path": path, "codebook": codebook, "stored": stored, "hash": digest, **extra}
            )
        )

    @web.authenticated
    @authorized
    async def get(self, path: str) -> None:
        path = clean_path(path)
        model = await self.data_model(path)
        text, digest = await self.stored(path)
        problem = None
        if text is not None:
            try:
                cb = await asyncio.to_thread(Codebook.loads, text)
                self.reply(path, cb.to_json(), True, digest)
                return
            except CodebookInvalid as e:
                # answer what the data says; saving over the broken file needs its hash
                problem = (
                    f"The stored {posixpath.basename(codebook_path(path))} is not a valid "
                    f"codebook ({e}); showing one built from the data, save it to replace the file"
                )
        self.check_size(path, model)
        cb = await self.build(path)
        extra = {"problem": problem} if problem else {}
        self.reply(path, cb.to_json(), False, digest, **extra)

    @web.authenticated
    @authorized
    async def put(self, path: str) -> None:
        path = clean_path(path)
        model = await self.data_model(path)
        doc, expect = self.codebook_body()
        try:
            cb = await asyncio.to_thread(Codebook.from_json, doc)
        except CodebookInvalid as e:
            raise web.HTTPError(400, f"codebook.{e}") from None
        async with _lock(path):
            _, digest = await self.stored(path)
            if digest != expect:
                raise web.HTTPError(
                    409,
                    f"The codebook of {path} changed since you read it (or was created "
                    "meanwhile); reload it, redo your edit and save again",
                )
            self.check_size(path, model)
            built = await self.build(path)
            present = set(built.names())
            for i, col in enumerate(cb.columns):
                if col.name not in present:
                    raise web.HTTPError(
                        400,
                        f"codebook.columns[{i}].name: {col.name!r} is not a column of {path}; "
                        "remove it or fix the name",
                    )
            if not cb.source:
                cb.source = built.source
            text = cb.dumps()
            await ensure_async(
                self.contents_manager.save(
                    {"type": "file", "format": "text", "content": text}, codebook_path(path)
                )
            )
        self.log.info("Datadive: saved the codebook of %s (%d columns)", path, len(cb.columns))
        self.reply(path, cb.to_json(), True, _sha256(text))

    def codebook_body(self) -> tuple[Any, str | None]:
        raw = self.request.body or b""
        if len(raw) > MAX_CODEBOOK_BYTES:
            raise web.HTTPError(
                413, f"The codebook is larger than {MAX_CODEBOOK_BYTES // 2**20} MB; send less"
            )
        try:
            body = json.loads(raw or b"{}")
        except RecursionError:
            body = None
        except (ValueError, UnicodeDecodeError) as e:
            raise web.HTTPError(400, f"The request body is not valid JSON ({e})") from None
        if body is None or nesting_depth(body, MAX_DEPTH) > MAX_DEPTH:
            raise web.HTTPError(400, f"The request body is nested more than {MAX_DEPTH} levels")
        if not isinstance(body, dict) or not isinstance(body.get("codebook"), dict):
            raise web.HTTPError(
                400, 'Send {"codebook": {...}, "hash": <the hash you read, or null>}'
            )
        expect = body.get("hash")
        if expect is not None and not isinstance(expect, str):
            raise web.HTTPError(400, "hash must be the text GET gave you, or null")
        return body["codebook"], expect


def _build_in_tmp(files: dict[str, bytes], name: str) -> Codebook:
    with tempfile.TemporaryDirectory(prefix="datadive-codebook-") as tmp:
        for fname, data in files.items():
            (Path(tmp) / fname).write_bytes(data)
        return build_codebook(Path(tmp) / name)[1]


routes = [(r"api/codebook/(?P<path>.+)", CodebookHandler)]
