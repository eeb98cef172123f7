"""Datasets linked from other projects, as the files API sees them (issue 12).

A link is a row (:class:`~datadive_hub.models.DatasetLink`), not an object in the store: project
B's path reads project A's object at the pinned version. Every function here is synchronous on a
short session: the files API calls them before or between its awaits of the store. Whether a
reader may read A is decided by :func:`datadive_hub.access.readable_projects` on every call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from . import access
from .api.serialize import iso
from .hubapi import HubUser
from .models import DatasetLink, Project


@dataclass(frozen=True)
class Linked:
    """One link, detached from its session, with whether the caller may read its source."""

    id: str
    path: str
    source_project_id: str
    source_project_name: str
    source_path: str
    version_id: str
    size: int
    etag: str
    modified: datetime
    readable: bool

    @property
    def source_key(self) -> str:
        """The source object's key under the store's root."""
        return f"projects/{self.source_project_id}/{self.source_path}"


def _detach(row: DatasetLink, name: str, readable: bool) -> Linked:
    return Linked(
        row.id,
        row.path,
        row.source_project_id,
        name,
        row.source_path,
        row.version_id,
        row.size,
        row.etag,
        row.modified,
        readable,
    )


def _load(db: Session, user: HubUser, rows: Iterable[DatasetLink]) -> list[Linked]:
    rows = list(rows)
    if not rows:
        return []
    ids = {r.source_project_id for r in rows}
    ok = access.readable_projects(db, ids, user)
    names = dict(db.execute(select(Project.id, Project.name).where(Project.id.in_(ids))).all())
    return [_detach(r, names.get(r.source_project_id, ""), r.source_project_id in ok) for r in rows]


def links_under(
    sessions: Callable[[], Session], project_id: str, prefix: str, user: HubUser
) -> list[Linked]:
    """The links of ``project_id`` at or below folder ``prefix`` ("" = all)."""
    with sessions() as db:
        q = db.query(DatasetLink).filter(DatasetLink.project_id == project_id)
        if prefix:
            q = q.filter(DatasetLink.path.startswith(prefix + "/", autoescape=True))
        return _load(db, user, q.order_by(DatasetLink.path))


def link_at(
    sessions: Callable[[], Session], project_id: str, key: str, user: HubUser
) -> Linked | None:
    """The link at exactly ``key`` in ``project_id``, or None."""
    with sessions() as db:
        row = db.query(DatasetLink).filter_by(project_id=project_id, path=key).one_or_none()
        return _load(db, user, [row])[0] if row is not None else None


def clashing(db: Session, project_id: str, key: str) -> DatasetLink | None:
    """A link that ``key`` cannot coexist with as a file: one at ``key``, at a parent folder of
    ``key``, or below ``key`` (then ``key`` is a folder of links)."""
    parts = key.split("/")
    parents = ["/".join(parts[:i]) for i in range(1, len(parts))]
    return (
        db.query(DatasetLink)
        .filter(
            DatasetLink.project_id == project_id,
            or_(
                DatasetLink.path.in_([key, *parents]),
                DatasetLink.path.startswith(key + "/", autoescape=True),
            ),
        )
        .first()
    )


def clash_at(sessions: Callable[[], Session], project_id: str, key: str) -> str | None:
    """The path of a link that ``key`` clashes with (see :func:`clashing`), or None."""
    with sessions() as db:
        row = clashing(db, project_id, key)
        return row.path if row is not None else None


def linked_message(path: str, doing: str) -> str:
    """The 409 for a write to a linked dataset: what it is and how to get a writable copy."""
    return (
        f"{path!r} is a dataset linked from another project (read-only, pinned to one version), "
        f"so it cannot be {doing}. To change it, make an independent copy with POST "
        ".../datasets/<id>/copy (or 'Make a copy' in the panel); to remove it, DELETE "
        ".../datasets/<id>; list the links with GET .../datasets"
    )


def file_entry(link: Linked) -> dict[str, Any]:
    """The files API's listing entry of a readable link: a read-only file."""
    return {
        "path": link.path,
        "name": link.path.rsplit("/", 1)[-1],
        "size": link.size,
        "etag": link.etag,
        "last_modified": iso(link.modified),
        "version_id": link.version_id,
        "writable": False,
        "linked": {
            "id": link.id,
            "project_id": link.source_project_id,
            "project": link.source_project_name,
            "path": link.source_path,
            "version_id": link.version_id,
        },
    }


def merge_listing(out: dict[str, Any], links: list[Linked], prefix: str, recursive: bool) -> None:
    """Add the readable ``links`` below ``prefix`` to a files API listing ``out`` (a link hides a
    stored object of the same path; a link in a sub-folder makes that folder appear)."""
    links = [link for link in links if link.readable]
    if not links:
        return
    base = prefix + "/" if prefix else ""
    files = {f["path"]: f for f in out["files"]}
    folders = {f["path"] for f in out["folders"]}
    for link in links:
        rest = link.path[len(base) :]
        if recursive or "/" not in rest:
            files[link.path] = file_entry(link)
        else:
            folders.add(base + rest.split("/", 1)[0])
    out["files"] = [files[k] for k in sorted(files)]
    out["folders"] = [{"path": d, "name": d.rsplit("/", 1)[-1]} for d in sorted(folders)]
