"""Keeping every working copy in sync while the server runs: the periodic scan, the start-up
recovery, the flush before a stop (also on SIGTERM), and the sync status the panel shows.

Each file's own sync rules (save, pull, conflict, journal) are in :mod:`.workingcopy`; this module
decides when each working copy scans.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from types import FrameType
from typing import Any, Protocol

from .mounts import Mounts


class SyncSettings(Protocol):
    """What :class:`SyncLoop` reads from its contents manager (at each use)."""

    log: Any
    poll_interval: float
    max_uploads_per_scan: int
    flush_timeout: float

    @property
    def datadive_mode(self) -> bool: ...


class SyncLoop:
    """The periodic scan of every mount that syncs, and the flushes around it."""

    def __init__(self, mounts: Mounts, settings: SyncSettings) -> None:
        self.mounts = mounts
        self.settings = settings
        self._poller: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the periodic scan (once; needs a running loop; poll_interval 0 turns it off)."""
        if self.settings.poll_interval <= 0 or (
            self._poller is not None and not self._poller.done()
        ):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._poller = loop.create_task(self._poll_loop())

    def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()

    async def _poll_loop(self) -> None:
        cfg = self.settings
        while True:
            await asyncio.sleep(cfg.poll_interval)
            if cfg.datadive_mode:  # renames, removals and role changes apply without a request
                try:
                    await self.mounts.list()
                except Exception as e:
                    cfg.log.debug("project list not refreshed: %s", e)
            for m in list(self.mounts.by_key.values()):
                if not m.syncs:
                    continue
                try:
                    await m.wc.scan(limit=cfg.max_uploads_per_scan)
                except Exception as e:  # keep polling whatever happens
                    cfg.log.warning("sync of %s failed: %s", m.folder or "/", e)

    async def flush_all(self) -> dict[str, int]:
        """Upload everything pending in every working copy. Returns {folder: pending count
        left}: non-zero only if a store was unreachable."""
        if not self.settings.datadive_mode:
            await self.mounts.list()
        left: dict[str, int] = {}
        for m in list(self.mounts.by_key.values()):
            if m.syncs:
                try:
                    await m.wc.scan()
                except Exception as e:
                    self.settings.log.warning("flush of %s failed: %s", m.folder or "/", e)
                left[m.folder] = len(m.wc.pending())
        return left

    async def recover(self) -> dict[str, int]:
        """Mount everything and upload what a previous process left pending."""
        await self.mounts.list()
        return await self.flush_all()

    async def startup(self, flush_on_sigterm: bool) -> None:
        """Upload what a previous process left pending, and flush before SIGTERM stops us."""
        if flush_on_sigterm:
            self.install_sigterm_flush()
        try:
            left = await self.recover()
            if any(left.values()):
                self.settings.log.warning("after start-up, files still wait for upload: %s", left)
        except Exception as e:
            self.settings.log.warning("start-up sync failed (retried by the periodic scan): %s", e)

    def install_sigterm_flush(self) -> None:
        """On SIGTERM, flush (bounded by flush_timeout), then run the previous handler."""
        if threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        previous = signal.getsignal(signal.SIGTERM)
        log = self.settings.log

        async def flush_then_stop(sig: int, frame: FrameType | None) -> None:
            log.info("SIGTERM: uploading pending files before stopping")
            try:
                await asyncio.wait_for(self.flush_all(), self.settings.flush_timeout)
            except Exception as e:
                log.warning("flush on SIGTERM incomplete (journal kept for next start): %s", e)
            if callable(previous):
                previous(sig, frame)
            else:
                raise SystemExit(0)

        def handler(sig: int, frame: FrameType | None) -> None:
            loop.call_soon_threadsafe(lambda: asyncio.ensure_future(flush_then_stop(sig, frame)))

        signal.signal(signal.SIGTERM, handler)

    async def status(self) -> dict[str, Any]:
        """Per project: state (synced | syncing | conflict | offline | detached), pending count,
        conflicts, and what waits here unsent and why."""
        out = []
        for m in list(self.mounts.by_key.values()):
            st = m.wc.status()
            st.update({"folder": m.folder, "project_id": m.project_id, "writable": m.writable})
            if self.settings.datadive_mode and not m.syncs:  # what waits here, and why
                changed = await asyncio.to_thread(m.wc.changed_files, m.wc.all_bases())
                m.unsent = sorted(set(m.wc.pending()) | set(changed))
            if not m.attached:
                st["state"] = "detached"
                st["unsent"] = m.unsent[:100]
                st["message"] = (
                    f"{m.name} is no longer in your project list (deleted, or your access was "
                    "removed); it is not synced. "
                    + (
                        f"{len(m.unsent)} local change(s) were not uploaded; they are kept on "
                        f"this server in {m.wc.root}: copy them into a project you can edit."
                        if m.unsent
                        else "It had no unsent changes."
                    )
                )
            elif not m.writable and m.unsent:
                st["unsent"] = m.unsent[:100]
                st["message"] = (
                    f"you are a viewer of {m.name}: {len(m.unsent)} local change(s) cannot be "
                    "uploaded; ask an owner for the editor role, or save a copy in a project "
                    "you can edit"
                )
            out.append(st)
        states = {s["state"] for s in out}
        overall = next((s for s in ("offline", "conflict", "syncing") if s in states), "synced")
        projects = self.mounts.projects
        return {
            "state": overall,
            "pending": sum(s["pending"] for s in out),
            "projects": out,
            "project_list_error": projects.error if projects else None,
        }
