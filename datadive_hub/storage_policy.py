"""Storage quotas and version retention (docs/history.md, "Retention and quotas").

:class:`StoragePolicy` knows how many bytes each project keeps in the store (every version
counted: what the bucket holds), refuses a write that would pass the project's or its creator's
quota before any byte is stored, and thins out old versions of a file after each write when the
hub admin set ``keep_versions`` / ``keep_days``. A project's usage is counted once by a version
listing (one LIST per 1,000 versions) and then kept up to date by :class:`ProjectStore`, the view
of one project's files that every API handler writes through.

Retention never removes the current content of a file, a version a snapshot records or one a
"Recently deleted" entry would restore.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from datadive_contents.stores.base import NotFound, ObjectInfo, ObjectStore, PrefixStore
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .models import FileVersion, Project, Snapshot, TrashEntry


class QuotaExceeded(Exception):
    """A write would pass a quota; the message says by how much and what to do."""


def _mib(n: int) -> str:
    """A size for people: "49 KiB", "12.5 MiB", "3.2 GiB"."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n / 1024:.0f} KiB"


class StoragePolicy:
    """Usage per project, quota checks and retention for the service's store."""

    def __init__(
        self,
        root: ObjectStore,
        sessions: Callable[[], Session],
        log: logging.Logger,
        *,
        project_quota: int = 0,
        user_quota: int = 0,
        keep_versions: int = 0,
        keep_days: int = 0,
    ) -> None:
        self.root = root
        self.sessions = sessions
        self.log = log
        self.project_quota = project_quota
        self.user_quota = user_quota
        self.keep_versions = keep_versions
        self.keep_days = keep_days
        self._bytes: dict[str, int] = {}
        self._counting: dict[str, asyncio.Future[Any]] = {}
        self._pruning: set[asyncio.Task[Any]] = set()

    # -- usage -----------------------------------------------------------------------------

    def project_view(self, project_id: str) -> ProjectStore:
        return ProjectStore(self.root, project_id, self)

    async def project_bytes(self, project_id: str) -> int:
        """Bytes the project keeps (every version); counted once, then kept up to date."""
        if project_id in self._bytes:
            return self._bytes[project_id]
        pending = self._counting.get(project_id)
        if pending is None:
            pending = asyncio.ensure_future(self.root.stored_bytes(f"projects/{project_id}"))
            self._counting[project_id] = pending
        try:
            counted = await asyncio.shield(pending)
        finally:
            self._counting.pop(project_id, None)
        # writes reported while counting may or may not be in the listing: keep the larger
        self._bytes[project_id] = max(counted, self._bytes.get(project_id, 0))
        return self._bytes[project_id]

    def changed(self, project_id: str, delta: int) -> None:
        """A write (positive) or a removed version (negative) in a counted project."""
        if project_id in self._bytes:
            self._bytes[project_id] = max(0, self._bytes[project_id] + delta)

    def forget(self, project_id: str) -> None:
        """The project's files were removed or changed outside the policy: count again."""
        self._bytes.pop(project_id, None)

    def _creator_and_projects(self, project_id: str) -> tuple[str | None, list[str]]:
        with self.sessions() as db:
            creator = db.scalar(select(Project.created_by).where(Project.id == project_id))
            if creator is None:
                return None, []
            ids = list(db.scalars(select(Project.id).where(Project.created_by == creator)))
        return creator, ids

    async def usage(self, project_id: str) -> dict[str, Any]:
        """What an owner is shown: the project's bytes and quota, its creator's total and quota,
        and the retention in force."""
        used = await self.project_bytes(project_id)
        creator, ids = await asyncio.to_thread(self._creator_and_projects, project_id)
        user_bytes = sum([await self.project_bytes(i) for i in ids]) if ids else used
        return {
            "project_bytes": used,
            "project_quota": self.project_quota or None,
            "user": creator,
            "user_bytes": user_bytes,
            "user_quota": self.user_quota or None,
            "keep_versions": self.keep_versions or None,
            "keep_days": self.keep_days or None,
        }

    async def room(self, project_id: str) -> int | None:
        """Bytes the project may still add before a quota is reached (None: no quota)."""
        limits = []
        if self.project_quota:
            limits.append(self.project_quota - await self.project_bytes(project_id))
        if self.user_quota:
            _, ids = await asyncio.to_thread(self._creator_and_projects, project_id)
            used = sum([await self.project_bytes(i) for i in ids or [project_id]])
            limits.append(self.user_quota - used)
        return max(0, min(limits)) if limits else None

    async def check(self, project_id: str, adding: int) -> None:
        """Raise :class:`QuotaExceeded` if writing ``adding`` more bytes would pass a quota."""
        if not (self.project_quota or self.user_quota):
            return
        room = await self.room(project_id)
        if room is not None and adding > room:
            raise QuotaExceeded(await self.exceeded_message(project_id, adding))

    async def exceeded_message(self, project_id: str, adding: int | None) -> str:
        u = await self.usage(project_id)
        what = f"This write ({_mib(adding)})" if adding is not None else "This upload"
        parts = []
        if u["project_quota"]:
            parts.append(
                f"the project uses {_mib(u['project_bytes'])} of its {_mib(u['project_quota'])}"
            )
        if u["user_quota"]:
            parts.append(
                f"projects created by {u['user']} use {_mib(u['user_bytes'])} of "
                f"{_mib(u['user_quota'])}"
            )
        return (
            f"{what} would pass the storage quota ({'; '.join(parts)}, old versions included); "
            "nothing was written. Delete files or snapshots you no longer need, or ask a hub "
            "admin to raise DatadiveService.project_quota_bytes / user_quota_bytes"
        )

    # -- retention -------------------------------------------------------------------------

    def wrote(self, project_id: str, info: ObjectInfo) -> None:
        """Count a new version and, under a retention setting, thin out the file's old ones
        (in the background: the writer does not wait)."""
        self.changed(project_id, info.size)
        if self.keep_versions or self.keep_days:
            task = asyncio.ensure_future(self._prune_logged(project_id, info.key))
            self._pruning.add(task)
            task.add_done_callback(self._pruning.discard)

    async def settle(self) -> None:
        """Wait for background pruning (tests, shutdown)."""
        while self._pruning:
            await asyncio.gather(*list(self._pruning), return_exceptions=True)

    async def _prune_logged(self, project_id: str, key: str) -> None:
        try:
            removed = await self.prune(project_id, key)
            if removed:
                self.log.info(
                    "Retention removed %d old version(s) of %s in project %s",
                    len(removed),
                    key,
                    project_id,
                )
        except Exception:
            self.log.warning("Retention of %s in project %s failed", key, project_id, exc_info=True)

    def _protected_from_db(self, project_id: str, key: str) -> tuple[set[str], list[str]]:
        """Version ids of ``key`` that open trash entries would restore, and the project's
        snapshot manifests (keys in the store)."""
        keep: set[str] = set()
        with self.sessions() as db:
            for (files,) in db.execute(
                select(TrashEntry.files).where(
                    TrashEntry.project_id == project_id, TrashEntry.restored_at.is_(None)
                )
            ):
                keep.update(vid for path, vid in json.loads(files) if path == key and vid)
            manifests = list(
                db.scalars(select(Snapshot.manifest_key).where(Snapshot.project_id == project_id))
            )
        return keep, manifests

    async def _protected(self, project_id: str, key: str) -> set[str]:
        keep, manifests = await asyncio.to_thread(self._protected_from_db, project_id, key)
        for m in manifests:
            try:
                data, _ = await self.root.get(m)
            except NotFound:
                continue
            for f in json.loads(data).get("files", []):
                if f.get("path") == key and f.get("version_id"):
                    keep.add(f["version_id"])
        return keep

    def expired(self, versions: list[ObjectInfo], now: datetime | None = None) -> list[ObjectInfo]:
        """The versions (newest first) retention removes: beyond the newest ``keep_versions``,
        or older than ``keep_days``; never the newest (the current content)."""
        now = now or datetime.now(UTC)
        cutoff = now - timedelta(days=self.keep_days) if self.keep_days else None
        out = []
        for i, v in enumerate(versions):
            if i == 0:
                continue
            too_many = bool(self.keep_versions) and i >= self.keep_versions
            too_old = cutoff is not None and v.last_modified < cutoff
            if too_many or too_old:
                out.append(v)
        return out

    async def prune(self, project_id: str, key: str) -> list[str]:
        """Remove the versions of ``key`` retention no longer keeps; the ids removed."""
        files = self.root.sub(f"projects/{project_id}")
        versions = await files.list_versions(key)
        current = await files.head(key)
        doomed = [
            v
            for v in self.expired(versions)
            if current is None or v.version_id != current.version_id
        ]
        if not doomed:
            return []
        keep = await self._protected(project_id, key)
        removed = []
        for v in doomed:
            if v.version_id in keep or not v.version_id:
                continue
            try:
                await files.delete_version(key, v.version_id)
            except NotFound:
                continue
            self.changed(project_id, -v.size)
            removed.append(v.version_id)
        if removed:
            await asyncio.to_thread(self._forget_versions, project_id, removed)
        return removed

    def _forget_versions(self, project_id: str, version_ids: list[str]) -> None:
        with self.sessions() as db:
            db.execute(
                delete(FileVersion).where(
                    FileVersion.project_id == project_id, FileVersion.version_id.in_(version_ids)
                )
            )
            db.commit()


class ProjectStore(PrefixStore):
    """One project's files (``projects/<id>/``), reporting every write to the policy."""

    def __init__(self, root: ObjectStore, project_id: str, policy: StoragePolicy) -> None:
        super().__init__(root, f"projects/{project_id}")
        self.project_id = project_id
        self.policy = policy

    def _wrote(self, info: ObjectInfo) -> ObjectInfo:
        self.policy.wrote(self.project_id, info)
        return info

    async def put(self, key: str, data: bytes, **kw: Any) -> ObjectInfo:
        return self._wrote(await super().put(key, data, **kw))

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes], **kw: Any) -> ObjectInfo:
        return self._wrote(await super().put_stream(key, chunks, **kw))

    async def copy(self, src: str, dst: str, **kw: Any) -> ObjectInfo:
        return self._wrote(await super().copy(src, dst, **kw))

    async def restore_version(self, key: str, version_id: str, **kw: Any) -> ObjectInfo:
        return self._wrote(await super().restore_version(key, version_id, **kw))

    async def delete_prefix(self, prefix: str) -> int:
        n = await super().delete_prefix(prefix)
        self.policy.forget(self.project_id)
        return n
