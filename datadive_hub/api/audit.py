"""projects/{id}/audit: the project's audit log, for its owners (newest first, paged), and its
export as JSON lines (oldest first)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from tornado import web

from .. import access
from ..models import AuditEvent, Role
from .base import APIHandler
from .projects import ID
from .serialize import iso

DEFAULT_LIMIT, MAX_LIMIT, EXPORT_BATCH = 100, 1000, 1000


def event_json(e: AuditEvent) -> dict[str, Any]:
    return {"id": e.id, "at": iso(e.at), "actor": e.actor, "action": e.action, "target": e.target}


def events_page(db: Session, project_id: str, limit: int, before: int | None) -> dict[str, Any]:
    """A page of the project's audit log, newest first: ``{"events", "next"}`` (``next``: the
    ``before`` of the following page, or None)."""
    query = select(AuditEvent).where(AuditEvent.project_id == project_id)
    if before is not None:
        query = query.where(AuditEvent.id < before)
    rows = db.scalars(query.order_by(AuditEvent.id.desc()).limit(limit + 1)).all()
    events = [event_json(e) for e in rows[:limit]]
    more = len(rows) > limit
    return {"events": events, "next": events[-1]["id"] if more else None}


def _int_arg(handler: web.RequestHandler, name: str, default: int | None) -> int | None:
    raw = handler.get_argument(name, None)
    if raw is None:
        return default
    if not raw.isdigit():
        raise web.HTTPError(400, f"{name} must be a whole number, not {raw!r}")
    return int(raw)


class AuditHandler(APIHandler):
    def get(self, project_id: str) -> None:
        project = access.project_for(self, project_id, Role.owner)
        self.service.audit.flush()  # what was just done is in the answer
        limit = min(_int_arg(self, "limit", DEFAULT_LIMIT) or DEFAULT_LIMIT, MAX_LIMIT)
        before = _int_arg(self, "before", None)
        self.write_json(events_page(self.db, project.id, limit, before))


class AuditExportHandler(APIHandler):
    async def get(self, project_id: str) -> None:
        project = access.project_for(self, project_id, Role.owner)
        pid = project.id
        self.service.audit.flush()
        self.set_header("Content-Type", "application/jsonl; charset=utf-8")
        self.set_header("Content-Disposition", f'attachment; filename="audit-{pid}.jsonl"')
        after = 0
        while True:
            query = (
                select(AuditEvent)
                .where(AuditEvent.project_id == pid, AuditEvent.id > after)
                .order_by(AuditEvent.id)
                .limit(EXPORT_BATCH)
            )
            rows = self.db.scalars(query).all()
            self.release_db()  # not held while the client reads
            if not rows:
                break
            self.write("".join(json.dumps(event_json(e)) + "\n" for e in rows))
            await self.flush()
            after = rows[-1].id
        self.finish()


routes = [
    (rf"projects/{ID}/audit/?", AuditHandler),
    (rf"projects/{ID}/audit/export", AuditExportHandler),
]
