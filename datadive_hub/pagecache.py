"""A short-lived cache of project-list answers, emptied by every write to the service's database.

A researcher's panel and every open tab ask for the same first page of ``GET projects`` again and
again; between two writes the answer cannot change. Each answer is kept as the bytes sent, keyed
by everything it depends on (who asks: name, kind, admin flag, groups, a guest's invitation roles;
and the query), under the database's *write generation*: any statement other than a SELECT and
any commit on the service's engines starts a new generation, so a write made through the service
is seen by the very next request. A page read while a write was under way carries the generation
it started in and is never served. Writes made by another process (a second service replica, a
database console) are seen within ``seconds`` (``DatadiveService.project_list_cache_seconds``).
"""

from __future__ import annotations

import itertools
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from .hubapi import HubUser


class PageCache:
    """Answers by key, valid while the database's write generation is unchanged and for at most
    ``seconds``; the ``size`` most recently used are kept."""

    def __init__(self, seconds: float, size: int = 512) -> None:
        self.seconds = seconds
        self.size = size
        self._counter = itertools.count(1)
        self.generation = 0
        self._entries: OrderedDict[Hashable, tuple[int, float, bytes]] = OrderedDict()

    def bump(self) -> None:
        """A write happened: no answer read before it is served again."""
        self.generation = next(self._counter)  # atomic under the GIL (writes happen in threads)

    def watch(self, engine: Engine) -> None:
        """Start a new generation on every write statement and every commit on ``engine``."""

        @event.listens_for(engine, "before_cursor_execute")
        def _statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if not statement.lstrip()[:6].upper().startswith("SELECT"):
                self.bump()

        @event.listens_for(engine, "commit")
        def _commit(_conn: Any) -> None:
            self.bump()

    def get(self, key: Hashable) -> bytes | None:
        if self.seconds <= 0:
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        generation, expires, body = entry
        if generation != self.generation or time.monotonic() > expires:
            self._entries.pop(key, None)
            return None
        self._entries.move_to_end(key)
        return body

    def put(self, key: Hashable, generation: int, body: bytes) -> None:
        """Keep ``body``, read in ``generation`` (taken before the read began)."""
        if self.seconds <= 0 or generation != self.generation:
            return
        self._entries[key] = (generation, time.monotonic() + self.seconds, body)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


def caller_key(user: HubUser) -> Hashable:
    """Everything about the caller a project list depends on."""
    return (
        user.kind,
        user.name,
        user.admin,
        user.groups,
        tuple(sorted(user.guest_roles.items())),
    )
