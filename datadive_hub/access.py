"""The one place where project access is decided.

A caller's role in a project is the highest role among their own membership and the memberships
of the JupyterHub groups they belong to. Hub admins may do everything. A project the caller may not
see answers 404 (its existence is not revealed); a member whose role is too low gets 403.
"""

from sqlalchemy import Row, or_, select, tuple_
from sqlalchemy.orm import Session
from tornado import web

from .hubapi import HubUser
from .models import Membership, PrincipalKind, Project, Role


def role_of(project: Project, user: HubUser) -> Role | None:
    """The caller's effective role in ``project`` (owner for hub admins), or None."""
    return role_among(project.members, user)


def role_among(members, user: HubUser) -> Role | None:
    """The caller's effective role given a project's ``members`` (rows with kind, name, role)."""
    if user.kind != "user":
        return None
    if user.admin:
        return Role.owner
    best = None
    for m in members:
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
) -> list[tuple[Row, list[Row]]]:
    """One page of the projects the caller is a member of (every project for admins asking for
    ``all_projects``), ordered by (case-folded name, id), as (project row, member rows) pairs;
    ``after`` continues after that key, ``limit`` caps the page.

    Members' projects are paged through the memberships' (principal, name key) index, so a page
    costs the same however many projects the hub holds. It is a read-only listing, so it runs
    outside a transaction: two statements, no BEGIN/ROLLBACK round trips, no ORM objects.
    """
    state = Project.deleted_at.is_not(None) if deleted else Project.deleted_at.is_(None)
    projects = Project.__table__
    if user.admin and all_projects:
        key = (Project.name_key, Project.id)
        q = select(projects).where(state)
    elif user.kind != "user":
        return []
    else:
        key = (Membership.project_key, Membership.project_id)
        page = (
            select(*key)
            .distinct()
            .join(Project, Project.id == Membership.project_id)
            .where(member_clause(user), state)
        )
        if after is not None:
            page = page.where(tuple_(*key) > tuple_(*after))
        ids = page.order_by(*key).limit(limit).subquery()
        key = tuple(ids.c)
        q = select(projects).join(ids, ids.c.project_id == Project.id)
        after = None
    if after is not None:
        q = q.where(tuple_(*key) > tuple_(*after))
    conn = db.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    rows = conn.execute(q.order_by(*key).limit(limit)).all()
    members: dict[str, list[Row]] = {r.id: [] for r in rows}
    cols = (Membership.project_id, Membership.kind, Membership.name, Membership.role)
    for m in conn.execute(select(*cols).where(Membership.project_id.in_(members))):
        members[m.project_id].append(m)
    return [(r, members[r.id]) for r in rows]


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
