"""The notebook half of a save: bytes, validation and trust signature, and the notary's records.

:class:`NotebookSigning` prepares a notebook's bytes with :mod:`.nbwrite` (on the event loop when
its per-cell cache leaves little work, else in a worker thread) and stores the signature in the
notary's database from one dedicated thread, so a save never waits for that database's commit.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from nbformat.sign import NotebookNotary, SQLiteSignatureStore

from .nbwrite import NotebookWriter, Prepared


class NotebookSigning:
    """Prepare notebooks for saving with ``notary``; ``cache_bytes`` of per-cell cache (0: none)."""

    def __init__(self, notary: NotebookNotary, cache_bytes: int, log: logging.Logger) -> None:
        self.notary = notary
        self.log = log
        self._writer = NotebookWriter(notary, max_bytes=cache_bytes) if cache_bytes > 0 else None
        self._pool: ThreadPoolExecutor | None = None
        self._thread_store: SQLiteSignatureStore | None = None

    async def prepare(self, content: Any) -> Prepared:
        """The notebook's bytes, validation result and signature. Check, validation and
        serialisation run on the event loop when the cache leaves ~2 ms of work (a thread hop
        costs more than that on a busy machine), else in a worker thread."""
        prepared = self._writer.prepare_if_cheap(content) if self._writer else None
        if prepared is None:
            prepared = await asyncio.to_thread(self._prepare, content)
        return prepared

    def _prepare(self, content: Any) -> Prepared:
        """(worker thread)"""
        if self._writer is None:
            return NotebookWriter(self.notary, max_bytes=0).nbformat_path(content)
        return self._writer.prepare(content)

    def store_signature(self, prepared: Prepared, path: str) -> asyncio.Future[None] | None:
        """Store the notebook's signature in the notary's database (check_and_sign's last step).

        With nbformat's SQLite store on a file, a second connection to the same file in one
        dedicated thread does it (its commit costs a few fsyncs, more than the upload on a busy
        disk), and the save does not wait: the record lands milliseconds later, in save order,
        and :meth:`close` drains the thread. A record lost to a crash in between only means the
        notebook opens as untrusted (as a notebook from elsewhere would). In-memory or custom
        stores are written here, synchronously. Returns the thread's future or None."""
        if not prepared.trusted or (prepared.digest is None and prepared.sign_input is None):
            return None
        store = self.notary.store
        if isinstance(store, SQLiteSignatureStore) and store.db_file != ":memory:":
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="datadive-notary")
            return asyncio.get_running_loop().run_in_executor(
                self._pool,
                self._store_in_thread,
                store.db_file,
                store.cache_size,
                prepared,
                self.notary.algorithm,
                path,
            )
        try:
            store.store_signature(prepared.signature(), self.notary.algorithm)
        except Exception:
            self.log.warning("could not store the signature of %s", path, exc_info=True)
        return None

    async def stored(self) -> None:
        """Wait until the notary thread has stored every signature queued so far."""
        if self._pool is not None:
            await asyncio.get_running_loop().run_in_executor(self._pool, lambda: None)

    def _store_in_thread(
        self, db_file: str, cache_size: int, prepared: Prepared, algorithm: str, path: str
    ) -> None:
        try:
            digest = prepared.signature()
            st = self._thread_store
            if st is None or st.db_file != db_file:
                st = self._thread_store = SQLiteSignatureStore(db_file, cache_size=cache_size)
            st.store_signature(digest, algorithm)
        except Exception:
            self._thread_store = None
            self.log.warning("could not store the signature of %s", path, exc_info=True)

    def close(self) -> None:
        """Store what is queued, then stop the notary thread."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
