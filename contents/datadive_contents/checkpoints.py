"""DatadiveCheckpoints: Jupyter checkpoints backed by store versions.

A checkpoint is a real store version (its id is the version id). Which versions the user made
checkpoints of is recorded in a hidden object ``.datadive-checkpoints/<path>.json`` in the same
store, so every server sees them; deleting a checkpoint only forgets the mark — the version
itself stays in the file's history.
"""

from __future__ import annotations

import json
from typing import Any, Protocol, cast

from jupyter_server.services.contents.checkpoints import AsyncCheckpoints
from tornado.web import HTTPError

from .mounts import Mount
from .stores import NotFound, StoreError
from .workingcopy import CHECKPOINTS


class MountResolver(Protocol):
    """What checkpoints need from their contents manager (``DatadiveContentsManager`` is one)."""

    async def resolve(self, path: str) -> tuple[Mount | None, str]: ...

    def check_writable(self, m: Mount | None, rel: str, path: str) -> Mount: ...


class DatadiveCheckpoints(AsyncCheckpoints):
    """Checkpoints = marked versions of the file in its store."""

    async def _where(self, path: str) -> tuple[MountResolver, Mount, str]:
        cm = cast(MountResolver, self.parent)  # always set by the contents manager
        m, rel = await cm.resolve(path)
        if m is None or not rel:
            raise HTTPError(400, f"{path or 'the root'} has no checkpoints")
        return cm, m, rel

    @staticmethod
    def _mark_key(rel: str) -> str:
        return f"{CHECKPOINTS}/{rel}.json"

    async def _marks(self, m: Mount, rel: str) -> list[str]:
        try:
            data, _ = await m.store.get(self._mark_key(rel))
            return list(json.loads(data)["ids"])
        except (NotFound, ValueError, KeyError):
            return []

    async def _save_marks(self, m: Mount, rel: str, ids: list[str]) -> None:
        if ids:
            await m.store.put(self._mark_key(rel), json.dumps({"ids": ids}).encode())
        else:
            await m.store.delete(self._mark_key(rel))

    async def create_checkpoint(self, contents_mgr: Any, path: str) -> dict[str, Any]:
        cm, m, rel = await self._where(path.strip("/"))
        try:
            await m.wc.scan()  # the current content must be in the store
            info = await m.store.head(rel)
            if info is None:
                raise HTTPError(404, f"{path} does not exist in the store yet; save it first")
            if not info.version_id:
                raise HTTPError(
                    501,
                    "this store keeps no versions (enable bucket versioning) so checkpoints are unavailable",
                )
            ids = await self._marks(m, rel)
            if info.version_id not in ids:
                ids.append(info.version_id)
                await self._save_marks(m, rel, ids)
            return {"id": info.version_id, "last_modified": info.last_modified}
        except StoreError as e:
            raise HTTPError(503, f"cannot create a checkpoint of {path}: {e}") from e

    async def list_checkpoints(self, path: str) -> list[dict[str, Any]]:
        cm, m, rel = await self._where(path.strip("/"))
        ids = await self._marks(m, rel)
        if not ids:
            return []
        versions = {v.version_id: v for v in await m.store.list_versions(rel)}
        return [
            {"id": vid, "last_modified": versions[vid].last_modified}
            for vid in ids
            if vid in versions
        ][::-1]

    async def restore_checkpoint(self, contents_mgr: Any, checkpoint_id: str, path: str) -> None:
        cm, m, rel = await self._where(path.strip("/"))
        cm.check_writable(m, rel, path)
        try:
            await m.wc.restore(rel, checkpoint_id)
        except NotFound as e:
            raise HTTPError(404, f"checkpoint {checkpoint_id} of {path} does not exist") from e

    async def delete_checkpoint(self, checkpoint_id: str, path: str) -> None:
        cm, m, rel = await self._where(path.strip("/"))
        ids = await self._marks(m, rel)
        if checkpoint_id not in ids:
            raise HTTPError(404, f"checkpoint {checkpoint_id} of {path} does not exist")
        ids.remove(checkpoint_id)
        await self._save_marks(m, rel, ids)

    async def rename_checkpoint(self, checkpoint_id: str, old_path: str, new_path: str) -> None:
        """Versions belong to keys, so checkpoints do not follow a rename (history stays with the old name)."""

    async def rename_all_checkpoints(self, old_path: str, new_path: str) -> None:
        """See rename_checkpoint."""

    async def delete_all_checkpoints(self, path: str) -> None:
        """Deleting a file keeps its versions (recoverable); the marks go with it."""
        try:
            cm, m, rel = await self._where(path.strip("/"))
            await m.store.delete(self._mark_key(rel))
        except (HTTPError, StoreError):
            pass
