"""``datadive/api/environments/{status,packages,build}[/<project folder>]``: a project's
environment (docs/environments.md).

- ``GET .../status``: requirements, lock, the environment built (installed packages, kernel), the running
  build's progress and log, the last error.
- ``POST .../packages`` ``{"add": "semopy>=2.3"}`` or ``{"remove": "semopy"}`` (optional
  ``"build": true``): edits ``requirements.txt``, re-locks with uv and saves both files; nothing
  is saved when the new requirements cannot be resolved (400 naming the package).
- ``POST .../build``: builds the environment in the background (202); poll ``GET``.

Without a folder the route means the server's root (single-root mode). The files go through the
contents manager, so a viewer of a project cannot change them (403) and edits reach the store.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import ensure_async
from tornado import web

from ..environments import spec
from ..environments.defaultkernel import project_identity
from ..environments.lock import LockError
from ..environments.service import Environments, Project
from .base import DatadiveHandler, KeyedLocks

MAX_BODY = 16 * 1024
_edit_lock = KeyedLocks()


OFF = (
    "Project environments are turned off on this hub (DatadiveExtension.environments_enabled); "
    "ask your administrator, or use %pip install for this session only"
)


class EnvironmentHandler(DatadiveHandler):
    @property
    def environments(self) -> Environments | None:
        envs: Environments | None = self.settings.get("datadive_environments")
        return envs

    @property
    def off(self) -> str:
        return self.settings.get("datadive_environments_off") or OFF

    def envs(self) -> Environments:
        if self.environments is None:
            raise web.HTTPError(403, self.off)
        return self.environments

    async def project(self, folder: str | None) -> Project:
        cm = self.contents_manager
        folder = (folder or "").strip("/")
        if "/" in folder or folder in (".", ".."):
            raise web.HTTPError(
                400, f"{folder!r} is not a project folder; give the project's top folder"
            )
        if not folder and getattr(cm, "datadive_mode", False):
            raise web.HTTPError(
                400, "Give a project folder: /datadive/api/environments/status/<project folder>"
            )
        model = await ensure_async(cm.get(folder, content=False, type="directory"))
        pid, name = project_identity(cm, folder)
        local = (
            cm.local_path(folder)
            if hasattr(cm, "local_path")
            else os.path.join(cm.root_dir, folder)
        )
        return Project(str(pid), str(name), folder, Path(local), bool(model.get("writable", True)))

    def path(self, project: Project, name: str) -> str:
        return f"{project.folder}/{name}" if project.folder else name

    async def read_file(self, project: Project, name: str) -> str | None:
        cm, path = self.contents_manager, self.path(project, name)
        if not await ensure_async(cm.file_exists(path)):
            return None
        model = await ensure_async(cm.get(path, content=True, type="file", format="text"))
        text: str = model["content"]
        return text

    async def write_file(self, project: Project, name: str, text: str) -> None:
        await ensure_async(
            self.contents_manager.save(
                {"type": "file", "format": "text", "content": text}, self.path(project, name)
            )
        )

    def check_writable(self, project: Project, what: str) -> None:
        if not project.writable:
            raise web.HTTPError(
                403,
                f"You are a viewer of project {project.name!r}: you cannot {what}; ask an owner "
                "for the editor role",
            )

    async def status(self, project: Project) -> dict[str, Any]:
        req = await self.read_file(project, spec.REQUIREMENTS)
        lock = await self.read_file(project, spec.LOCK)
        return self.envs().status(project, req, lock)

    async def start_build(self, project: Project) -> None:
        envs = self.envs()
        if envs.building(project):
            raise web.HTTPError(
                409, f"The environment of {project.name!r} is being built; wait for it"
            )
        req = await self.read_file(project, spec.REQUIREMENTS)
        lock = await self.read_file(project, spec.LOCK)
        if req is None and lock is None:
            raise web.HTTPError(
                400,
                f"Project {project.name!r} lists no packages; add one first (POST .../packages)",
            )

        async def save_lock(text: str) -> None:
            await self.write_file(project, spec.LOCK, text)

        envs.start_build(project, req, lock, save_lock if project.writable else None)

    def body(self) -> dict[str, Any]:
        if len(self.request.body or b"") > MAX_BODY:
            raise web.HTTPError(413, f"The request body is larger than {MAX_BODY // 1024} KB")
        try:
            body = self.get_json_body()
        except web.HTTPError:
            body = None
        if not isinstance(body, dict):
            raise web.HTTPError(
                400, 'Send a JSON object: {"add": "semopy>=2.3"} or {"remove": "semopy"}'
            )
        return body


class StatusHandler(EnvironmentHandler):
    @web.authenticated
    @authorized
    async def get(self, folder: str | None = None) -> None:
        if self.environments is None:
            self.finish({"enabled": False, "message": self.off})
            return
        self.finish(await self.status(await self.project(folder)))


class PackagesHandler(EnvironmentHandler):
    @web.authenticated
    @authorized
    async def post(self, folder: str | None = None) -> None:
        envs = self.envs()
        body = self.body()
        project = await self.project(folder)
        add, remove = body.get("add"), body.get("remove")
        if (add is None) == (remove is None) or not isinstance(add or remove, str):
            raise web.HTTPError(
                400,
                'Send either {"add": "<name and optional version range>"} or {"remove": "<name>"}',
            )
        self.check_writable(project, "change its packages")
        if envs.building(project):
            raise web.HTTPError(
                409, f"The environment of {project.name!r} is being built; wait for it"
            )
        async with _edit_lock(project.id):  # two edits at once: the second sees the first's
            await self.edit(project, envs, add, remove)
        self.log.info(
            "Datadive: %s %s in project %s",
            "added" if add else "removed",
            add or remove,
            project.name,
        )
        if body.get("build"):
            await self.start_build(project)
            self.set_status(202)
        self.finish(await self.status(project))

    async def edit(
        self, project: Project, envs: Environments, add: str | None, remove: str | None
    ) -> None:
        old = await self.read_file(project, spec.REQUIREMENTS) or ""
        try:
            if add is not None:
                new = spec.add_package(old, add)[0]
            else:
                assert remove is not None  # post() takes exactly one of them
                new = spec.remove_package(old, remove)
        except spec.SpecError as e:
            raise web.HTTPError(400, e.message) from None
        try:
            lock = await envs.relock(new)
        except LockError as e:
            raise web.HTTPError(400, e.message) from None
        # the lock first: requirements.txt never names a package the lock lacks
        await self.write_file(project, spec.LOCK, lock)
        await self.write_file(project, spec.REQUIREMENTS, new)


class BuildHandler(EnvironmentHandler):
    @web.authenticated
    @authorized
    async def post(self, folder: str | None = None) -> None:
        self.envs()
        project = await self.project(folder)
        await self.start_build(project)
        self.set_status(202)
        self.finish(await self.status(project))


# the action comes first, so a project named "build" or "packages" is still just a folder
_F = r"(?:/(?P<folder>[^/]+))?"
routes = [
    (rf"api/environments/status{_F}", StatusHandler),
    (rf"api/environments/packages{_F}", PackagesHandler),
    (rf"api/environments/build{_F}", BuildHandler),
]
