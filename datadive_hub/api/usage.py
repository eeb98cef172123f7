"""projects/{id}/usage: the storage a project and its creator use, against the hub's quotas and
retention settings (owners only; datadive_hub/storage_policy.py counts)."""

from .. import access
from ..models import Role
from .base import APIHandler
from .projects import ID


class UsageHandler(APIHandler):
    async def get(self, project_id: str) -> None:
        pid = access.project_for(self, project_id, Role.owner).id
        self.release_db()
        self.write_json(await self.service.storage.usage(pid))


routes = [(rf"projects/{ID}/usage", UsageHandler)]
