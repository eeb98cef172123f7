"""Chunked uploads of large files (JupyterLab sends them in pieces, as jupyter_server's
``LargeFileManager`` receives them): chunks 1..n append to a temp file in the project's temp
folder, and chunk -1 (the last) is fsynced so the caller can move the file into place."""

from __future__ import annotations

import asyncio
import hashlib
import os


class ChunkedUploads:
    """The temp file of each upload in progress, by API path."""

    def __init__(self) -> None:
        self._files: dict[str, str] = {}

    async def append(self, tmp_dir: str, path: str, data: bytes, chunk: int) -> str:
        """Add chunk number ``chunk`` of ``path`` (1 starts it, -1 ends it); return its temp
        file. After chunk -1 the file is complete and no longer tracked here."""
        if chunk == 1 or path not in self._files:
            name = ".datadive-upload-" + hashlib.sha1(path.encode()).hexdigest()
            tmp = self._files[path] = os.path.join(tmp_dir, name)
            mode = "wb"
        else:
            tmp, mode = self._files[path], "ab"

        def write() -> None:
            with open(tmp, mode) as f:
                f.write(data)
                if chunk == -1:
                    f.flush()
                    os.fsync(f.fileno())

        await asyncio.to_thread(write)
        if chunk == -1:
            del self._files[path]
        return tmp
