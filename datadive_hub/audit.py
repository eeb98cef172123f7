"""Records what happens in projects into the audit log (``audit_events``), in batches.

Handlers name their action (``APIHandler.audit_actions``); a request that succeeded is recorded
when it finishes. Writing one row per request would add a write transaction to every download
(and, on SQLite, lock contention), so events wait in memory and are written together at most
once per ``interval`` seconds, and before the audit log is read or the service stops. If the
database refuses a batch, the events stay queued for the next try (at most ``max_queued``; older
ones are then dropped, and that is logged).
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session
from tornado.ioloop import PeriodicCallback

from .models import AuditEvent, Project, utcnow


class AuditLog:
    def __init__(
        self,
        session_factory: Callable[[], Session],
        log: logging.Logger,
        interval: float = 1.0,
        max_queued: int = 100_000,
    ) -> None:
        self.session_factory = session_factory
        self.log = log
        self.max_queued = max_queued
        self._queue: collections.deque[dict[str, Any]] = collections.deque()
        self._timer = PeriodicCallback(self.flush, interval * 1000)

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self.flush()

    def record(self, project_id: str, actor: str, action: str, target: str = "") -> None:
        self._queue.append(
            {
                "project_id": project_id,
                "at": utcnow(),
                "actor": actor[:255],
                "action": action[:40],
                "target": target[:1024],
            }
        )
        while len(self._queue) > self.max_queued:
            dropped = self._queue.popleft()
            self.log.error("Audit log queue full; dropped %s", dropped)

    def flush(self) -> None:
        """Write the queued events (one transaction)."""
        if not self._queue:
            return
        batch = list(self._queue)
        try:
            with self.session_factory() as db:
                db.bulk_insert_mappings(AuditEvent, batch)
                db.commit()
        except IntegrityError:
            # a project purged since: its events go with it
            with self.session_factory() as db:
                ids = {e["project_id"] for e in batch}
                alive = set(db.scalars(select(Project.id).where(Project.id.in_(ids))))
            self._queue = collections.deque(e for e in self._queue if e["project_id"] in alive)
            return
        except DBAPIError as e:
            self.log.warning("Audit log: %d events not written yet (%s); retrying", len(batch), e)
            return
        for _ in batch:
            self._queue.popleft()
