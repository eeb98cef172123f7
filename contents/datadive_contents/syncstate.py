"""The sync state of one working copy: a SQLite database, and the only code that speaks SQL to it.

Tables:

- ``base``: per file, the store ETag and the local (mtime_ns, size) at the last sync;
- ``pending``: the journal of files waiting for upload (survives a restart);
- ``readonly``: files that are read-only here (datasets linked from another project);
- ``meta``: flags (``materialized``: every store file was downloaded once).

Two connections to one WAL database: ``jdb`` writes the journal (synchronous=FULL: a journal row
survives a power cut), always under the working copy's lock, from the event loop or from one
worker thread at a time; ``db`` holds the bases (synchronous=NORMAL: survives a crash of this
process; a base lost to a power cut only costs one re-check, because an upload or download is
then recognised by its content md5).
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass


@dataclass
class Base:
    etag: str
    mtime_ns: int
    size: int


class SyncState:
    """Bases, journal, read-only marks and flags of one working copy (see module docstring)."""

    def __init__(self, state_path: str) -> None:
        os.makedirs(os.path.dirname(state_path), exist_ok=True)
        self.jdb = sqlite3.connect(state_path, check_same_thread=False, isolation_level=None)
        self.jdb.execute("PRAGMA journal_mode=WAL")
        self.jdb.execute("PRAGMA synchronous=FULL")
        self.jdb.execute(
            "CREATE TABLE IF NOT EXISTS base (path TEXT PRIMARY KEY, etag TEXT, mtime_ns INT, size INT)"
        )
        self.jdb.execute("CREATE TABLE IF NOT EXISTS pending (path TEXT PRIMARY KEY, since REAL)")
        self.jdb.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT)")
        self.jdb.execute("CREATE TABLE IF NOT EXISTS readonly (path TEXT PRIMARY KEY)")
        #: files that are read-only here (linked datasets): never uploaded
        self.readonly = {r[0] for r in self.jdb.execute("SELECT path FROM readonly")}
        self.db = sqlite3.connect(state_path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA synchronous=NORMAL")
        self._materialized = False

    # -- bases ---------------------------------------------------------------------------
    def base(self, rel: str) -> Base | None:
        row = self.db.execute(
            "SELECT etag, mtime_ns, size FROM base WHERE path=?", (rel,)
        ).fetchone()
        return Base(*row) if row else None

    def set_base(self, rel: str, etag: str, mtime_ns: int, size: int) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO base VALUES (?, ?, ?, ?)", (rel, etag, mtime_ns, size)
        )

    def drop_base(self, rel: str) -> None:
        self.db.execute("DELETE FROM base WHERE path=?", (rel,))

    def bases_in(self, rel_dir: str) -> dict[str, Base]:
        """Bases of the files directly in folder ``rel_dir``, by name (one query)."""
        prefix = rel_dir + "/" if rel_dir else ""
        if prefix:
            # every path that starts with prefix sorts in [prefix, prefix + U+10FFFF)
            rows = self.db.execute(
                "SELECT path, etag, mtime_ns, size FROM base WHERE path >= ? AND path < ?",
                (prefix, prefix + "\U0010ffff"),
            )
        else:
            rows = self.db.execute("SELECT path, etag, mtime_ns, size FROM base")
        n = len(prefix)
        out = {}
        for path, etag, mtime_ns, size in rows:
            name = path[n:]
            if path.startswith(prefix) and "/" not in name:
                out[name] = Base(etag, mtime_ns, size)
        return out

    def all_bases(self) -> dict[str, Base]:
        """Every base, by path (one query)."""
        rows = self.db.execute("SELECT path, etag, mtime_ns, size FROM base")
        return {path: Base(etag, mtime_ns, size) for path, etag, mtime_ns, size in rows}

    # -- journal -------------------------------------------------------------------------
    def journal(self, rel: str) -> None:
        """Record ``rel`` as waiting for upload, durably (call with the working copy's lock)."""
        self.jdb.execute("INSERT OR REPLACE INTO pending VALUES (?, ?)", (rel, time.time()))

    def unjournal(self, rel: str) -> None:
        self.db.execute("DELETE FROM pending WHERE path=?", (rel,))

    def pending(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT path FROM pending ORDER BY since")]

    def confirm(self, rel: str, etag: str, mtime_ns: int, size: int) -> None:
        """The store has ``etag`` for the local file as it was at (mtime_ns, size): record the
        base and clear the journal row, in one transaction."""
        self.db.execute("BEGIN")
        try:
            self.db.execute(
                "INSERT OR REPLACE INTO base VALUES (?, ?, ?, ?)", (rel, etag, mtime_ns, size)
            )
            self.db.execute("DELETE FROM pending WHERE path=?", (rel,))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    # -- read-only marks and flags -----------------------------------------------------------
    def mark_read_only(self, rel: str, read_only: bool) -> None:
        if read_only:
            self.readonly.add(rel)
            self.db.execute("INSERT OR REPLACE INTO readonly VALUES (?)", (rel,))
        else:
            self.readonly.discard(rel)
            self.db.execute("DELETE FROM readonly WHERE path=?", (rel,))

    @property
    def materialized(self) -> bool:
        if not self._materialized:  # once set it stays set (cached: read per listing)
            row = self.db.execute("SELECT v FROM meta WHERE k='materialized'").fetchone()
            self._materialized = row is not None
        return self._materialized

    def mark_materialized(self) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('materialized', '1')")
        self._materialized = True

    def close(self) -> None:
        self.db.close()
        self.jdb.close()
