"""projects/{id}/datasets: use a file of another project here, pinned to a version, uncopied.

``POST`` links ``source_path`` of ``source_project`` (the caller: editor here, at least viewer
there) at ``path`` here; the files API then lists it as a read-only file and serves the pinned
bytes from the source project's store (:mod:`datadive_hub.linked`). ``.../update`` pins the
latest version and says what changed (rows, columns); ``.../copy`` turns the link into an
independent file with a copy inside the store; ``DELETE`` removes the link (nothing is deleted in
either project). See docs/sharing.md "Datasets from other projects".
"""

from __future__ import annotations

import asyncio
import datetime
from typing import Any, cast

from datadive_contents import preview as previews
from datadive_contents.paths import normalize_path
from datadive_contents.stores.base import NotFound, ObjectInfo, ObjectStore, PathRejected
from tornado import web

from .. import access, history, linked
from ..models import DatasetLink, Project, Role, utcnow
from ..storage_policy import QuotaExceeded
from .base import APIHandler
from .files import check_file_slot, file_json, store_errors
from .projects import ID
from .serialize import iso

LINK_ID = r"(?P<link_id>[^/]+)"
#: rows whose types a change report compares (the first ones of each version)
TYPE_ROWS = 50
#: HEAD requests to the store at once when the list of links asks for the latest versions
HEADS_AT_ONCE = 8


def link_json(link: DatasetLink, readable: bool, source_name: str | None) -> dict[str, Any]:
    """A link as the datasets API shows it; where the caller cannot read the source project,
    its name and the source path are withheld."""
    return {
        "id": link.id,
        "path": link.path,
        "source_project_id": link.source_project_id,
        "source_project": source_name if readable else None,
        "source_path": link.source_path if readable else None,
        "version_id": link.version_id,
        "size": link.size,
        "etag": link.etag,
        "modified": iso(link.modified),
        "created_by": link.created_by,
        "created_at": iso(link.created_at),
        "pinned_at": iso(link.pinned_at),
        "readable": readable,
    }


def _path_arg(value: object, what: str, example: str) -> str:
    if not isinstance(value, str) or not value.strip("/"):
        raise web.HTTPError(400, f"{what} must be a file path, e.g. {example}")
    try:
        return normalize_path(value)
    except PathRejected as e:
        raise web.HTTPError(400, f"{what}: {e}") from None


async def table_shape(
    store: ObjectStore, key: str, version_id: str, max_bytes: int
) -> dict[str, Any] | None:
    """Rows and columns (name → type) of one version of a table file, from the bounded preview
    (parsed off the event loop); None for a format the preview does not read."""
    try:
        r = await previews.preview(
            store, key, rows=TYPE_ROWS, version_id=version_id, summary=True, max_bytes=max_bytes
        )
    except previews.UnsupportedFormat:
        return None
    except previews.PreviewFailed as e:
        return {"error": str(e)}
    rows = r.get("total_rows")
    return {
        "rows": rows if rows is not None else r.get("total_rows_estimate"),
        "rows_exact": rows is not None,
        "columns": {c["name"]: c["type"] for c in r["columns"]},
    }


def compare(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    """What changed between two :func:`table_shape` results: rows and columns."""
    if before is None or after is None:
        return {"table": False}
    if "error" in before or "error" in after:
        return {"table": False, "message": before.get("error") or after.get("error")}
    old, new = before["columns"], after["columns"]
    return {
        "table": True,
        "rows": {
            "before": before["rows"],
            "after": after["rows"],
            "exact": before["rows_exact"] and after["rows_exact"],
        },
        "columns": {
            "added": [c for c in new if c not in old],
            "removed": [c for c in old if c not in new],
            "retyped": [
                {"name": c, "before": old[c], "after": new[c]}
                for c in new
                if c in old and old[c] != new[c]
            ],
        },
    }


class DatasetsBase(APIHandler):
    def source_project(self, project_id: object) -> Project:
        """The source project if the caller may read it now, else 404 (as for a project that
        does not exist: its existence is not revealed)."""
        if not isinstance(project_id, str) or not project_id:
            raise web.HTTPError(400, "source_project must be the id of the project to link from")
        project = self.db.get(Project, project_id)
        if project is None or not access.readable_projects(self.db, {project_id}, self.user):
            raise web.HTTPError(
                404,
                f"No project {project_id!r} that you can read; link only from a project you "
                "are a member of (list yours with GET projects)",
            )
        return project

    def link(self, project_id: str, link_id: str, need: Role) -> tuple[DatasetLink, bool, str]:
        """The link ``link_id`` of the project (caller holds ``need`` there), whether the caller
        may read its source project, and that project's name."""
        project = access.project_for(self, project_id, need)
        row = self.db.get(DatasetLink, link_id)
        if row is None or row.project_id != project.id:
            raise web.HTTPError(
                404,
                f"No linked dataset {link_id!r} in this project; list them with GET .../datasets",
            )
        readable = bool(access.readable_projects(self.db, {row.source_project_id}, self.user))
        source = self.db.get(Project, row.source_project_id)
        self.audit_target = f"{row.path} (from {row.source_project_id}/{row.source_path})"
        return row, readable, source.name if source else ""

    def readable_link(self, project_id: str, link_id: str) -> tuple[DatasetLink, str]:
        """As :meth:`link` for an editor who must also read the source project now."""
        row, readable, name = self.link(project_id, link_id, Role.editor)
        if not readable:
            raise web.HTTPError(
                404,
                f"{row.path!r} is linked from a project you cannot read; ask a member of that "
                "project for access, or delete the link",
            )
        return row, name

    def source_store(self, project_id: str) -> ObjectStore:
        return self.project_files(project_id)

    async def current_source(self, row: DatasetLink) -> ObjectInfo:
        with store_errors(row.source_path):
            info = await self.source_store(row.source_project_id).head(row.source_path)
        if info is None:
            raise web.HTTPError(
                409,
                f"{row.source_path!r} no longer exists in its project; the link still reads "
                "the pinned version. Delete the link, or copy it to keep the data",
            )
        return info


class DatasetsHandler(DatasetsBase):
    """``GET`` the links of the project; ``POST`` link a dataset of another project."""

    audit_actions = {"post": "linked a dataset"}

    async def get(self, project_id: str) -> None:
        project = access.project_for(self, project_id, Role.viewer)
        rows = (
            self.db.query(DatasetLink)
            .filter_by(project_id=project.id)
            .order_by(DatasetLink.path)
            .all()
        )
        sources = {r.source_project_id for r in rows}
        ok = access.readable_projects(self.db, sources, self.user)
        names = {p.id: p.name for p in self.db.query(Project).filter(Project.id.in_(sources))}
        out = [
            link_json(r, r.source_project_id in ok, names.get(r.source_project_id)) for r in rows
        ]
        self.release_db()
        heads = asyncio.Semaphore(HEADS_AT_ONCE)

        async def latest(link: dict[str, Any]) -> None:
            link["latest_version_id"] = link["update_available"] = None
            if not link["readable"]:
                return
            store = self.source_store(link["source_project_id"])
            with store_errors(link["source_path"]):
                async with heads:
                    info = await store.head(link["source_path"])
            link["source_missing"] = info is None
            if info is not None:
                link["latest_version_id"] = info.version_id
                link["update_available"] = info.version_id != link["version_id"]

        await asyncio.gather(*(latest(link) for link in out))
        self.write_json({"datasets": out})

    async def post(self, project_id: str) -> None:
        project = access.project_for(self, project_id, Role.editor)
        pid = project.id
        body = self.json_body(required=("source_project", "source_path"))
        source = self.source_project(body["source_project"])
        sid = source.id
        if sid == pid:
            raise web.HTTPError(
                400, "That file is in this project already; copy it with POST .../files:copy"
            )
        src = _path_arg(body["source_path"], "source_path", "data/survey.csv")
        path = _path_arg(body.get("path") or src.rsplit("/", 1)[-1], "path", "survey.csv")
        version = body.get("version")
        if version is not None and (not isinstance(version, str) or not version):
            raise web.HTTPError(400, "version must be a version id from GET .../versions/<path>")
        clash = linked.clashing(self.db, pid, path)
        if clash is not None:
            raise web.HTTPError(
                409, f"{clash.path!r} is already a linked dataset here; choose another path"
            )
        self.release_db()
        with store_errors(src):
            info = await self.source_store(sid).head(src, version_id=version)
            if info is None:
                raise web.HTTPError(
                    404,
                    f"No file {src!r}"
                    + (f" in version {version!r}" if version else "")
                    + " in the source project; list its files with GET projects/<id>/files",
                )
            here = self.project_files(pid)
            if await here.head(path) is not None:
                raise web.HTTPError(
                    409,
                    f'{path!r} already exists in this project; give another path ("path")',
                )
            await check_file_slot(here, path)
        if not info.version_id:
            raise web.HTTPError(
                409,
                "This store keeps no versions, so a link could not stay pinned to the data you "
                "chose; ask a hub admin to turn on bucket versioning",
            )
        # again after the awaits: roles may have changed meanwhile
        access.project_for(self, pid, Role.editor)
        self.source_project(sid)
        row = DatasetLink(
            project_id=pid,
            path=path,
            source_project_id=sid,
            source_path=src,
            version_id=info.version_id,
            size=info.size,
            etag=info.etag,
            modified=_naive(info),
            created_by=self.user.name,
        )
        self.db.add(row)
        self.commit()
        self.audit_target = f"{path} (from {sid}/{src})"
        self.log.info("%s linked %s/%s as %s in %s", self.user.name, sid, src, path, pid)
        self.write_json(link_json(row, True, source.name), status=201)


def _naive(info: ObjectInfo) -> datetime.datetime:
    """The version's time as the database keeps times: naive UTC."""
    lm = info.last_modified
    return lm.astimezone(datetime.UTC).replace(tzinfo=None) if lm.tzinfo else lm


class DatasetHandler(DatasetsBase):
    """``DELETE`` a link (nothing is deleted in either project)."""

    audit_actions = {"delete": "unlinked a dataset"}

    def delete(self, project_id: str, link_id: str) -> None:
        row, _, _ = self.link(project_id, link_id, Role.editor)
        self.db.delete(row)
        self.commit()
        self.set_status(204)
        self.finish()


class UpdateHandler(DatasetsBase):
    """``POST .../update`` ``{"dry_run"?}``: pin the source's current version; what changed."""

    audit_actions = {"post": "updated a linked dataset"}

    async def post(self, project_id: str, link_id: str) -> None:
        row, name = self.readable_link(project_id, link_id)
        dry_run = self.json_body().get("dry_run", False)
        if not isinstance(dry_run, bool):
            raise web.HTTPError(400, "dry_run must be true or false")
        pid, old = row.project_id, row.version_id
        self.release_db()
        info = await self.current_source(row)
        changes: dict[str, Any] = {"table": False}
        if info.version_id != old:
            store = self.source_store(row.source_project_id)
            limit = int(getattr(self.service, "preview_max_bytes", previews.DEFAULT_MAX_BYTES))
            with store_errors(row.source_path):
                try:
                    before, after = await asyncio.gather(
                        table_shape(store, row.source_path, old, limit),
                        table_shape(store, row.source_path, info.version_id or "", limit),
                    )
                except NotFound:  # the pinned version is gone: only the new one is known
                    before, after = None, None
            changes = compare(before, after)
        changes["size"] = {"before": row.size, "after": info.size}
        changed = info.version_id != old
        if changed and not dry_run:
            row, name = self.readable_link(pid, link_id)  # again, after the awaits
            if row.version_id != old:
                raise web.HTTPError(
                    409, "The link was updated by someone else meanwhile; reload and try again"
                )
            # never None: links exist only on a store that keeps versions (POST refuses them)
            row.version_id = cast(str, info.version_id)
            row.size, row.etag = info.size, info.etag
            row.modified, row.pinned_at = _naive(info), utcnow()
            self.commit()
        else:
            self.audit_project = None  # nothing changed: nothing to record
        self.write_json(
            {
                "dataset": link_json(row, True, name),
                "changed": changed,
                "applied": changed and not dry_run,
                "previous_version_id": old,
                "changes": changes,
            }
        )


class CopyHandler(DatasetsBase):
    """``POST .../copy``: the pinned bytes become an independent file at the link's path (a
    copy inside the store, no bytes through the service); the link is removed."""

    audit_actions = {"post": "copied a linked dataset"}

    async def post(self, project_id: str, link_id: str) -> None:
        row, _ = self.readable_link(project_id, link_id)
        pid, path, vid = row.project_id, row.path, row.version_id
        src = f"projects/{row.source_project_id}/{row.source_path}"
        self.release_db()
        with store_errors(path):
            pinned = await self.source_store(row.source_project_id).head(
                row.source_path, version_id=vid
            )
            try:
                await self.service.storage.check(pid, pinned.size if pinned else 0)
            except QuotaExceeded as e:
                raise web.HTTPError(413, str(e)) from None
            try:
                info = await self.store.copy(
                    src, f"projects/{pid}/{path}", author=self.user.name, version_id=vid
                )
            except NotFound:
                raise web.HTTPError(
                    404,
                    f"The pinned version of {path!r} no longer exists in its project; update "
                    "the link to the latest version first (POST .../update)",
                ) from None
        local = ObjectInfo(path, info.size, info.etag, info.last_modified, info.version_id)
        history.record_writes(self.settings["session_factory"], pid, [local], self.user.name)
        self.service.storage.wrote(pid, local)
        copied = self.db.get(DatasetLink, link_id)
        if copied is not None:
            self.db.delete(copied)
            self.commit()
        self.log.info("%s copied linked dataset %s in %s", self.user.name, path, pid)
        self.write_json({**file_json(local), "writable": True})


routes = [
    (rf"projects/{ID}/datasets/?", DatasetsHandler),
    (rf"projects/{ID}/datasets/{LINK_ID}/update", UpdateHandler),
    (rf"projects/{ID}/datasets/{LINK_ID}/copy", CopyHandler),
    (rf"projects/{ID}/datasets/{LINK_ID}", DatasetHandler),
]
