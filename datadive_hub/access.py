"""The one place where project access is decided.

A caller's role in a project is the highest role among their own membership and the memberships
of the JupyterHub groups they belong to. Hub admins may do everything. A project the caller may not
see answers 404 (its existence is not revealed); a member whose role is too low gets 403.
"""

from sqlalchemy import or_, select, tuple_
from sqlalchemy.orm import Session
from tornado import web

from .hubapi import HubUser
from .models import Membership, PrincipalKind, Project, Role


def role_of(project: Project, user: HubUser) -> Role | None:
    """The caller's effective role in ``project`` (owner for hub admins), or None."""
    if user.kind != "user":
        return None
    if user.admin:
        return Role.owner
    best = None
    for m in project.members:
        if (m.kind == PrincipalKind.user and m.name == user.name) or (
            m.kind == PrincipalKind.group and m.name in user.groups
        ):
            best = m.role if best is None else max(best, m.role)
    return best


def member_clause(user: HubUser):
    """SQL condition selecting memberships that give ``user`` access."""
    conds = [(Membership.kind == PrincipalKind.user) & (Membership.name == user.name)]
    if user.groups:
        conds.append(
            (Membership.kind == PrincipalKind.group) & (Membership.name.in_(sorted(user.groups)))
        )
    return or_(*conds)


def visible_projects(
    db: Session,
    user: HubUser,
    *,
    deleted: bool = False,
    all_projects: bool = False,
    after: tuple[str, str] | None = None,
    limit: int | None = None,
) -> list[Project]:
    """Projects the caller is a member of (every project for admins asking for ``all_projects``),
    ordered by (case-folded name, id); ``after`` continues after that key, ``limit`` caps the page.

    Members' projects are paged through the memberships' (principal, name key) index, so a page
    costs the same however many projects the hub holds.
    """
    state = Project.deleted_at.is_not(None) if deleted else Project.deleted_at.is_(None)
    if user.admin and all_projects:
        q = select(Project).where(state).order_by(Project.name_key, Project.id).limit(limit)
        if after is not None:
            q = q.where(tuple_(Project.name_key, Project.id) > tuple_(*after))
        return list(db.scalars(q))
    if user.kind != "user":
        return []
    key = (Membership.project_key, Membership.project_id)
    page = (
        select(*key)
        .distinct()
        .join(Project, Project.id == Membership.project_id)
        .where(member_clause(user), state)
        .order_by(*key)
        .limit(limit)
    )
    if after is not None:
        page = page.where(tuple_(*key) > tuple_(*after))
    ids = page.subquery()
    q = select(Project).join(ids, ids.c.project_id == Project.id).order_by(*ids.c)
    return list(db.scalars(q))


def project_for(handler, project_id: str, need: Role, *, deleted: bool = False) -> Project:
    """The project ``project_id`` if ``handler.user`` holds at least ``need`` in it.

    404 for an unknown id, a project in the other deleted state than asked for, or a non-member;
    403 for a member whose role is too low.
    """
    project = handler.db.get(Project, project_id) if isinstance(project_id, str) else None
    role = role_of(project, handler.user) if project is not None else None
    if project is None or role is None or (project.deleted_at is not None) != deleted:
        state = "deleted " if deleted else ""
        raise web.HTTPError(
            404,
            f"No {state}project {project_id!r} that you are a member of; list yours with "
            "GET projects" + ("?deleted=1" if deleted else ""),
        )
    if role < need:
        raise web.HTTPError(
            403,
            f"You are {role.name} of project {project.name!r}; this needs {need.name}. "
            "Ask an owner of the project to change your role",
        )
    handler.role = role
    return project
