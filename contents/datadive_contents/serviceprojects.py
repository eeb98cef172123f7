"""Projects from the Datadive service: what ``DatadiveContentsManager.service_url`` switches on.

A user server under JupyterHub holds no storage credentials: it lists the user's projects, creates
the personal project and reads and writes each project's files through the service, with the
user's JupyterHub token.
"""

from __future__ import annotations

from typing import Any

from .serviceclient import ServiceClient
from .stores.base import ObjectStore


class ServiceProjects:
    """The project source, creator and store factory of a manager in Datadive mode."""

    def __init__(self, service_url: str, token: str, timeout: float) -> None:
        self.client = ServiceClient(service_url, token)
        #: seconds without an answer after which a file request counts as failed
        self.timeout = timeout

    async def list(self) -> list[dict[str, Any]]:
        """Every project the user may see, ``[{"id", "name", "role"}]`` (all pages)."""
        out: list[dict[str, Any]] = []
        cursor = None
        while True:
            query = {"limit": "500", **({"cursor": cursor} if cursor else {})}
            page = await self.client.request("GET", "projects", query=query)
            out += page["projects"]
            cursor = page.get("next")
            if not cursor:
                return out

    async def create(self, name: str) -> dict[str, Any]:
        """Create a project named ``name`` owned by the user."""
        made: dict[str, Any] = await self.client.request("POST", "projects", {"name": name})
        return made

    def store(self, project_id: str) -> ObjectStore:
        """The files of ``project_id``, through the service."""
        from .stores.hub import HubServiceStore  # aiohttp and presigned transfers: on first use

        return HubServiceStore(
            project_id,
            service_url=self.client.service_url,
            token=self.client.token,
            timeout=self.timeout,
        )

    async def close(self) -> None:
        await self.client.close()
