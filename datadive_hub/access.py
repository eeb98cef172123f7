"""The one place where project access is decided.

A caller's role in a project is the highest role among their own membership and the memberships
of the JupyterHub groups they belong to. Hub admins may do everything. A guest (an external
collaborator, :mod:`datadive_hub.guests`) holds the role of its live invitations to the project,
nothing else. A project the caller may not see answers 404 (its existence is not revealed); a
member whose role is too low gets 403.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple, Protocol

from sqlalchemy import Connection, Integer, Select, bindparam, select, tuple_
from sqlalchemy.orm import Session
from tornado import web

from .hubapi import HubUser
from .models import Membership, PrincipalKind, Project, Role


def role_of(project: Project, user: HubUser) -> Role | None:
    """The caller's effective role in ``project`` (owner for hub admins), or None."""
    return role_in(project.id, project.members, user)


def role_in(project_id: str, members: Iterable[MemberRow], user: HubUser) -> Role | None:
    """The caller's role in the project ``project_id`` whose memberships are ``members``: a
    guest's comes from its live invitations only (``guest_roles``), never from memberships."""
    if user.kind == "guest":
        return user.guest_roles.get(project_id)
    return role_among(members, user)


def role_among(members: Iterable[MemberRow], user: HubUser) -> Role | None:
    """The caller's effective role given a project's ``members`` (rows with kind, name, role)."""
    if user.kind != "user":
        return None
    if user.admin:
        return Role.owner
    best: Role | None = None
    for m in members:
        if (m.kind == PrincipalKind.user and m.name == user.name) or (
            m.kind == PrincipalKind.group and m.name in user.groups
        ):
            best = m.role if best is None else max(best, m.role)
    return best


class PageProject(NamedTuple):
    """A listed project: the columns the JSON needs, as plain attributes."""

    id: str
    name: str
    name_key: str
    description: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


class PageMember(NamedTuple):
    """One membership of a listed project (what :func:`role_among` and the JSON need)."""

    kind: PrincipalKind
    name: str
    role: Role


#: a membership as :func:`role_among` reads it: a row of the ORM or of a listed page
MemberRow = Membership | PageMember


@lru_cache(maxsize=64)
def _page_statement(
    everything: bool, groups: bool, deleted: bool, after: bool, limited: bool
) -> Select[*tuple[Any, ...]]:
    """The one statement of a page of projects, built once per shape and reused.

    Its values are bind parameters (``name``, ``groups``, ``after_key``, ``after_id``,
    ``limit``), so a request neither builds nor compiles SQL: SQLAlchemy finds the compiled form
    in its cache under the statement's memoized cache key, and PostgreSQL gets the same text
    every time (prepared by psycopg after a few executions).
    """
    projects = Project.__table__
    members = Membership.__table__
    state = projects.c.deleted_at.is_not(None) if deleted else projects.c.deleted_at.is_(None)
    if everything:
        key = (projects.c.name_key, projects.c.id)
        page = select(*key).where(state)
    else:
        key = (members.c.project_key, members.c.project_id)
        who = (members.c.kind == PrincipalKind.user) & (members.c.name == bindparam("name"))
        if groups:
            who = who | (
                (members.c.kind == PrincipalKind.group)
                & members.c.name.in_(bindparam("groups", expanding=True))
            )
        page = (
            select(*key)
            .distinct()
            .join(projects, projects.c.id == members.c.project_id)
            .where(who, state)
        )
    if after:
        page = page.where(tuple_(*key) > tuple_(bindparam("after_key"), bindparam("after_id")))
    page = page.order_by(*key)
    if limited:
        page = page.limit(bindparam("limit", type_=Integer))
    ids = page.subquery("page")
    ids_key, ids_id = ids.c
    m = members.alias("m")
    return (
        select(
            *(projects.c[f] for f in PageProject._fields),
            m.c.kind.label("member_kind"),
            m.c.name.label("member_name"),
            m.c.role.label("member_role"),
        )
        .select_from(
            ids.join(projects, projects.c.id == ids_id).outerjoin(
                m, m.c.project_id == projects.c.id
            )
        )
        .order_by(ids_key, ids_id)
    )


def visible_projects(
    conn: Connection,
    user: HubUser,
    *,
    deleted: bool = False,
    all_projects: bool = False,
    after: tuple[str, str] | None = None,
    limit: int | None = None,
) -> list[tuple[PageProject, list[PageMember]]]:
    """One page of the projects the caller is a member of (every project for admins asking for
    ``all_projects``), ordered by (case-folded name, id), as (project row, member rows) pairs;
    ``after`` continues after that key, ``limit`` caps the page.

    Members' projects are paged through the memberships' (principal, name key) index, so a page
    costs the same however many projects the hub holds. It is a read-only listing, so it runs
    outside a transaction (``conn`` is in autocommit mode): one prebuilt statement (the page's
    projects joined to their memberships), no BEGIN/ROLLBACK round trips, no ORM objects.
    """
    everything = bool(user.admin and all_projects)
    if user.kind == "guest":
        return _guest_projects(conn, user, deleted=deleted, after=after, limit=limit)
    if not everything and user.kind != "user":
        return []
    groups = bool(user.groups) and not everything
    stmt = _page_statement(everything, groups, deleted, after is not None, limit is not None)
    params: dict[str, Any] = {}
    if not everything:
        params["name"] = user.name
        if groups:
            params["groups"] = sorted(user.groups)
    if after is not None:
        params["after_key"], params["after_id"] = after
    if limit is not None:
        params["limit"] = limit
    page: list[tuple[PageProject, list[PageMember]]] = []
    last = None
    n = len(PageProject._fields)
    for row in conn.execute(stmt, params):
        if row[0] != last:
            last = row[0]
            members: list[PageMember] = []
            page.append((PageProject._make(row[:n]), members))
        if row[n] is not None:
            members.append(PageMember._make(row[n:]))
    return page


def _guest_projects(
    conn: Connection,
    user: HubUser,
    *,
    deleted: bool,
    after: tuple[str, str] | None,
    limit: int | None,
) -> list[tuple[PageProject, list[PageMember]]]:
    """:func:`visible_projects` for a guest: the projects of its live invitations, nothing else
    (a handful: two plain statements, the projects then their memberships)."""
    projects, members = Project.__table__, Membership.__table__
    ids = sorted(user.guest_roles)
    state = projects.c.deleted_at.is_not(None) if deleted else projects.c.deleted_at.is_(None)
    key = (projects.c.name_key, projects.c.id)
    page = select(*(projects.c[f] for f in PageProject._fields)).where(
        projects.c.id.in_(ids), state
    )
    if after is not None:
        page = page.where(tuple_(*key) > tuple_(*after))
    page = page.order_by(*key)
    if limit is not None:
        page = page.limit(limit)
    rows = [PageProject._make(r) for r in conn.execute(page)]
    by_id: dict[str, list[PageMember]] = {p.id: [] for p in rows}
    if by_id:
        q = select(members.c.project_id, members.c.kind, members.c.name, members.c.role).where(
            members.c.project_id.in_(list(by_id))
        )
        for pid, *member in conn.execute(q):
            by_id[pid].append(PageMember._make(member))
    return [(p, by_id[p.id]) for p in rows]


class AccessHandler(Protocol):
    """What :func:`project_for` needs of a request handler (the API's or a page's)."""

    role: Role | None
    audit_project: str | None

    @property
    def db(self) -> Session: ...

    @property
    def user(self) -> HubUser: ...


def project_for(
    handler: AccessHandler, project_id: str, need: Role, *, deleted: bool = False
) -> Project:
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
    handler.audit_project = project.id
    return project


def readable_projects(db: Session, project_ids: Iterable[object], user: HubUser) -> set[str]:
    """Which of ``project_ids`` ``user`` may read now (at least viewer, project not deleted).

    The check behind datasets linked from other projects: it is made on every listing and every
    read, so a reader who loses their right on the source project loses the link at once.
    """
    ids = {i for i in project_ids if isinstance(i, str)}
    if not ids:
        return set()
    rows = db.query(Project).filter(Project.id.in_(ids), Project.deleted_at.is_(None))
    return {p.id for p in rows if role_of(p, user) is not None}
