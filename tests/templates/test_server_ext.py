"""Server-extension routes on a real jupyter server process; notebooks via its ContentsManager."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import nbformat
import pytest

from datadive_server_ext.templates import is_hand_edited


def call(server, *parts, method="GET", body=None, expect=200, params=None, token=None):
    path = "datadive/api/" + "/".join(quote(p) for p in parts)
    if params:
        path += "?" + urlencode(params)
    code, data = server.request(method, path, body, token=token)
    assert code == expect, (code, data)
    return data


def read_nb(root, path="nb.ipynb"):
    return nbformat.read(str(Path(root) / path), as_version=4)


def test_list_falls_back_to_builtins_with_a_note(jupyter_server):
    data = call(jupyter_server, "templates")
    assert data["source"] == "builtin"
    assert "built-in templates only" in data["note"] and "not connected" in data["note"]
    ids = {t["id"] for t in data["templates"]}
    assert {"t-test", "load-qualtrics"} <= ids and len(ids) >= 12
    # in the order of an analysis (Load, Clean, Explore, Test, Plot): "Load a CSV file" first
    orders = [t["category_order"] for t in data["templates"]]
    assert data["templates"][0]["id"] == "load-csv" and orders == sorted(orders)
    assert orders[-1] == 4 and len(set(orders)) == 5
    tt = next(t for t in data["templates"] if t["id"] == "t-test")
    assert tt["inputs"]["properties"]["outcome"]["x-datadive-input"] == {
        "type": "column",
        "dataset": "data",
    }
    data = call(jupyter_server, "templates", params={"category": "plot"})
    assert {t["id"] for t in data["templates"]} == {"histogram", "box-plot", "scatter-plot"}
    data = call(jupyter_server, "templates", params={"q": "two groups"})
    assert [t["id"] for t in data["templates"]] == ["t-test"]


def test_get_and_unknown_template(jupyter_server):
    data = call(jupyter_server, "templates", "anova")
    assert data["version"] == "1.1.0" and data["document"]["code"].startswith("import pingouin")
    data = call(jupyter_server, "templates", "anova", params={"version": "1.1.0"})
    assert data["ui_schema"]["ui:order"] == ["data", "outcome", "group"]
    err = call(jupyter_server, "templates", "anova", params={"version": "2.0.0"}, expect=404)
    assert "versions that exist: 1.1.0" in err["message"]
    err = call(jupyter_server, "templates", "nope", expect=404)
    assert "No template 'nope'" in err["message"] and "t-test" in err["message"]
    err = call(jupyter_server, "templates", "anova", "versions", "9.0.0", expect=404)
    assert "versions that exist: 1.1.0" in err["message"]


def test_render_and_per_field_422(jupyter_server):
    data = call(
        jupyter_server,
        "render",
        method="POST",
        body={"template": "histogram", "values": {"column": "age", "bins": 5}},
    )
    code = data["cells"][-1]
    assert code["cell_type"] == "code" and "bins=5" in code["source"]
    assert code["metadata"]["datadive"]["values"]["column"] == "age"
    err = call(
        jupyter_server,
        "render",
        method="POST",
        expect=422,
        body={"template": "histogram", "values": {"bins": 0, "data": "import"}},
    )
    assert err["errors"] == {
        "column": "required: give a value",
        "bins": "must be at least 1",
        "data": err["errors"]["data"],
    }
    assert "variable name" in err["errors"]["data"]
    err = call(jupyter_server, "render", method="POST", expect=404, body={"template": "histogrm"})
    assert "histogram" in err["message"]
    err = call(jupyter_server, "render", method="POST", expect=400, body={"values": {}})
    assert "Name the template" in err["message"]


def test_insert_update_delete_reorder(jupyter_server, notebook_path):
    path = notebook_path(cells=3)
    ins = call(
        jupyter_server,
        "notebooks",
        path,
        "cells",
        method="POST",
        expect=201,
        body={
            "template": "t-test",
            "index": 1,
            "values": {"outcome": "score", "group": "cond", "group_a": "A", "group_b": "B"},
        },
    )
    assert ins["index"] == 1 and [c["cell_type"] for c in ins["cells"]] == ["markdown", "code"]
    nb = read_nb(jupyter_server.root, path)
    nbformat.validate(nb)
    assert [c.cell_type for c in nb.cells] == ["code", "markdown", "code", "code", "code"]
    code_id = nb.cells[2].id
    assert nb.cells[2].metadata.datadive.template == "t-test"
    assert nb.cells[0].source == "x = 0" and nb.cells[3].source == "x = 1"

    state = call(jupyter_server, "notebooks", path, "cells", code_id)
    assert state["values"]["group_b"] == "B" and state["hand_edited"] is False

    # update in place: same position and ids, new values
    up = call(
        jupyter_server,
        "notebooks",
        path,
        "cells",
        code_id,
        method="PUT",
        body={"values": {**state["values"], "group_b": "C", "equal_variances": True}},
    )
    nb = read_nb(jupyter_server.root, path)
    assert nb.cells[2].id == code_id and up["index"] == 1
    assert "= 'A', 'C'" in nb.cells[2].source and "equal_var=True" in nb.cells[2].source
    assert "(A vs C)" in nb.cells[1].source

    # a hand edit is never overwritten silently
    nb.cells[2].source += "\nprint('my own line')"
    nbformat.write(nb, str(jupyter_server.root / path))
    err = call(
        jupyter_server,
        "notebooks",
        path,
        "cells",
        code_id,
        method="PUT",
        expect=409,
        body={"values": state["values"]},
    )
    assert "edited by hand" in err["message"] and '"confirm": true' in err["message"]
    assert "my own line" in read_nb(jupyter_server.root, path).cells[2].source
    call(
        jupyter_server,
        "notebooks",
        path,
        "cells",
        code_id,
        method="PUT",
        body={"values": state["values"], "confirm": True},
    )
    nb = read_nb(jupyter_server.root, path)
    assert "my own line" not in nb.cells[2].source and not is_hand_edited(nb.cells[2])

    # bad values → 422 per field, notebook untouched
    before = read_nb(jupyter_server.root, path)
    err = call(
        jupyter_server,
        "notebooks",
        path,
        "cells",
        code_id,
        method="PUT",
        expect=422,
        body={"values": {**state["values"], "alternative": "sideways"}},
    )
    assert list(err["errors"]) == ["alternative"]
    assert read_nb(jupyter_server.root, path) == before

    # reorder: move the generated group to the end; then a full permutation
    ids = [c.id for c in nb.cells]
    data = call(
        jupyter_server,
        "notebooks",
        path,
        "cells",
        method="PATCH",
        body={"cell_id": code_id, "to": 3},
    )
    assert data["order"] == [ids[0], ids[3], ids[4], ids[1], ids[2]]
    rev = data["order"][3:] + data["order"][:3]  # rotate: the generated group first again
    call(jupyter_server, "notebooks", path, "cells", method="PATCH", body={"order": rev})
    assert [c.id for c in read_nb(jupyter_server.root, path).cells] == rev
    err = call(
        jupyter_server,
        "notebooks",
        path,
        "cells",
        method="PATCH",
        expect=422,
        body={"order": rev[:-1]},
    )
    assert "missing" in err["message"]

    # delete the generated group (code + its markdown)
    nb = read_nb(jupyter_server.root, path)
    data = call(jupyter_server, "notebooks", path, "cells", code_id, method="DELETE")
    assert sorted(data["deleted"]) == sorted([ids[1], ids[2]])
    assert [c.source for c in read_nb(jupyter_server.root, path).cells] == [
        "x = 0",
        "x = 1",
        "x = 2",
    ]


def test_hand_edited_markdown_cell_is_not_overwritten_silently(jupyter_server, notebook_path):
    """docs/templates.md: updating answers 409 when the generated markdown cell was edited by
    hand, and only ``"confirm": true`` replaces the edit."""
    path = notebook_path(cells=1)
    values = {"outcome": "score", "group": "cond", "group_a": "A", "group_b": "B"}
    ins = call(
        jupyter_server,
        "notebooks",
        path,
        "cells",
        method="POST",
        expect=201,
        body={"template": "t-test", "index": 1, "values": values},
    )
    md_id, code_id = (c["id"] for c in ins["cells"])
    nb = read_nb(jupyter_server.root, path)
    assert [c.id for c in nb.cells[1:]] == [md_id, code_id]
    nb.cells[1].source += "\n\nMy interpretation: the groups differ."
    nbformat.write(nb, str(jupyter_server.root / path))
    edited = read_nb(jupyter_server.root, path)

    err = call(
        jupyter_server,
        "notebooks",
        path,
        "cells",
        code_id,
        method="PUT",
        expect=409,
        body={"values": {**values, "group_b": "C"}},
    )
    assert md_id in err["message"] and '"confirm": true' in err["message"], err
    assert read_nb(jupyter_server.root, path) == edited  # nothing written, the edit is kept

    call(
        jupyter_server,
        "notebooks",
        path,
        "cells",
        code_id,
        method="PUT",
        body={"values": {**values, "group_b": "C"}, "confirm": True},
    )
    nb = read_nb(jupyter_server.root, path)
    assert "My interpretation" not in nb.cells[1].source and "(A vs C)" in nb.cells[1].source
    assert not is_hand_edited(nb.cells[1]) and not is_hand_edited(nb.cells[2])


def test_cell_errors(jupyter_server, notebook_path):
    path = notebook_path(cells=2)
    err = call(
        jupyter_server,
        "notebooks",
        path,
        "cells",
        method="POST",
        expect=422,
        body={"template": "describe", "index": 7},
    )
    assert "from 0 to 2" in err["message"]
    err = call(jupyter_server, "notebooks", path, "cells", "zzz", method="PUT", expect=404, body={})
    assert "no cell with id 'zzz'" in err["message"]
    nb_cells = (
        call(
            jupyter_server,
            "notebooks",
            path,
            "cells",
            method="POST",
            expect=201,
            body={"template": "describe"},
        )
    )["cells"]
    assert nb_cells[-1]["metadata"]["datadive"]["values"] == {"data": "df"}
    err = call(
        jupyter_server,
        "notebooks",
        "missing.ipynb",
        "cells",
        method="POST",
        expect=404,
        body={"template": "describe"},
    )
    assert "missing.ipynb" in err["message"]


def test_old_notebooks_without_ids_are_upgraded(jupyter_server):
    nb = nbformat.v4.new_notebook()
    nb.nbformat_minor = 4
    nb.cells = [nbformat.v4.new_code_cell("a = 1")]
    for c in nb.cells:
        c.pop("id", None)
    (jupyter_server.root / "old.ipynb").write_text(json.dumps(nb))
    call(
        jupyter_server,
        "notebooks",
        "old.ipynb",
        "cells",
        method="POST",
        expect=201,
        body={"template": "describe", "index": 0},
    )
    saved = read_nb(jupyter_server.root, "old.ipynb")
    assert saved.nbformat_minor >= 5 and all(c.get("id") for c in saved.cells)
    assert saved.cells[1].source == "a = 1"


def test_routes_need_authentication(jupyter_server):
    for method, parts in [
        ("GET", ["templates"]),
        ("POST", ["render"]),
        ("POST", ["notebooks", "nb.ipynb", "cells"]),
    ]:
        code, _ = jupyter_server.request(method, "datadive/api/" + "/".join(parts), token="wrong")
        assert code in (401, 403), (method, parts, code)


def test_last_modified_guards_against_lost_updates(jupyter_server, notebook_path):
    path = notebook_path(cells=1, name="guard.ipynb")
    first = call(
        jupyter_server,
        "notebooks",
        path,
        "cells",
        method="POST",
        expect=201,
        body={"template": "describe"},
    )
    seen = first["notebook"]["last_modified"]
    # someone saves the notebook after we loaded it
    nb = read_nb(jupyter_server.root, path)
    nb.cells.append(nbformat.v4.new_code_cell("y = 2"))
    time.sleep(0.05)
    nbformat.write(nb, str(jupyter_server.root / path))
    err = call(
        jupyter_server,
        "notebooks",
        path,
        "cells",
        method="POST",
        expect=409,
        body={"template": "describe", "last_modified": seen},
    )
    assert "changed since you loaded it" in err["message"]
    assert len(read_nb(jupyter_server.root, path).cells) == 3
    current = jupyter_server.request("GET", f"api/contents/{path}?content=0")[1]["last_modified"]
    ok = call(
        jupyter_server,
        "notebooks",
        path,
        "cells",
        method="POST",
        expect=201,
        body={"template": "describe", "last_modified": current},
    )
    assert ok["index"] == 3
    err = call(
        jupyter_server,
        "notebooks",
        path,
        "cells",
        method="POST",
        expect=400,
        body={"template": "describe", "last_modified": "yesterday"},
    )
    assert "ISO" in err["message"]


def test_unreachable_service_falls_back_to_builtins(tmp_path):
    from jpserver import JupyterServer, free_port

    closed = f"http://127.0.0.1:{free_port()}/services/datadive"
    (tmp_path / "root").mkdir()
    server = JupyterServer(
        tmp_path / "root",
        tmp_path / "srv",
        env={"DATADIVE_SERVICE_URL": closed, "JUPYTERHUB_API_TOKEN": "not-used"},
    ).start()
    try:
        data = call(server, "templates")
        assert data["source"] == "builtin" and "unreachable" in data["note"]
        assert len(data["templates"]) >= 12
        rendered = call(server, "render", method="POST", body={"template": "describe"})
        assert rendered["cells"][-1]["metadata"]["datadive"]["template"] == "describe"
        err = call(server, "templates", "mine", expect=404)
        assert "built-in templates that exist" in err["message"] and "unreachable" in err["message"]
    finally:
        server.stop()


@pytest.mark.parametrize(
    "manager",
    [
        "jupyter_server.services.contents.filemanager.FileContentsManager",
        "datadive_contents.manager.DatadiveContentsManager",
    ],
)
def test_cell_routes_work_with_other_contents_managers(tmp_path, manager):
    """The cell routes only use the contents_manager API: a sync manager and Datadive's own
    (single-root mode on a local directory store) behave the same."""
    from jpserver import JupyterServer

    root = tmp_path / "root"
    root.mkdir()
    args = [f"--ServerApp.contents_manager_class={manager}"]
    if "Datadive" in manager:
        args.append(f"--DatadiveContentsManager.store_url=file://{tmp_path / 'store'}")
    server = JupyterServer(root, tmp_path / "srv", args=args).start()
    try:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("a = 1")])
        code, _ = server.request(
            "PUT", "api/contents/cm.ipynb", {"type": "notebook", "format": "json", "content": nb}
        )
        assert code in (200, 201), server.log()[-2000:]
        ins = call(
            server,
            "notebooks",
            "cm.ipynb",
            "cells",
            method="POST",
            expect=201,
            body={"template": "histogram", "index": 0, "values": {"column": "age"}},
        )
        cid = ins["cells"][-1]["id"]
        call(
            server,
            "notebooks",
            "cm.ipynb",
            "cells",
            cid,
            method="PUT",
            body={"values": {"column": "height", "bins": 7}},
        )
        code, model = server.request("GET", "api/contents/cm.ipynb")
        cells = model["content"]["cells"]
        assert [c["cell_type"] for c in cells] == ["code", "code"]
        assert cells[0]["id"] == cid and "bins=7" in cells[0]["source"]
        assert cells[0]["metadata"]["datadive"]["values"]["column"] == "height"
        assert cells[1]["source"] == "a = 1"
        call(server, "notebooks", "cm.ipynb", "cells", cid, method="DELETE")
        code, model = server.request("GET", "api/contents/cm.ipynb")
        assert [c["source"] for c in model["content"]["cells"]] == ["a = 1"]
    finally:
        server.stop()
