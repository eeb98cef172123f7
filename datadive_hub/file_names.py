"""Stable file ids: the names a file had, so that its history follows renames and moves.

A file written through the service gets an open name row (``file_names``) with a new file id; a
rename or move closes the old name at the last version it had there and opens the new one, with
the same id, at the version the move wrote. The versions of a file are then the versions of each
of its names between those bounds (``segments``). A path that was never renamed has one open name
from its first version: its history is its key's versions, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from datadive_contents.stores.base import ObjectInfo
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import FileName, utcnow


@dataclass(frozen=True)
class Segment:
    """The versions of ``path`` from ``first`` (None: its oldest) to ``last`` (None: newest)."""

    path: str
    first: str | None
    last: str | None


@dataclass(frozen=True)
class Move:
    """One file moved: the version it had at ``src``, the one the move wrote at ``dst`` and the
    content it replaced there (None: ``dst`` was free)."""

    src: str
    src_version: str | None
    dst: str
    dst_version: str | None
    replaced_version: str | None = None


def _open(db: Session, project_id: str, path: str) -> FileName | None:
    return db.scalar(
        select(FileName)
        .where(
            FileName.project_id == project_id,
            FileName.path == path,
            FileName.closed.is_(False),
        )
        .order_by(FileName.id.desc())
        .limit(1)
    )


def _used_before(db: Session, project_id: str, path: str) -> bool:
    return (
        db.scalar(
            select(FileName.id)
            .where(FileName.project_id == project_id, FileName.path == path)
            .limit(1)
        )
        is not None
    )


def note_writes(db: Session, project_id: str, infos: Iterable[ObjectInfo]) -> None:
    """Give each written path an open name (a file id) if it has none; a path another file
    had before starts its history at this version."""
    seen: set[str] = set()
    for info in infos:
        if info.key in seen or _open(db, project_id, info.key) is not None:
            continue
        seen.add(info.key)
        first = info.version_id if _used_before(db, project_id, info.key) else None
        db.add(FileName(project_id=project_id, path=info.key, first_version=first))


def note_moves(
    sessions: Callable[[], Session], project_id: str, moves: Iterable[Move], author: str
) -> None:
    """Close each moved file's old name and open its new one with the same file id."""
    now = utcnow()
    with sessions() as db:
        for m in moves:
            replaced = _open(db, project_id, m.dst)
            if replaced is not None:  # the file that was at dst ends there
                replaced.closed, replaced.last_version = True, m.replaced_version
            old = _open(db, project_id, m.src)
            if old is None:  # written before names were kept: its history is its key's
                old = FileName(project_id=project_id, path=m.src, first_version=None)
                db.add(old)
                db.flush()
            old.closed, old.last_version = True, m.src_version
            old.renamed_by, old.renamed_at = author, now
            db.add(
                FileName(
                    project_id=project_id,
                    file_id=old.file_id,
                    path=m.dst,
                    first_version=m.dst_version,
                    renamed_by=author,
                    renamed_at=now,
                )
            )
        db.commit()


def history_of(
    sessions: Callable[[], Session], project_id: str, path: str
) -> tuple[str | None, list[Segment]]:
    """The file id of the file now at ``path`` and its names, newest first. A path with no open
    name (never written through the service, or moved away) is its key's versions alone."""
    with sessions() as db:
        current = _open(db, project_id, path)
        if current is None:
            return None, [Segment(path, None, None)]
        rows = db.scalars(
            select(FileName)
            .where(FileName.project_id == project_id, FileName.file_id == current.file_id)
            .order_by(FileName.id.desc())
        ).all()
        return current.file_id, [
            Segment(r.path, r.first_version, r.last_version if r.closed else None) for r in rows
        ]


def cut(versions: list[ObjectInfo], seg: Segment) -> list[ObjectInfo]:
    """The part of ``versions`` (one key's, newest first) that belongs to ``seg``."""
    ids = [v.version_id for v in versions]
    start = ids.index(seg.last) if seg.last is not None and seg.last in ids else 0
    end = ids.index(seg.first) + 1 if seg.first is not None and seg.first in ids else len(ids)
    return versions[start:end]
