"""JSON shapes of the service's resources (the OpenAPI document describes the same)."""

import datetime
from collections.abc import Iterable
from typing import Any, cast, overload

from ..access import MemberRow, PageProject
from ..models import Membership, Notebook, Project, Role


def iso(dt: datetime.datetime | None) -> str | None:
    return dt.isoformat() + "Z" if dt is not None else None


@overload
def project(p: Project, role: Role | None) -> dict[str, Any]: ...
@overload
def project(
    p: Project | PageProject, role: Role | None, members: Iterable[MemberRow]
) -> dict[str, Any]: ...
def project(
    p: Project | PageProject, role: Role | None, members: Iterable[MemberRow] | None = None
) -> dict[str, Any]:
    """``p``: a Project or a projects row (then with its ``members`` rows)."""
    # the overloads: only a Project comes without its members
    members = cast(Project, p).members if members is None else members
    owners = sorted(m.name for m in members if m.role == Role.owner and m.kind == "user")
    return {
        "id": p.id,
        "name": p.name,
        "description": p.description,
        "created_by": p.created_by,
        "created_at": iso(p.created_at),
        "updated_at": iso(p.updated_at),
        "deleted": p.deleted_at is not None,
        "deleted_at": iso(p.deleted_at),
        "role": role.name if role else None,
        "owners": owners,
    }


def member(m: Membership, pending: bool = False) -> dict[str, Any]:
    """A member; ``pending``: a user JupyterHub does not know yet (in effect from their first
    sign-in)."""
    return {
        "kind": str(m.kind),
        "name": m.name,
        "role": m.role.name,
        "added_at": iso(m.created_at),
        "pending": pending,
    }


def notebook(n: Notebook) -> dict[str, Any]:
    return {
        "id": n.id,
        "project_id": n.project_id,
        "path": n.path,
        "name": n.path.rsplit("/", 1)[-1],
        "archived": n.archived,
        "created_by": n.created_by,
        "created_at": iso(n.created_at),
        "updated_at": iso(n.updated_at),
    }
