"""projects: create, list, get, rename/describe, soft delete, restore, purge."""

import base64
import json

from sqlalchemy import select
from tornado import web

from .. import access
from ..models import Membership, PrincipalKind, Project, Role, utcnow
from . import serialize, validation
from .base import APIHandler

ID = r"(?P<project_id>[^/]+)"


def _check_unique(handler: APIHandler, name: str, creator: str, exclude: str | None = None):
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
    most = handler.service.api_page_max_limit
    raw = handler.get_argument("limit", "")
    if not raw:
        return min(handler.service.api_page_default_limit, most)
    if not raw.isdigit() or int(raw) < 1:
        raise web.HTTPError(400, f"limit must be a whole number from 1 to {most}, not {raw!r}")
    return min(int(raw), most)


#: a cursor this service gives out is base64 of a name key (at most a few hundred bytes) and an id
MAX_CURSOR = 2048


def _decode_cursor(raw: str) -> tuple[str, str]:
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


def _encode_cursor(project: Project) -> str:
    key = json.dumps([project.name_key, project.id]).encode()
    return base64.urlsafe_b64encode(key).rstrip(b"=").decode()


class ProjectsHandler(APIHandler):
    def get(self):
        deleted = self.get_argument("deleted", "0") in ("1", "true")
        everything = self.get_argument("all", "0") in ("1", "true")
        limit = page_size(self)
        cursor = self.get_argument("cursor", "")
        after = _decode_cursor(cursor) if cursor else None
        # a read-only listing: an autocommit connection, no session (nothing to roll back)
        with self.service.read_engine.connect() as conn:
            projects = access.visible_projects(
                conn,
                self.user,
                deleted=deleted,
                all_projects=everything,
                after=after,
                limit=limit + 1,
            )
        more = len(projects) > limit
        projects = projects[:limit]
        self.write_json(
            {
                "projects": [
                    serialize.project(p, access.role_among(members, self.user), members)
                    for p, members in projects
                ],
                "next": _encode_cursor(projects[-1][0]) if more else None,
            }
        )

    def post(self):
        if self.user.kind != "user":
            raise web.HTTPError(403, "Only users can create projects; use a user's token")
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

    def get(self, project_id):
        project = access.project_for(self, project_id, Role.viewer)
        self.write_json(serialize.project(project, self.role))

    def patch(self, project_id):
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

    def delete(self, project_id):
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

    def post(self, project_id):
        project = access.project_for(self, project_id, Role.owner, deleted=True)
        _check_unique(self, project.name, project.created_by, exclude=project.id)
        project.deleted_at = None
        self.commit()
        self.write_json(serialize.project(project, self.role))


class PurgeHandler(APIHandler):
    async def post(self, project_id):
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
