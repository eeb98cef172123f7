"""projects/{id}/notebooks: each a real .ipynb in the project's storage.

The list is what the store holds (notebooks made in JupyterLab appear too), joined with the
service's rows (id, archived flag, creator).
"""

import asyncio
import json
import posixpath

import nbformat
from datadive_contents.paths import normalize_path
from datadive_contents.stores import Conflict, PathRejected
from sqlalchemy import select
from tornado import web

from .. import access, file_names, history
from ..models import Notebook, Role
from . import serialize
from .base import APIHandler
from .projects import ID


def notebook_path(value: object) -> str:
    if not isinstance(value, str):
        raise web.HTTPError(400, "path must be a string such as 'analysis.ipynb'")
    try:
        path = normalize_path(value, allow_root=False)
    except PathRejected as e:
        raise web.HTTPError(400, str(e)) from None
    if not path.endswith(".ipynb"):
        path += ".ipynb"
    if posixpath.basename(path).startswith("."):
        raise web.HTTPError(400, "notebook names must not start with '.'")
    return path


def empty_notebook(kernel: str = "python3") -> bytes:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return json.dumps(nb, indent=1).encode() + b"\n"


async def stored_notebooks(handler: APIHandler, project_id: str) -> set[str]:
    """Paths of the .ipynb files the store holds for the project (hidden folders left out)."""
    listing = await handler.project_files(project_id).list("", recursive=True)
    return {
        f.key
        for f in listing.files
        if f.key.endswith(".ipynb") and not any(seg.startswith(".") for seg in f.key.split("/"))
    }


def sync_rows(handler: APIHandler, project_id: str, paths: set[str]) -> list[Notebook]:
    """Rows for every notebook in ``paths``; rows whose file is gone are dropped."""
    rows = {
        n.path: n
        for n in handler.db.scalars(select(Notebook).where(Notebook.project_id == project_id))
    }
    changed = False
    for path in paths - rows.keys():
        rows[path] = Notebook(project_id=project_id, path=path, created_by="")
        handler.db.add(rows[path])
        changed = True
    for path in rows.keys() - paths:
        handler.db.delete(rows.pop(path))
        changed = True
    if changed:
        handler.commit()
    return sorted(rows.values(), key=lambda n: n.path)


def find_notebook(handler: APIHandler, project_id: str, notebook_id: str) -> Notebook:
    nb = handler.db.get(Notebook, notebook_id)
    if nb is None or nb.project_id != project_id:
        raise web.HTTPError(
            404, f"No notebook {notebook_id!r} in this project; list them with GET .../notebooks"
        )
    return nb


# Each verb reads and writes the database in synchronous stretches and ends the session
# (release_db) before it awaits the store: no connection is held across an await.


class NotebooksHandler(APIHandler):
    audit_actions = {"post": "created a notebook"}

    async def get(self, project_id: str) -> None:
        pid = access.project_for(self, project_id, Role.viewer).id
        self.release_db()
        archived = self.get_argument("archived", "0") in ("1", "true")
        paths = await stored_notebooks(self, pid)
        rows = sync_rows(self, pid, paths)
        self.write_json(
            {"notebooks": [serialize.notebook(n) for n in rows if archived or not n.archived]}
        )

    async def post(self, project_id: str) -> None:
        pid = access.project_for(self, project_id, Role.editor).id
        self.release_db()
        body = self.json_body()
        path = notebook_path(body.get("path") or body.get("name") or "")
        try:
            info = await self.project_files(pid).put(
                path, empty_notebook(), if_none_match=True, author=self.user.name
            )
        except Conflict:
            raise web.HTTPError(
                409, f"{path!r} already exists in this project; choose another name"
            ) from None
        history.record_writes(self.settings["session_factory"], pid, [info], self.user.name)
        nb = self.db.scalar(
            select(Notebook).where(Notebook.project_id == pid, Notebook.path == path)
        )
        if nb is None:
            nb = Notebook(project_id=pid, path=path, created_by=self.user.name)
            self.db.add(nb)
        self.commit()
        self.write_json(serialize.notebook(nb), status=201)


class NotebookHandler(APIHandler):
    audit_actions = {"patch": "changed a notebook", "delete": "deleted a notebook"}

    def get(self, project_id: str, notebook_id: str) -> None:
        pid = access.project_for(self, project_id, Role.viewer).id
        self.write_json(serialize.notebook(find_notebook(self, pid, notebook_id)))

    async def patch(self, project_id: str, notebook_id: str) -> None:
        pid = access.project_for(self, project_id, Role.editor).id
        old = find_notebook(self, pid, notebook_id).path
        self.release_db()
        body = self.json_body()
        if not body or set(body) - {"path", "name", "archived"}:
            raise web.HTTPError(
                400, "Send 'path' (or 'name') to rename and/or 'archived' (boolean)"
            )
        if "archived" in body and not isinstance(body["archived"], bool):
            raise web.HTTPError(400, "archived must be true or false")
        path = old
        new = body.get("path") or body.get("name")
        if new is not None:
            if "name" in body and "path" not in body and "/" in old:
                new = posixpath.join(posixpath.dirname(old), new)
            path = notebook_path(new)
            if path != old:
                store = self.project_files(pid)
                if await store.head(path) is not None:
                    raise web.HTTPError(409, f"{path!r} already exists; choose another name")
                before = await store.head(old)
                info = await store.copy(old, path, author=self.user.name)
                await store.delete(old)  # a rename, not a delete: nothing goes to the trash
                move = file_names.Move(
                    old, before.version_id if before else None, path, info.version_id
                )
                sessions = self.settings["session_factory"]
                await asyncio.to_thread(
                    file_names.note_moves, sessions, pid, [move], self.user.name
                )
                history.record_writes(sessions, pid, [info], self.user.name)
        nb = find_notebook(self, pid, notebook_id)
        if "archived" in body:
            nb.archived = body["archived"]
        nb.path = path
        self.commit()
        self.write_json(serialize.notebook(nb))

    async def delete(self, project_id: str, notebook_id: str) -> None:
        pid = access.project_for(self, project_id, Role.editor).id
        path = find_notebook(self, pid, notebook_id).path
        self.release_db()
        store = self.project_files(pid)
        info = await store.head(path)
        await store.delete(path)
        if info is not None:
            history.add_trash(
                self.settings["session_factory"], pid, path, "file", [info], self.user.name
            )
        nb = self.db.get(Notebook, notebook_id)
        if nb is not None:
            self.db.delete(nb)
            self.commit()
        self.set_status(204)
        self.finish()


routes = [
    (rf"projects/{ID}/notebooks/?", NotebooksHandler),
    (rf"projects/{ID}/notebooks/(?P<notebook_id>[^/]+)", NotebookHandler),
]
