"""``/services/datadive/`` (my projects) and ``projects/<id>`` (a project: files, members,
public links and, for owners, the audit log)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select
from tornado import web

from .. import access
from ..api.audit import events_page
from ..api.files import rel_path, store_errors
from ..api.links import link_json
from ..api.members import mark_pending
from ..api.projects import decode_project_cursor, encode_project_cursor
from ..api.serialize import member as member_json
from ..models import FileVersion, PublicLink, Role
from .base import PageHandler

ID = r"(?P<project_id>[^/]+)"
PROJECTS_PER_PAGE = 50
#: entries of one folder shown on a page (the rest: open the project in JupyterLab)
MAX_ENTRIES = 1000
AUDIT_PER_PAGE = 25


def last_changes(conn: Connection, ids: list[str]) -> dict[str, datetime]:
    """Project id → time of its newest file write recorded by the service."""
    if not ids:
        return {}
    rows = conn.execute(
        select(FileVersion.project_id, func.max(FileVersion.written_at))
        .where(FileVersion.project_id.in_(ids))
        .group_by(FileVersion.project_id)
    )
    return {pid: at for pid, at in rows}


class MyProjectsPage(PageHandler):
    """The projects the caller is a member of: name, role, members, last change (paged)."""

    def get(self) -> None:
        cursor = self.get_argument("cursor", "")
        after = decode_project_cursor(cursor) if cursor else None
        with self.service.read_engine.connect() as conn:
            page = access.visible_projects(
                conn, self.user, after=after, limit=PROJECTS_PER_PAGE + 1
            )
            more = len(page) > PROJECTS_PER_PAGE
            page = page[:PROJECTS_PER_PAGE]
            written = last_changes(conn, [p.id for p, _ in page])
        rows = []
        for p, members in page:
            role = access.role_in(p.id, members, self.user)
            assert role is not None  # visible_projects lists the caller's projects only
            rows.append(
                {
                    "id": p.id,
                    "name": p.name,
                    "description": p.description,
                    "role": role.name,
                    "members": len(members),
                    "changed": max(filter(None, (p.updated_at, written.get(p.id)))),
                }
            )
        self.render_page(
            "projects.html",
            projects=rows,
            next_page=self.page_url("", cursor=encode_project_cursor(page[-1][0]))
            if more
            else None,
            first_page=self.page_url("") if cursor else None,
        )


class ProjectPage(PageHandler):
    """A project: one folder's files (``?folder=``), members, public links, audit (owners)."""

    async def get(self, project_id: str) -> None:
        project = self.project_for(project_id)
        role = self.role
        assert role is not None  # set by project_for
        folder = rel_path(self.get_argument("folder", ""), allow_root=True)
        before = self.get_argument("before", "")
        if before and not before.isdigit():
            raise web.HTTPError(400, f"before must be a whole number, not {before!r}")
        audit = None
        if role >= Role.owner:
            self.service.audit.flush()  # what was just done is in the page
            audit = events_page(
                self.db, project.id, AUDIT_PER_PAGE, int(before) if before else None
            )
        links = [
            link_json(r)
            for r in self.db.query(PublicLink)
            .filter_by(project_id=project.id)
            .order_by(PublicLink.created_at.desc())
        ]
        members = [member_json(m) for m in project.members]
        files = self.files_of(project)  # the session ends here
        members = await mark_pending(self, members)
        with store_errors(folder):
            listing = await files.list(folder)
        if folder and not listing.files and not listing.folders:
            with store_errors(folder):
                is_file = await files.head(folder) is not None
            if is_file:
                self.redirect(self.page_url("projects", project.id, "files", folder))
                return
            raise web.HTTPError(404, f"No folder {folder!r} in this project")
        usage = await self.service.storage.usage(project.id) if role >= Role.owner else None
        entries = len(listing.files) + len(listing.folders)
        self.render_page(
            "project.html",
            project=project,
            role=role.name,
            folder=folder,
            crumbs=crumbs(folder),
            folders=sorted(listing.folders, key=str.casefold)[:MAX_ENTRIES],
            files=sorted(listing.files, key=lambda f: f.key.casefold())[:MAX_ENTRIES],
            cut=max(0, entries - MAX_ENTRIES),
            members=sorted(members, key=lambda m: (m["kind"], m["name"].casefold())),
            links=links,
            audit=audit,
            audit_newer=bool(before),
            usage=usage,
            lab=self.lab_link(project, folder),
        )


def crumbs(path: str) -> list[tuple[str, str]]:
    """(name, path) of each folder on the way to ``path``."""
    parts = path.split("/") if path else []
    return [(p, "/".join(parts[: i + 1])) for i, p in enumerate(parts)]


routes = [(rf"projects/{ID}/?", ProjectPage)]
