"""History of a project's files: versions with authors, the trash, snapshots (docs/history.md).

Plain functions over an object store (one project's view) and a SQLAlchemy session factory; the
API handlers in ``api/history.py`` and ``api/files.py`` and ``benchmarks/history.py`` call them.
Every function opens its database sessions in short synchronous stretches and never holds one
across an ``await`` (DESIGN.md decision 9). Errors are :class:`HistoryError` with an HTTP status
and a message that says what to do; nothing in the project changes before a check has passed.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from datadive_contents.stores.base import NotFound, ObjectInfo, ObjectStore
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import file_names, provenance
from .models import FileVersion, Snapshot, TrashEntry, utcnow
from .models.projects import new_id

SessionFactory = Callable[[], Session]
#: version checks and restores run at most this many store requests at once
PARALLEL = 16
#: a snapshot whose listing saw writes is taken again at most this many times, then refused
SNAPSHOT_ATTEMPTS = 3
SNAPSHOT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}")
#: the pseudo-name of the project as it is now, in comparisons (no snapshot may take it)
CURRENT = "current"


class HistoryError(Exception):
    """A refusal: ``status`` (404, 409, 400) and a message that says what to do."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    text = dt.isoformat()
    return text if dt.tzinfo else text + "Z"


def manifest_key(project_id: str, snapshot_id: str) -> str:
    """Where a snapshot's manifest lives in the store: beside, not inside, the project's files
    (so it is never listed, synced or snapshotted as one of them)."""
    return f"snapshots/{project_id}/{snapshot_id}.json"


# ---------------------------------------------------------------- authors of versions

BAD_CURSOR = "cursor is not one this service gave out; use the 'next' value of the previous page"


def encode_cursor(version_id: str) -> str:
    """The opaque cursor after ``version_id`` (so that a made-up value is refused, not sent on)."""
    return base64.urlsafe_b64encode(b"v1:" + version_id.encode()).rstrip(b"=").decode()


def encode_offset(offset: int) -> str:
    """The opaque cursor of a renamed file's versions (a position in their list)."""
    return base64.urlsafe_b64encode(b"o1:%d" % offset).rstrip(b"=").decode()


def decode_offset(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4))
        if raw.startswith(b"o1:") and raw[3:].isdigit():
            return int(raw[3:])
    except (ValueError, UnicodeError):
        pass
    raise HistoryError(400, BAD_CURSOR)


def decode_cursor(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4))
        if raw.startswith(b"v1:") and len(raw) > 3:
            return raw[3:].decode()
    except (ValueError, UnicodeError):
        pass
    raise HistoryError(400, BAD_CURSOR)


def record_writes(
    sessions: SessionFactory, project_id: str, infos: Iterable[ObjectInfo], author: str
) -> None:
    """Remember who wrote these versions (rows for versions the store gave an id to)."""
    infos = [i for i in infos if i.version_id]
    if not infos:
        return
    with sessions() as db:
        db.add_all(
            FileVersion(project_id=project_id, path=i.key, version_id=i.version_id, author=author)
            for i in infos
        )
        file_names.note_writes(db, project_id, infos)
        db.commit()


def authors_of(sessions: SessionFactory, project_id: str, version_ids: list[str]) -> dict[str, Any]:
    """version id → author, for the ids recorded by this service (one query)."""
    if not version_ids:
        return {}
    with sessions() as db:
        rows = db.execute(
            select(FileVersion.version_id, FileVersion.author).where(
                FileVersion.project_id == project_id, FileVersion.version_id.in_(version_ids)
            )
        )
        return {vid: author for vid, author in rows.tuples()}


def write_marker(sessions: SessionFactory, project_id: str) -> tuple[int, int]:
    """The newest write and delete recorded for the project (to notice writes during a listing)."""
    with sessions() as db:
        v = db.scalar(select(func.max(FileVersion.id)).where(FileVersion.project_id == project_id))
        t = db.scalar(select(func.max(TrashEntry.id)).where(TrashEntry.project_id == project_id))
    return v or 0, t or 0


def version_json(v: ObjectInfo, author: str | None, current: ObjectInfo | None) -> dict[str, Any]:
    return {
        "path": v.key,
        "name": v.key.rsplit("/", 1)[-1],
        "version_id": v.version_id,
        "size": v.size,
        "etag": v.etag,
        "last_modified": v.last_modified.isoformat() if v.last_modified else None,
        "author": author,
        "is_current": current is not None
        and (v.version_id == current.version_id if v.version_id else v.etag == current.etag),
    }


async def versions_page(
    store: ObjectStore,
    sessions: SessionFactory,
    project_id: str,
    key: str,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    """One page of ``key``'s versions, newest first, each with its author: one LIST and one HEAD
    on S3, one query for the authors. A version the service did not record (written by another
    S3 tool, or before this index existed) gets its author from the object's metadata."""
    file_id, segments = await asyncio.to_thread(file_names.history_of, sessions, project_id, key)
    if len(segments) == 1 and segments[0].first is None:
        after = None if cursor is None else decode_cursor(cursor)
        try:
            page, nxt = await store.list_versions_page(key, limit, after)
        except NotFound:
            if cursor is None:
                raise
            raise HistoryError(400, BAD_CURSOR) from None
        next_cursor = encode_cursor(nxt) if nxt else None
    else:  # renamed: the versions of each of its names, between the renames
        offset = 0 if cursor is None else decode_offset(cursor)
        versions: list[ObjectInfo] = []
        for seg in segments:
            versions += file_names.cut(await store.list_versions(seg.path), seg)
        page = versions[offset : offset + limit]
        more = offset + limit < len(versions)
        next_cursor = encode_offset(offset + limit) if more else None
    current = await store.head(key)
    if not page and current is None and cursor is None:
        raise HistoryError(404, f"No file {key!r} (and no history of it) in this project")
    if not page and cursor is None and current is not None:
        page = [current]  # a store that keeps no versions
    known = authors_of(sessions, project_id, [v.version_id for v in page if v.version_id])
    missing = [v for v in page if v.version_id not in known and v.author is None and v.version_id]
    if missing:
        sem = asyncio.Semaphore(PARALLEL)

        async def meta(v: ObjectInfo) -> ObjectInfo | None:
            async with sem:
                return await store.head(v.key, version_id=v.version_id)

        for v, got in zip(missing, await asyncio.gather(*map(meta, missing)), strict=True):
            if got is not None and got.author and v.version_id:
                known[v.version_id] = got.author
    return {
        "path": key,
        "file_id": file_id,
        "versions": [
            version_json(v, known.get(v.version_id or "") or v.author, current) for v in page
        ],
        "next": next_cursor,
    }


async def under_earlier_name(
    store: ObjectStore, sessions: SessionFactory, project_id: str, key: str, vid: str
) -> tuple[str, ObjectInfo | None]:
    """Version ``vid`` of the file now at ``key`` from before a rename: (the key it has there,
    its info); (``key``, None) when no earlier name of the file holds it."""
    _, segments = await asyncio.to_thread(file_names.history_of, sessions, project_id, key)
    for seg in segments:
        if seg.path != key:
            info = await store.head(seg.path, version_id=vid)
            if info is not None:
                return seg.path, info
    return key, None


async def restore_version(
    store: ObjectStore, sessions: SessionFactory, project_id: str, key: str, vid: str, author: str
) -> ObjectInfo:
    """Roll ``key`` forward to the content of ``vid`` (recorded as written by ``author``); a
    version from one of the file's earlier names is copied over from there."""
    if await store.head(key, version_id=vid) is None:
        old, found = await under_earlier_name(store, sessions, project_id, key, vid)
        if found is not None:
            stream = store.open_stream(old, version_id=vid)
            info = await store.put_stream(key, stream, author=author)
            record_writes(sessions, project_id, [info], author)
            return info
        raise HistoryError(
            404,
            f"No version {vid!r} of {key!r} (it may have been removed by a retention rule); "
            f"nothing was changed. List the versions that exist with GET .../versions/{key}",
        )
    info = await store.restore_version(key, vid, author=author)
    record_writes(sessions, project_id, [info], author)
    return info


# ---------------------------------------------------------------- trash


def add_trash(
    sessions: SessionFactory,
    project_id: str,
    path: str,
    kind: str,
    files: list[ObjectInfo],
    author: str,
) -> None:
    """Record a deleted file or folder with each file's version just before the delete."""
    with sessions() as db:
        db.add(
            TrashEntry(
                project_id=project_id,
                path=path,
                kind=kind,
                files=json.dumps([[f.key, f.version_id] for f in files]),
                deleted_by=author,
            )
        )
        db.commit()


def trash_json(t: TrashEntry) -> dict[str, Any]:
    return {
        "id": t.id,
        "path": t.path,
        "name": t.path.rsplit("/", 1)[-1],
        "kind": t.kind,
        "files": len(json.loads(t.files)),
        "deleted_at": iso(t.deleted_at),
        "deleted_by": t.deleted_by,
    }


def trash_page(
    sessions: SessionFactory, project_id: str, limit: int, after: int | None
) -> dict[str, Any]:
    """Deleted files and folders not restored yet, newest first (``after``: an entry id)."""
    q = select(TrashEntry).where(
        TrashEntry.project_id == project_id, TrashEntry.restored_at.is_(None)
    )
    if after is not None:
        q = q.where(TrashEntry.id < after)
    with sessions() as db:
        rows = list(db.scalars(q.order_by(TrashEntry.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"trash": [trash_json(t) for t in rows], "next": str(rows[-1].id) if more else None}


async def _latest_versions(store: ObjectStore, pairs: list[list[Any]]) -> list[tuple[str, str]]:
    """(path, version id) to restore; a file deleted without a version id gets its newest."""
    out = []
    for path, vid in pairs:
        if not vid:
            versions = await store.list_versions(path)
            if not versions:
                raise HistoryError(
                    409,
                    f"{path!r} has no stored version to restore (this store keeps no versions); "
                    "nothing was changed",
                )
            vid = versions[0].version_id
        out.append((path, vid))
    return out


async def _check_versions(store: ObjectStore, pairs: list[tuple[str, str]], what: str) -> None:
    sem = asyncio.Semaphore(PARALLEL)

    async def exists(path: str, vid: str) -> bool:
        async with sem:
            return await store.head(path, version_id=vid) is not None

    found = await asyncio.gather(*(exists(p, v) for p, v in pairs))
    gone = [p for (p, _), ok in zip(pairs, found, strict=True) if not ok]
    if gone:
        raise HistoryError(
            404,
            f"The stored version of {len(gone)} file(s) of {what} no longer exists (e.g. "
            f"{gone[0]!r}; removed by a retention rule?); nothing was changed",
        )


async def _restore_all(
    store: ObjectStore, pairs: list[tuple[str, str]], author: str
) -> list[ObjectInfo]:
    sem = asyncio.Semaphore(PARALLEL)

    async def one(path: str, vid: str) -> ObjectInfo:
        async with sem:
            return await store.restore_version(path, vid, author=author)

    return list(await asyncio.gather(*(one(p, v) for p, v in pairs)))


async def restore_from_trash(
    store: ObjectStore, sessions: SessionFactory, project_id: str, path: str, author: str
) -> dict[str, Any]:
    """Bring back the newest deleted file or folder at ``path`` (roll forward: each file's last
    version becomes current again). 409 if something exists at that path now."""
    with sessions() as db:
        entry = db.scalar(
            select(TrashEntry)
            .where(
                TrashEntry.project_id == project_id,
                TrashEntry.path == path,
                TrashEntry.restored_at.is_(None),
            )
            .order_by(TrashEntry.id.desc())
            .limit(1)
        )
        if entry is None:
            raise HistoryError(
                404,
                f"Nothing deleted at {path!r} in this project; list the trash with GET .../trash",
            )
        entry_id, kind, pairs = entry.id, entry.kind, json.loads(entry.files)
    pairs = await _latest_versions(store, pairs)
    heads = await asyncio.gather(*(store.head(p) for p, _ in pairs))
    taken = [p for (p, _), h in zip(pairs, heads, strict=True) if h is not None]
    if kind == "file" and not taken:
        below = await store.list(path)  # a folder of that name now
        taken = [path] if below.files or below.folders else []
    if taken:
        raise HistoryError(
            409,
            f"{taken[0]!r} exists again, so the deleted {kind} cannot come back "
            "under its name; nothing was changed. Rename or delete what is there now "
            "(it keeps its history), then restore again",
        )
    await _check_versions(store, pairs, f"the deleted {kind} {path!r}")
    infos = await _restore_all(store, pairs, author)
    record_writes(sessions, project_id, infos, author)
    with sessions() as db:
        entry = db.get(TrashEntry, entry_id)
        if entry is not None:
            entry.restored_at, entry.restored_by = utcnow(), author
            db.commit()
    return {"path": path, "kind": kind, "files": len(infos), "restored_by": author}


# ---------------------------------------------------------------- snapshots


def check_snapshot_name(value: object) -> str:
    if not isinstance(value, str) or not SNAPSHOT_NAME.fullmatch(value.strip()):
        raise HistoryError(
            400,
            "name must be 1 to 100 letters, digits, spaces, '.', '_' or '-', starting with a "
            "letter or digit (e.g. 'submitted-2026-12')",
        )
    if value.strip() == CURRENT:
        raise HistoryError(
            400,
            f"{CURRENT!r} names the project as it is now (in comparisons); choose another name",
        )
    return value.strip()


def snapshot_json(s: Snapshot) -> dict[str, Any]:
    return {
        "name": s.name,
        "created_at": iso(s.created_at),
        "created_by": s.created_by,
        "files": s.files,
        "bytes": s.bytes,
    }


@dataclass
class Taken:
    snapshot: dict[str, Any]
    requests: int
    attempts: int


async def take_snapshot(
    root: ObjectStore,
    files: ObjectStore,
    sessions: SessionFactory,
    project_id: str,
    name: str,
    author: str,
) -> Taken:
    """Record every file's current version under ``name``, copying no bytes: one versions
    LIST per 1,000 keys and one PUT of the manifest. A listing during which the project was
    written to (through the service) is taken again; after a few tries: 409."""
    name = check_snapshot_name(name)
    with sessions() as db:
        if db.scalar(
            select(Snapshot.id).where(Snapshot.project_id == project_id, Snapshot.name == name)
        ):
            raise HistoryError(
                409, f"This project already has a snapshot named {name!r}; choose another name"
            )
    before = root.request_count
    for attempt in range(1, SNAPSHOT_ATTEMPTS + 1):  # noqa: B007 - reported below
        mark = write_marker(sessions, project_id)
        latest = await files.list_latest("")
        if write_marker(sessions, project_id) == mark:
            break
    else:
        raise HistoryError(
            409,
            "The project was written to while the snapshot was being taken (tried "
            f"{SNAPSHOT_ATTEMPTS} times); no snapshot was made. Try again once the writes stop",
        )
    unversioned = [f.key for f in latest if not f.version_id]
    if unversioned:
        raise HistoryError(
            409,
            f"{len(unversioned)} file(s) have no version id (e.g. {unversioned[0]!r}): the store "
            "does not keep versions (turn on S3 bucket versioning); no snapshot was made",
        )
    latest.sort(key=lambda f: f.key)
    snap = Snapshot(
        project_id=project_id,
        name=name,
        created_by=author,
        files=len(latest),
        bytes=sum(f.size for f in latest),
        manifest_key="",
    )
    snap.id = new_id()
    snap.manifest_key = manifest_key(project_id, snap.id)
    entries = [
        {"path": f.key, "version_id": f.version_id, "size": f.size, "etag": f.etag} for f in latest
    ]
    manifest = {
        "name": name,
        "project_id": project_id,
        "created_at": iso(utcnow()),
        "created_by": author,
        "files": entries,
        **await read_provenance(files, entries),
    }
    await root.put(
        snap.manifest_key,
        json.dumps(manifest, separators=(",", ":")).encode(),
        if_none_match=True,
        author=author,
    )
    with sessions() as db:
        db.add(snap)
        try:
            db.commit()
            out = snapshot_json(snap)
        except IntegrityError:  # the same name, taken at the same moment
            db.rollback()
            out = None
    if out is None:
        await root.delete(snap.manifest_key)
        raise HistoryError(
            409, f"This project already has a snapshot named {name!r}; choose another name"
        )
    return Taken(out, root.request_count - before, attempt)


async def read_provenance(files: ObjectStore, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """``templates``, ``environment``, ``data_read`` (and ``skipped`` notebooks) of a manifest's
    files: one GET per notebook (bounded: ``provenance.notebooks_to_read``), plus one version
    listing per data file read at a version the snapshot does not hold."""
    notebooks, skipped = provenance.notebooks_to_read(entries)
    sem = asyncio.Semaphore(PARALLEL)

    async def read(f: dict[str, Any]) -> dict[str, Any]:
        async with sem:
            data, _ = await files.get(f["path"], version_id=f["version_id"])
        return await asyncio.to_thread(provenance.notebook_provenance, data)

    found = dict(
        zip(
            [f["path"] for f in notebooks],
            await asyncio.gather(*map(read, notebooks)),
            strict=True,
        )
    )
    versions = {f["path"]: {f["etag"]: f["version_id"]} for f in entries}
    older = sorted(
        {
            r["path"]
            for p in found.values()
            for r in p["data_read"]
            if not r.get("version_id") and r.get("etag") not in versions.get(r["path"], {})
        }
    )[: provenance.MAX_NOTEBOOKS]
    for path, listed in zip(
        older, await asyncio.gather(*(files.list_versions(p) for p in older)), strict=True
    ):
        versions.setdefault(path, {}).update({v.etag: v.version_id for v in listed})
    return {
        "templates": provenance.merge_templates(found),
        "environment": provenance.environment_of(entries),
        "data_read": provenance.merge_reads(found, versions),
        "skipped_notebooks": skipped,
    }


def find_snapshot(sessions: SessionFactory, project_id: str, name: str) -> Snapshot:
    with sessions() as db:
        snap = db.scalar(
            select(Snapshot).where(Snapshot.project_id == project_id, Snapshot.name == name)
        )
        if snap is None:
            raise HistoryError(
                404,
                f"No snapshot {name!r} in this project; list them with GET .../snapshots",
            )
        db.expunge(snap)
        return snap


def list_snapshots(sessions: SessionFactory, project_id: str) -> list[dict[str, Any]]:
    with sessions() as db:
        rows = db.scalars(
            select(Snapshot)
            .where(Snapshot.project_id == project_id)
            .order_by(Snapshot.created_at.desc(), Snapshot.name)
        )
        return [snapshot_json(s) for s in rows]


async def read_manifest(root: ObjectStore, snap: Snapshot) -> dict[str, Any]:
    try:
        data, _ = await root.get(snap.manifest_key)
    except NotFound:
        raise HistoryError(
            404,
            f"The manifest of snapshot {snap.name!r} is missing from the store; ask a hub admin "
            "to check the storage (nothing was changed)",
        ) from None
    manifest: dict[str, Any] = json.loads(data)
    return manifest


async def files_of(
    root: ObjectStore, files: ObjectStore, sessions: SessionFactory, project_id: str, name: str
) -> dict[str, dict[str, Any]]:
    """path → {path, version_id, size, etag} of snapshot ``name`` (or of the project now)."""
    if name == CURRENT:
        return {
            f.key: {"path": f.key, "version_id": f.version_id, "size": f.size, "etag": f.etag}
            for f in await files.list_latest("")
        }
    manifest = await read_manifest(root, find_snapshot(sessions, project_id, name))
    return {f["path"]: f for f in manifest["files"]}


def same_content(a: Mapping[str, object], b: Mapping[str, object]) -> bool:
    return a["version_id"] == b["version_id"] if a["version_id"] else a["etag"] == b["etag"]


async def compare_snapshots(
    root: ObjectStore,
    files: ObjectStore,
    sessions: SessionFactory,
    project_id: str,
    name: str,
    other: str,
) -> dict[str, Any]:
    """What changed from snapshot ``name`` to ``other`` (a snapshot or ``current``): files
    added, removed and changed (a changed file names both versions). Equal content under two
    version ids (a restore) counts as unchanged."""
    old = await files_of(root, files, sessions, project_id, name)
    new = await files_of(root, files, sessions, project_id, other)
    changed = [
        {"path": p, "from": old[p], "to": new[p]}
        for p in sorted(old.keys() & new.keys())
        if not same_content(old[p], new[p]) and old[p]["etag"] != new[p]["etag"]
    ]
    return {
        "from": name,
        "to": other,
        "added": [new[p] for p in sorted(new.keys() - old.keys())],
        "removed": [old[p] for p in sorted(old.keys() - new.keys())],
        "changed": changed,
        "unchanged": len(old.keys() & new.keys()) - len(changed),
    }


async def restore_snapshot(
    root: ObjectStore,
    files: ObjectStore,
    sessions: SessionFactory,
    project_id: str,
    name: str,
    author: str,
) -> dict[str, Any]:
    """Roll the project forward to snapshot ``name``: each changed or deleted file gets its
    recorded version back as a new version; files created since go to the trash (one entry
    each). Every recorded version is checked first: if one is gone, nothing changes (404)."""
    snap = find_snapshot(sessions, project_id, name)
    manifest = await read_manifest(root, snap)
    wanted = {f["path"]: f for f in manifest["files"]}
    current = {f.key: f for f in await files.list_latest("")}
    changed = [
        (path, f["version_id"])
        for path, f in wanted.items()
        if path not in current
        or (current[path].version_id != f["version_id"] and current[path].etag != f["etag"])
    ]
    extra = [current[p] for p in sorted(current.keys() - wanted.keys())]
    await _check_versions(files, changed, f"snapshot {name!r}")
    infos = await _restore_all(files, changed, author)
    record_writes(sessions, project_id, infos, author)
    sem = asyncio.Semaphore(PARALLEL)

    async def trash(f: ObjectInfo) -> None:
        async with sem:
            await files.delete(f.key)

    await asyncio.gather(*map(trash, extra))
    with sessions() as db:
        for f in extra:
            db.add(
                TrashEntry(
                    project_id=project_id,
                    path=f.key,
                    kind="file",
                    files=json.dumps([[f.key, f.version_id]]),
                    deleted_by=author,
                )
            )
        db.commit()
    return {
        "name": name,
        "restored": len(infos),
        "trashed": len(extra),
        "unchanged": len(wanted) - len(changed),
    }


__all__ = [
    "HistoryError",
    "add_trash",
    "authors_of",
    "compare_snapshots",
    "record_writes",
    "restore_from_trash",
    "restore_snapshot",
    "restore_version",
    "take_snapshot",
    "trash_page",
    "versions_page",
]
