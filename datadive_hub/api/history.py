"""history: a project's trash (deleted files and folders) and its named snapshots.

Versions of one file are in ``files.py`` (``projects/{id}/versions/{path}``). Access is decided
by ``access.project_for`` like every route: viewers list, editors restore and take snapshots.
The logic is in ``datadive_hub.history``; these handlers only check, call it and answer.
"""

from tornado import web

from .. import history
from ..models import Role
from .files import FilesBase, store_errors
from .projects import ID, page_size


class TrashHandler(FilesBase):
    """``GET projects/{id}/trash?limit=&cursor=`` lists; ``POST {"path"}`` restores one."""

    audit_actions = {"post": "restored from the trash"}

    def get(self, project_id: str) -> None:
        self.project_store(project_id, Role.viewer)
        limit = page_size(self)
        cursor = self.get_argument("cursor", "")
        if cursor and not (cursor.isdigit() and len(cursor) < 20):
            raise web.HTTPError(
                400,
                "cursor is not one this service gave out; use the 'next' value of the previous page",
            )
        self.write_json(
            history.trash_page(
                self.sessions, self.project_id, limit, int(cursor) if cursor else None
            )
        )

    async def post(self, project_id: str) -> None:
        store = self.project_store(project_id, Role.editor)
        body = self.json_body(required=("path",))
        if not isinstance(body["path"], str):
            raise web.HTTPError(400, "path must be the path of a deleted file or folder (a string)")
        path = self.audit_target = self.rel(body["path"])
        with store_errors(path):
            out = await history.restore_from_trash(
                store, self.sessions, self.project_id, path, self.user.name
            )
        self.log.info(
            "%s restored %s %s from the trash of project %s",
            self.user.name,
            out["kind"],
            path,
            self.project_id,
        )
        self.write_json(out)


class SnapshotsHandler(FilesBase):
    """``GET projects/{id}/snapshots`` lists; ``POST {"name"}`` takes one (201)."""

    audit_actions = {"post": "took a snapshot"}

    def get(self, project_id: str) -> None:
        self.project_store(project_id, Role.viewer)
        self.write_json({"snapshots": history.list_snapshots(self.sessions, self.project_id)})

    async def post(self, project_id: str) -> None:
        files = self.project_store(project_id, Role.editor)
        body = self.json_body(required=("name",))
        with store_errors(""):
            taken = await history.take_snapshot(
                self.store, files, self.sessions, self.project_id, body["name"], self.user.name
            )
        snap = taken.snapshot
        self.audit_target = snap["name"]
        self.log.info(
            "%s took snapshot %r of project %s (%s files, %s store requests)",
            self.user.name,
            snap["name"],
            self.project_id,
            snap["files"],
            taken.requests,
        )
        self.write_json(snap, status=201)


class SnapshotHandler(FilesBase):
    """``GET projects/{id}/snapshots/{name}``: the manifest (path → version id) and what the
    notebooks were made from (templates, data read, environment lock)."""

    async def get(self, project_id: str, name: str) -> None:
        self.project_store(project_id, Role.viewer)
        with store_errors(name):
            snap = history.find_snapshot(self.sessions, self.project_id, name)
            manifest = await history.read_manifest(self.store, snap)
        self.write_json(
            {
                **history.snapshot_json(snap),
                "manifest": manifest["files"],
                # manifests taken before these were recorded have none
                "templates": manifest.get("templates", []),
                "environment": manifest.get("environment"),
                "data_read": manifest.get("data_read", []),
                "skipped_notebooks": manifest.get("skipped_notebooks", []),
            }
        )


class SnapshotCompareHandler(FilesBase):
    """``GET projects/{id}/snapshots/{name}/compare?with=OTHER``: files added, removed and
    changed from snapshot ``name`` to snapshot ``OTHER`` (or ``current``: the project now)."""

    async def get(self, project_id: str, name: str) -> None:
        files = self.project_store(project_id, Role.viewer)
        other = self.get_argument("with", "")
        if not other:
            raise web.HTTPError(
                400,
                "Say what to compare with: ?with=<another snapshot's name> or ?with=current "
                "(the project now)",
            )
        with store_errors(name):
            out = await history.compare_snapshots(
                self.store, files, self.sessions, self.project_id, name, other
            )
        self.write_json(out)


class SnapshotRestoreHandler(FilesBase):
    """``POST projects/{id}/snapshots/{name}/restore``: roll the project forward to it."""

    audit_actions = {"post": "restored a snapshot"}

    async def post(self, project_id: str, name: str) -> None:
        files = self.project_store(project_id, Role.editor)
        with store_errors(name):
            out = await history.restore_snapshot(
                self.store, files, self.sessions, self.project_id, name, self.user.name
            )
        self.log.info(
            "%s restored project %s to snapshot %r (%s restored, %s to the trash)",
            self.user.name,
            self.project_id,
            name,
            out["restored"],
            out["trashed"],
        )
        self.write_json(out)


NAME = r"(?P<name>[^/]+)"

routes = [
    (rf"projects/{ID}/trash", TrashHandler),
    (rf"projects/{ID}/snapshots", SnapshotsHandler),
    (rf"projects/{ID}/snapshots/{NAME}", SnapshotHandler),
    (rf"projects/{ID}/snapshots/{NAME}/compare", SnapshotCompareHandler),
    (rf"projects/{ID}/snapshots/{NAME}/restore", SnapshotRestoreHandler),
]
