"""``datadive/api/history/diff/<project>/<path>?old=&new=``: two versions of a notebook compared
cell by cell (nbdime, see :mod:`datadive_server_ext.notebookdiff`).

Both versions are read through the hub service with this server's token (so the service decides
who may read them); each is refused above ``DatadiveExtension.history_diff_max_mb`` before its
bytes are read, and the comparison runs off the event loop.
"""

import asyncio
from urllib.parse import quote

import aiohttp
from datadive_contents.serviceclient import service_error
from jupyter_server.auth.decorator import authorized
from tornado import web

from ..notebookdiff import NotAComparableNotebook, compare
from .base import DatadiveHandler


class NotebookDiffHandler(DatadiveHandler):
    """``GET``: ``old`` (a version id, required) against ``new`` (a version id; default: the
    current version)."""

    @property
    def max_bytes(self) -> int:
        return int(self.settings.get("datadive_history_diff_max_mb", 20.0) * 1024 * 1024)

    async def _version(self, project_id: str, path: str, version_id: str | None) -> bytes:
        """One version's bytes, refused (413) above the limit before they are read."""
        query = {"version_id": version_id} if version_id else None
        resp = await self.service.open(
            "GET",
            f"projects/{quote(project_id, safe='')}/files/{quote(path)}",
            query=query,
            headers={"Accept-Encoding": "identity"},
        )
        if resp.status != 200:
            raise await service_error(resp)
        try:
            size = int(resp.headers.get("X-Datadive-Size") or resp.content_length or 0)
            limit = self.max_bytes
            if size > limit:
                raise web.HTTPError(413, self._too_large(path, size))
            chunks, total = [], 0
            async for chunk in resp.content.iter_chunked(256 * 1024):
                total += len(chunk)
                if total > limit:  # the service's size was wrong: still bounded
                    raise web.HTTPError(413, self._too_large(path, total))
                chunks.append(chunk)
            return b"".join(chunks)
        except (TimeoutError, aiohttp.ClientError) as e:
            raise web.HTTPError(
                502, f"Reading {path!r} from the Datadive service failed ({e}); try again"
            ) from None
        finally:
            resp.release()

    def _too_large(self, path: str, size: int) -> str:
        mb = self.max_bytes / 1024 / 1024
        return (
            f"{path!r} is {size / 1024 / 1024:.1f} MB, more than the {mb:g} MB this server "
            "compares; open the two versions side by side instead, or ask an admin to raise "
            "DatadiveExtension.history_diff_max_mb"
        )

    @web.authenticated
    @authorized
    async def get(self, project_id: str, path: str) -> None:
        old = self.get_argument("old", "")
        new = self.get_argument("new", "") or None
        if not old:
            raise web.HTTPError(
                400,
                "old must be a version id from the file's Versions list (new: another one, "
                "or none for the current version)",
            )
        if any(part in ("", ".", "..") for part in path.split("/")):
            raise web.HTTPError(400, f"{path!r} is not a path inside the project (no '.' or '..')")
        if not path.endswith(".ipynb"):
            raise web.HTTPError(
                415,
                f"{path!r} is not a notebook; only notebooks (.ipynb) are compared cell by cell",
            )
        before, after = await asyncio.gather(
            self._version(project_id, path, old), self._version(project_id, path, new)
        )
        try:
            result = await asyncio.to_thread(compare, before, after)
        except NotAComparableNotebook as e:
            raise web.HTTPError(422, f"Cannot compare {path!r}: {e}") from None
        self.finish({"path": path, "old": old, "new": new, **result})


routes = [(r"api/history/diff/(?P<project_id>[^/]+)/(?P<path>.+)", NotebookDiffHandler)]
