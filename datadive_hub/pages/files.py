"""``projects/<id>/files/<path>`` (a file: preview of a data file, a rendered notebook, or a
download link; ``?version=`` for an older version), ``projects/<id>/notebook/<path>`` (the
rendered notebook itself, shown in a sandboxed frame) and ``projects/<id>/versions/<path>``."""

from __future__ import annotations

from typing import Any

from datadive_contents import preview as previews
from tornado import web

from .. import history, public
from ..api.files import preview_file, rel_path, store_errors
from .base import PageHandler
from .projects import ID, crumbs

PATH = r"(?P<path>.+)"
PREVIEW_ROWS = 50
VERSIONS_PER_PAGE = 50


def column_line(col: dict[str, Any]) -> str:
    """A column's summary in one line (from ``datadive_contents.summary``)."""
    parts = []
    if col.get("min") is not None:
        parts.append(f"{col['min']} to {col['max']}")
    if col.get("mean") is not None:
        parts.append(f"mean {col['mean']:.4g}")
    if col.get("top") and col["top"][0][1] > 1:  # not for a column of unique values
        parts.append("most often " + ", ".join(f"{v} ({n})" for v, n in col["top"][:3]))
    if col.get("distinct") is not None:
        parts.append(f"{col['distinct']} distinct")
    return "; ".join(parts)


def file_names(key: str) -> dict[str, Any]:
    """What a page of one file shows of its path: the path, its name and the folder crumbs."""
    folder, _, name = key.rpartition("/")
    return {"path": key, "name": name, "crumbs": crumbs(folder)}


def kind_of(path: str) -> str:
    """How the page shows a file: "notebook", "table" (previewable data) or "file"."""
    if path.endswith(".ipynb"):
        return "notebook"
    try:
        previews.format_for(path)
    except previews.UnsupportedFormat:
        return "file"
    return "table"


class FilePage(PageHandler):
    async def get(self, project_id: str, path: str) -> None:
        project = self.project_for(project_id)
        key = rel_path(path)
        version = self.get_argument("version", "") or None
        store = self.files_of(project)
        with store_errors(key):
            info = await store.head(key, version_id=version)
            current = await store.head(key) if version else info
        if info is None:
            if version:
                raise web.HTTPError(
                    404,
                    f"No version {version!r} of {key!r} in this project (it may have been "
                    "removed by a retention rule); see the versions that exist on its "
                    "versions page",
                )
            with store_errors(key):
                below = await store.list(key)
            if below.files or below.folders:
                self.redirect(self.page_url("projects", project.id, folder=key))
                return
            raise web.HTTPError(404, f"No file {key!r} in this project")
        kind = kind_of(key)
        too_large = kind == "notebook" and info.size > public.MAX_NOTEBOOK_BYTES
        if too_large:
            kind = "file"
        table = None
        if kind == "table":
            table = await preview_file(
                self.service,
                store,
                key,
                rows=PREVIEW_ROWS,
                version_id=info.version_id or version,
                summary=True,
            )
            summaries = {c["name"]: c for c in table.get("summary", {}).get("columns", [])}
            for col in table["columns"]:
                s = summaries.get(col["name"], {})
                col["missing"] = s.get("missing")
                col["line"] = column_line(s)
        older = bool(version) and (current is None or current.version_id != info.version_id)
        self.render_page(
            "file.html",
            project=project,
            **file_names(key),
            info=info,
            older=older,
            version=version,
            kind=kind,
            too_large=too_large,
            too_large_text=public.TOO_LARGE,
            table=table,
            download=self.page_url("api/v1/projects", project.id, "files", key, version_id=version),
            frame=self.page_url("projects", project.id, "notebook", key, version=version),
            versions=self.page_url("projects", project.id, "versions", key),
            lab=self.lab_link(project, key),
        )


class NotebookFrame(PageHandler):
    """The rendered notebook alone, for the frame of the file page: any HTML its outputs hold
    runs in a sandbox (public links' policy, but it may be framed by this service's pages)."""

    csp = public.SECURITY_HEADERS["Content-Security-Policy"].replace(
        "frame-ancestors 'none'", "frame-ancestors 'self'"
    )

    def set_default_headers(self) -> None:
        super().set_default_headers()
        for name, value in public.SECURITY_HEADERS.items():
            if name != "Content-Security-Policy":
                self.set_header(name, value)

    async def get(self, project_id: str, path: str) -> None:
        project = self.project_for(project_id)
        key = rel_path(path)
        if not key.endswith(".ipynb"):
            raise web.HTTPError(400, f"{key!r} is not a notebook (.ipynb)")
        version = self.get_argument("version", "") or None
        store = self.files_of(project)
        with store_errors(key):
            html = await public.notebook_html(
                self.service, store, key, version, False, ("project", project.id)
            )
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(html)


class VersionsPage(PageHandler):
    async def get(self, project_id: str, path: str) -> None:
        project = self.project_for(project_id)
        key = rel_path(path)
        cursor = self.get_argument("cursor", "") or None
        if cursor is not None and len(cursor) > 1024:
            raise web.HTTPError(400, "cursor is too long; use the link to the next page")
        store = self.files_of(project)
        with store_errors(key):
            page = await history.versions_page(
                store, self.service.session_factory, project.id, key, VERSIONS_PER_PAGE, cursor
            )
        self.render_page(
            "versions.html",
            project=project,
            **file_names(key),
            versions=page["versions"],
            next_page=self.page_url("projects", project.id, "versions", key, cursor=page["next"])
            if page["next"]
            else None,
            first_page=self.page_url("projects", project.id, "versions", key) if cursor else None,
        )


routes = [
    (rf"projects/{ID}/files/{PATH}", FilePage),
    (rf"projects/{ID}/notebook/{PATH}", NotebookFrame),
    (rf"projects/{ID}/versions/{PATH}", VersionsPage),
]
