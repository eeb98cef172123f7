"""``datadive/api/current-project``: the project open in the panel, where new files land.

Lab creates a new notebook or file in the file browser's folder; where the user cannot write
there (the read-only root, a viewer's project), the contents manager puts it in the project open
in the Datadive panel instead (see ``datadive_contents.landing``). The panel says which one with
``PUT {"project": id | null}``; ``GET`` answers ``{"project", "personal_project"}``.
"""

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import DatadiveHandler


class CurrentProjectHandler(DatadiveHandler):
    """The project open in this user's panel (kept in memory by the contents manager)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        cm = self.contents_manager
        self.finish(
            {
                "project": getattr(cm, "current_project", None),
                "personal_project": getattr(cm, "personal_project_name", None),
            }
        )

    @web.authenticated
    @authorized
    async def put(self) -> None:
        cm = self.contents_manager
        if not hasattr(cm, "current_project"):
            raise web.HTTPError(
                409, "This server's contents manager has no projects; nothing to select"
            )
        try:
            body = self.get_json_body()
        except web.HTTPError:
            body = None
        project = body.get("project", ...) if isinstance(body, dict) else ...
        if project is ... or not (project is None or (isinstance(project, str) and project)):
            raise web.HTTPError(
                400, 'Send a JSON object {"project": "<project id>"} (or {"project": null})'
            )
        if project is not None and len(project) > 200:
            raise web.HTTPError(400, "That is not a project id (longer than 200 characters)")
        cm.current_project = project
        self.finish({"project": project})


routes = [(r"api/current-project", CurrentProjectHandler)]
