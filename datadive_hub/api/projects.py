"""projects: create, list, get, rename/describe, soft delete, restore, purge."""

import asyncio
import base64
import functools
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine, select
from tornado import web

from .. import access
from ..hubapi import HubUser
from ..models import Membership, PrincipalKind, Project, Role, utcnow
from ..pagecache import caller_key
from . import serialize, validation
from .base import APIHandler, json_answer

ID = r"(?P<project_id>[^/]+)"


def _check_unique(handler: APIHandler, name: str, creator: str, exclude: str | None = None) -> None:
    q = select(Project.id).where(
        Project.created_by == creator,
        Project.name_key == name.casefold(),
        Project.deleted_at.is_(None),
    )
    if exclude:
        q = q.where(Project.id != exclude)
    if handler.db.scalar(q):
        raise web.HTTPError(409, f"You already have a project named {name!r}; choose another name")


def page_size(handler: APIHandler) -> int:
    """``?limit=``: the service's default page size if absent, at most its maximum (as
    JupyterHub's own API pages)."""
    most: int = handler.service.api_page_max_limit
    raw = handler.get_argument("limit", "")
    if not raw:
        default: int = handler.service.api_page_default_limit
        return min(default, most)
    if not raw.isdigit() or int(raw) < 1:
        raise web.HTTPError(400, f"limit must be a whole number from 1 to {most}, not {raw!r}")
    return min(int(raw), most)


#: a cursor this service gives out is base64 of a name key (at most a few hundred bytes) and an id
MAX_CURSOR = 2048


def decode_project_cursor(raw: str) -> tuple[str, str]:
    if len(raw) > MAX_CURSOR:
        raise web.HTTPError(
            400,
            "cursor is not one this service gave out; use the 'next' value of the previous page",
        )
    try:
        key = json.loads(base64.urlsafe_b64decode(raw.encode() + b"=" * (-len(raw) % 4)))
        if isinstance(key, list) and len(key) == 2 and all(isinstance(k, str) for k in key):
            return key[0], key[1]
    except (ValueError, UnicodeError, RecursionError):
        pass
    raise web.HTTPError(
        400, "cursor is not one this service gave out; use the 'next' value of the previous page"
    )


def encode_project_cursor(project: Project | access.PageProject) -> str:
    key = json.dumps([project.name_key, project.id]).encode()
    return base64.urlsafe_b64encode(key).rstrip(b"=").decode()


#: threads that read project pages (each holds one pooled connection while it reads)
_PAGE_READERS = ThreadPoolExecutor(4, thread_name_prefix="datadive-page")


def read_page(
    engine: Engine, user: HubUser, **page: Any
) -> list[tuple[access.PageProject, list[access.PageMember]]]:
    """:func:`access.visible_projects` on a connection of its own (runs in a worker thread): a
    read-only listing, so an autocommit connection and no session (nothing to roll back)."""
    with engine.connect() as conn:
        return access.visible_projects(conn, user, **page)


class ProjectsHandler(APIHandler):
    guests_allowed = True  # a guest's list holds its invited projects only (access.py)

    async def get(self) -> None:
        deleted = self.get_argument("deleted", "0") in ("1", "true")
        everything = self.get_argument("all", "0") in ("1", "true")
        limit = page_size(self)
        cursor = self.get_argument("cursor", "")
        after = decode_project_cursor(cursor) if cursor else None
        # the same caller asking the same page again while nothing was written gets the bytes
        # sent last time (pagecache.py: any write through this service empties it at once)
        cache = self.service.project_lists
        key = (caller_key(self.user), deleted, everything, cursor, limit)
        body = cache.get(key)
        if body is None:
            generation = cache.generation
            body = await self._read_page(deleted, everything, after, limit)
            cache.put(key, generation, body)
        self.finish(body)

    async def _read_page(
        self, deleted: bool, everything: bool, after: tuple[str, str] | None, limit: int
    ) -> bytes:
        # the page is read in a worker thread of its own pool: while the database answers, the
        # event loop serves other requests instead of waiting (the round trip is most of a
        # page's time), and a listing never queues behind other work in the default executor
        # (file reads and uploads)
        page = functools.partial(
            read_page,
            self.service.read_engine,
            self.user,
            deleted=deleted,
            all_projects=everything,
            after=after,
            limit=limit + 1,
        )
        projects = await asyncio.get_running_loop().run_in_executor(_PAGE_READERS, page)
        more = len(projects) > limit
        projects = projects[:limit]
        answer = {
            "projects": [
                serialize.project(p, access.role_in(p.id, members, self.user), members)
                for p, members in projects
            ],
            "next": encode_project_cursor(projects[-1][0]) if more else None,
        }
        return json_answer(answer)

    def post(self) -> None:
        if self.user.kind != "user":
            raise web.HTTPError(
                403, "Only hub users can create projects; use a user's token or sign in to the hub"
            )
        body = self.json_body(required=("name",))
        name = validation.project_name(body["name"])
        desc = validation.description(body.get("description", ""))
        _check_unique(self, name, self.user.name)
        project = Project(
            name=name, name_key=name.casefold(), description=desc, created_by=self.user.name
        )
        project.members.append(
            Membership(kind=PrincipalKind.user, name=self.user.name, role=Role.owner)
        )
        self.db.add(project)
        self.commit()
        self.log.info("%s created project %s (%s)", self.user.name, project.id, name)
        self.set_header("Location", self.request.path.rstrip("/") + "/" + project.id)
        self.write_json(serialize.project(project, Role.owner), status=201)


class ProjectHandler(APIHandler):
    audit_actions = {"patch": "changed the project", "delete": "deleted the project"}

    def get(self, project_id: str) -> None:
        project = access.project_for(self, project_id, Role.viewer)
        self.write_json(serialize.project(project, self.role))

    def patch(self, project_id: str) -> None:
        project = access.project_for(self, project_id, Role.owner)
        body = self.json_body()
        self.audit_target = ", ".join(f"{k} {v!r}" for k, v in body.items())[:1024]
        unknown = set(body) - {"name", "description"}
        if unknown or not body:
            raise web.HTTPError(400, "Send a JSON object with 'name' and/or 'description'")
        if "name" in body:
            name = validation.project_name(body["name"])
            _check_unique(self, name, project.created_by, exclude=project.id)
            project.name, project.name_key = name, name.casefold()
        if "description" in body:
            project.description = validation.description(body["description"])
        self.commit()
        self.write_json(serialize.project(project, self.role))

    def delete(self, project_id: str) -> None:
        if self.request.path.endswith("/"):
            # what a client makes of DELETE .../projects/<id>/files/.. (or files/a/../..) once it
            # resolves the dot segments: a file path, never a request to delete the project
            raise web.HTTPError(
                400,
                "Nothing was deleted: DELETE .../projects/<id>/ (with a trailing slash) is what "
                "a file path such as 'files/..' becomes; to delete a file or folder give its "
                "path under files/, to delete the project use .../projects/<id> without the slash",
            )
        project = access.project_for(self, project_id, Role.owner)
        project.deleted_at = utcnow()
        self.commit()
        self.log.info("%s deleted project %s (restorable)", self.user.name, project.id)
        self.write_json(serialize.project(project, self.role))


class RestoreHandler(APIHandler):
    audit_actions = {"post": "restored the project"}

    def post(self, project_id: str) -> None:
        project = access.project_for(self, project_id, Role.owner, deleted=True)
        _check_unique(self, project.name, project.created_by, exclude=project.id)
        project.deleted_at = None
        self.commit()
        self.write_json(serialize.project(project, self.role))


class PurgeHandler(APIHandler):
    async def post(self, project_id: str) -> None:
        pid = access.project_for(self, project_id, Role.owner, deleted=True).id
        self.release_db()  # not held across the store's await
        removed = await self.store.delete_prefix(f"projects/{pid}/")
        await self.store.delete_prefix(f"snapshots/{pid}/")  # the snapshots' manifests
        project = self.db.get(Project, pid)
        if project is not None:
            self.db.delete(project)
            self.commit()
        self.log.info("%s purged project %s (%s objects)", self.user.name, project_id, removed)
        self.write_json({"id": project_id, "purged": True, "objects_removed": removed})


routes = [
    (r"projects/?", ProjectsHandler),
    (rf"projects/{ID}/?", ProjectHandler),
    (rf"projects/{ID}/restore", RestoreHandler),
    (rf"projects/{ID}/purge", PurgeHandler),
]
