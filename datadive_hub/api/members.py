"""projects/{id}/members: users and JupyterHub groups with a role; a project keeps a user owner.

A user may be added before they have signed in: the membership is kept under the (normalised)
name and is *pending* until JupyterHub knows the user; access is decided by name, so it takes
effect at their first sign-in.
"""

import asyncio
import re
from typing import Any

from tornado import web

from .. import access
from ..models import Membership, PrincipalKind, Project, Role
from . import serialize
from .base import APIHandler
from .projects import ID

MEMBER = r"(?P<kind>user|group)/(?P<name>[^/]+)"


def _kind(value: Any) -> PrincipalKind:  # a JSON value: what is not a kind answers 400
    try:
        return PrincipalKind(value)
    except ValueError:
        raise web.HTTPError(400, "kind must be 'user' or 'group'") from None


def _role(value: Any) -> Role:  # a JSON value: Role.parse refuses what is not a role name
    try:
        return Role.parse(value)
    except ValueError as e:
        raise web.HTTPError(400, str(e)) from None


def _find(project: Project, kind: PrincipalKind, name: str) -> Membership:
    for m in project.members:
        if m.kind == kind and m.name == name:
            return m
    raise web.HTTPError(
        404, f"{kind} {name!r} is not a member of this project; list members with GET .../members"
    )


def _keep_an_owner(project: Project, changing: Membership, new_role: Role | None) -> None:
    owners = [m for m in project.members if m.role == Role.owner and m.kind == PrincipalKind.user]
    if changing in owners and new_role != Role.owner and len(owners) == 1:
        raise web.HTTPError(
            409, f"{changing.name!r} is the project's last owner; make another user owner first"
        )


async def mark_pending(handler: APIHandler, members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Set ``pending`` on serialised members: users JupyterHub does not know yet (one look-up per
    user, concurrent; the hub's answers are cached briefly)."""

    async def mark(m: dict[str, Any]) -> dict[str, Any]:
        if m["kind"] == str(PrincipalKind.user):
            m["pending"] = not await handler.service.hub_users.user_exists(m["name"])
        return m

    return list(await asyncio.gather(*(mark(m) for m in members)))


class MembersHandler(APIHandler):
    audit_actions = {"post": "shared"}

    async def get(self, project_id: str) -> None:
        project = access.project_for(self, project_id, Role.viewer)
        members = [serialize.member(m) for m in project.members]
        self.release_db()  # not held across the hub's await
        self.write_json({"members": await mark_pending(self, members)})

    async def post(self, project_id: str) -> None:
        access.project_for(self, project_id, Role.owner)
        self.release_db()  # not held across the hub's await
        body = self.json_body(required=("name", "role"))
        kind = _kind(body.get("kind", "user"))
        name, role = body["name"], _role(body["role"])
        if not isinstance(name, str) or not name:
            raise web.HTTPError(400, "name must be a non-empty string")
        pending = False
        if kind == PrincipalKind.group:
            if not await self.service.hub_users.group_exists(name):
                raise web.HTTPError(
                    400,
                    f"JupyterHub has no group named {name!r}; check the spelling, "
                    "or ask a hub admin to create it first",
                )
        elif not await self.service.hub_users.user_exists(name):
            name, pending = await self._user_not_signed_in_yet(name)
        project = access.project_for(self, project_id, Role.owner)  # again, after the await
        if any(m.kind == kind and m.name == name for m in project.members):
            raise web.HTTPError(
                409, f"{kind} {name!r} is already a member; change the role with PATCH instead"
            )
        m = Membership(kind=kind, name=name, role=role)
        self.audit_target = f"{kind} {name} as {role.name}"
        project.members.append(m)
        self.commit()
        self.write_json(serialize.member(m, pending), status=201)

    async def _user_not_signed_in_yet(self, typed: str) -> tuple[str, bool]:
        """The name to keep for a user JupyterHub does not know (yet): lower-cased as JupyterHub's
        default ``normalize_username`` does, and one the authenticator could accept."""
        name = typed.strip().lower()
        if name != typed and await self.service.hub_users.user_exists(name):
            return name, False
        pattern = self.service.member_name_pattern
        if not re.fullmatch(pattern, name):
            raise web.HTTPError(
                400,
                f"{typed!r} is not a JupyterHub user, and not a name that could sign in here "
                f"(names must match {pattern!r}); check the spelling",
            )
        return name, True


class MemberHandler(APIHandler):
    audit_actions = {"patch": "changed a role", "delete": "removed a member"}

    async def patch(self, project_id: str, kind: str, name: str) -> None:
        project = access.project_for(self, project_id, Role.owner)
        m = _find(project, _kind(kind), name)
        role = _role(self.json_body(required=("role",))["role"])
        self.audit_target = f"{kind} {name} to {role.name}"
        _keep_an_owner(project, m, role)
        m.role = role
        self.commit()
        out = serialize.member(m)
        self.release_db()  # not held across the hub's await
        self.write_json((await mark_pending(self, [out]))[0])

    def delete(self, project_id: str, kind: str, name: str) -> None:
        project = access.project_for(self, project_id, Role.owner)
        m = _find(project, _kind(kind), name)
        _keep_an_owner(project, m, None)
        project.members.remove(m)
        self.commit()
        self.set_status(204)
        self.finish()


routes = [
    (rf"projects/{ID}/members/?", MembersHandler),
    (rf"projects/{ID}/members/{MEMBER}", MemberHandler),
]
