"""``datadive/api/sync``: the working copy's sync state, for the panel's status-bar item."""

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import DatadiveHandler


class SyncHandler(DatadiveHandler):
    """``{"state": synced|syncing|conflict|offline|unavailable, "pending": N, "projects": [...]}``."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        status = getattr(self.contents_manager, "sync_status", None)
        if status is None:
            self.finish(
                {
                    "state": "unavailable",
                    "pending": 0,
                    "projects": [],
                    "message": "This server's contents manager does not sync to a store",
                }
            )
            return
        self.finish(await status())


routes = [(r"api/sync", SyncHandler)]
