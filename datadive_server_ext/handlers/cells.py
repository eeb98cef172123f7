"""``datadive/api/notebooks/<path>.ipynb/cells[/<cell_id>]``: template cells in a saved notebook.

Reads and writes go through the server's ``contents_manager`` (any ContentsManager), one edit at
a time per notebook. The panel saves the open notebook first and reloads it afterwards.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import ensure_async
from tornado import web

from ..templates import RenderError, ValuesInvalid, is_hand_edited
from ..templates.notebook import (
    CellError,
    delete_group,
    find_cell,
    generated_code_index,
    insert_template_cells,
    reorder,
    update_group,
)
from .base import DatadiveHandler, KeyedLocks
from .templates import TemplatesMixin

_lock = KeyedLocks()


class _CellsBase(TemplatesMixin, DatadiveHandler):
    async def load(self, path: str, expect: Any = None) -> dict[str, Any]:
        """The saved notebook; with ``expect`` (the ``last_modified`` the caller saw), 409 when the
        file changed since, so an edit never overwrites work the caller has not seen."""
        cm = self.contents_manager
        model = await ensure_async(cm.get(path, content=True, type="notebook"))
        if expect is not None and not _same_time(expect, model.get("last_modified")):
            raise web.HTTPError(
                409,
                f"{path} changed since you loaded it (last modified {_iso(model.get('last_modified'))}); "
                "reload the notebook and try again",
            )
        nb: dict[str, Any] = model["content"]
        return nb

    async def save(self, path: str, nb: dict[str, Any]) -> dict[str, Any]:
        model = await ensure_async(
            self.contents_manager.save({"type": "notebook", "format": "json", "content": nb}, path)
        )
        return {"path": path, "last_modified": _iso(model.get("last_modified"))}

    def reply(self, obj: dict[str, Any], status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(obj))


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _same_time(expect: Any, actual: datetime | str | None) -> bool:
    if not isinstance(expect, str):
        raise web.HTTPError(400, "last_modified must be the ISO time the contents API gave you")
    try:
        want = datetime.fromisoformat(expect.replace("Z", "+00:00"))
    except ValueError:
        raise web.HTTPError(400, f"last_modified {expect!r} is not an ISO date-time") from None
    if isinstance(actual, str):
        actual = datetime.fromisoformat(actual.replace("Z", "+00:00"))
    if actual is None:
        return True
    if want.tzinfo is None:
        want = want.replace(tzinfo=UTC)
    if actual.tzinfo is None:
        actual = actual.replace(tzinfo=UTC)
    return abs((want - actual).total_seconds()) < 1e-3


def _cell_error(e: CellError) -> web.HTTPError:
    return web.HTTPError(e.status, e.message)


class CellsHandler(_CellsBase):
    @web.authenticated
    @authorized
    async def post(self, path: str) -> None:
        """Insert a template's cells at ``index`` (default: the end)."""
        body = self.body()
        rendered = await self.render_from(body)
        if rendered is None:
            return
        t, cells = rendered
        async with _lock(path):
            nb = await self.load(path, body.get("last_modified"))
            try:
                index = insert_template_cells(nb, cells, body.get("index"))
            except CellError as e:
                raise _cell_error(e) from None
            saved = await self.save(path, nb)
        self.log.info("Datadive: inserted %s %s at %s in %s", t.id, t.version, index, path)
        self.reply({"notebook": saved, "index": index, "cells": cells}, status=201)

    @web.authenticated
    @authorized
    async def patch(self, path: str) -> None:
        """Reorder: ``{"order": [every cell id]}`` or ``{"cell_id": ID, "to": INDEX}``."""
        body = self.body()
        async with _lock(path):
            nb = await self.load(path, body.get("last_modified"))
            try:
                order = reorder(nb, body.get("order"), body.get("cell_id"), body.get("to"))
            except CellError as e:
                raise _cell_error(e) from None
            saved = await self.save(path, nb)
        self.reply({"notebook": saved, "order": order})


class CellHandler(_CellsBase):
    @web.authenticated
    @authorized
    async def get(self, path: str, cell_id: str) -> None:
        """The form state of a generated cell: template, version, values, hand_edited."""
        nb = await self.load(path)
        try:
            idx = generated_code_index(nb, cell_id)
        except CellError as e:
            raise _cell_error(e) from None
        cell = nb["cells"][idx]
        meta = cell["metadata"]["datadive"]
        self.reply(
            {
                "cell_id": cell.get("id"),
                "index": idx,
                "template": meta["template"],
                "version": meta["version"],
                "values": meta["values"],
                "hand_edited": is_hand_edited(cell),
            }
        )

    @web.authenticated
    @authorized
    async def put(self, path: str, cell_id: str) -> None:
        """Re-render a generated cell from new values, in place; 409 if edited by hand unless confirmed."""
        body = self.body()
        confirm = body.get("confirm", False)
        if not isinstance(confirm, bool):
            raise web.HTTPError(400, "confirm must be true or false")
        async with _lock(path):
            nb = await self.load(path, body.get("last_modified"))
            try:
                idx = generated_code_index(nb, cell_id)
            except CellError as e:
                raise _cell_error(e) from None
            meta = nb["cells"][idx]["metadata"]["datadive"]
            version = body.get("version", meta["version"])
            if version == "latest":
                version = None
            if version is not None and not isinstance(version, str):
                raise web.HTTPError(400, 'version must be text such as "1.0.0" or "latest"')
            t = await self.templates.get(meta["template"], version)
            values = body.get("values", meta["values"])
            try:
                cells = update_group(nb, cell_id, t, values, confirm=confirm)
            except CellError as e:
                raise _cell_error(e) from None
            except ValuesInvalid as e:
                self.write_values_error(e)
                return
            except RenderError as e:
                raise web.HTTPError(422, str(e)) from None
            saved = await self.save(path, nb)
            index = find_cell(nb, cells[0]["id"])
        self.reply({"notebook": saved, "index": index, "cells": cells})

    @web.authenticated
    @authorized
    async def delete(self, path: str, cell_id: str) -> None:
        """Delete a cell (a generated code cell takes its generated markdown cell with it);
        ``?last_modified=`` guards against overwriting newer saves."""
        async with _lock(path):
            nb = await self.load(path, self.get_argument("last_modified", None))
            try:
                removed = delete_group(nb, cell_id)
            except CellError as e:
                raise _cell_error(e) from None
            saved = await self.save(path, nb)
        self.reply({"notebook": saved, "deleted": removed})


NB = r"api/notebooks/(?P<path>(?:[^/]+/)*[^/]+\.ipynb)"
routes = [
    (NB + r"/cells/?", CellsHandler),
    (NB + r"/cells/(?P<cell_id>[^/]+)/?", CellHandler),
]
