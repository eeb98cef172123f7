"""Cell edits of datadive_server_ext/templates/notebook.py in-process (no server).

test_server_ext.py checks the same operations through the HTTP API of a real server; these
tests pin the decisions themselves (which cells form a generated group, when an update is
refused as a hand edit, which orders are accepted) and run in well under a second, so
``./dev mutate`` can run them against every mutant.
"""

from __future__ import annotations

import copy

import nbformat
import pytest

from datadive_server_ext.templates import parse_template
from datadive_server_ext.templates.notebook import (
    CellError,
    delete_group,
    ensure_ids,
    generated_code_index,
    group_span,
    insert_template_cells,
    reorder,
    update_group,
)
from datadive_server_ext.templates.render import render_cells

MEAN = parse_template(
    """\
id: mean
version: 1.0.0
title: Mean of a column
language: python
inputs:
  - {name: col, type: text, default: age}
markdown: "Mean of {{ col }}"
code: |
  print({{ col }})
"""
)
PLAIN = parse_template(
    """\
id: plain
version: 1.0.0
title: Code only
language: python
inputs:
  - {name: n, type: integer, default: 1}
code: |
  x = {{ n }}
"""
)


def code(source, cid):
    return {
        "cell_type": "code",
        "id": cid,
        "metadata": {},
        "source": source,
        "outputs": [],
        "execution_count": None,
    }


def md(source, cid):
    return {"cell_type": "markdown", "id": cid, "metadata": {}, "source": source}


def notebook(*cells, minor=5):
    return {"nbformat": 4, "nbformat_minor": minor, "metadata": {}, "cells": list(cells)}


def with_group(nb, template=MEAN, values=None, index=None, ids=("m1", "c1")):
    cells = render_cells(template, values or {})
    for c, i in zip(cells, ids, strict=False):
        c["id"] = i
    insert_template_cells(nb, cells, index)
    return nb


def ids(nb):
    return [c["id"] for c in nb["cells"]]


def status(exc_info):
    return exc_info.value.status


# --- ids ---------------------------------------------------------------------------------------


def test_old_notebooks_get_unique_ids_and_minor_version_5():
    nb = notebook(code("a", ""), code("b", "x"), code("c", "x"), minor=4)
    del nb["cells"][0]["id"]
    ensure_ids(nb)
    assert nb["nbformat_minor"] == 5
    assert len(set(ids(nb))) == 3 and ids(nb)[1] == "x"
    assert all(len(i) == 8 for i in (ids(nb)[0], ids(nb)[2]))
    nbformat.validate(nbformat.from_dict(nb))
    newer = notebook(code("a", "a"), minor=9)
    ensure_ids(newer)
    assert newer["nbformat_minor"] == 9


def test_only_v4_notebooks_are_edited():
    with pytest.raises(CellError) as e:
        ensure_ids({"nbformat": 3, "cells": []})
    assert status(e) == 422 and e.value.message == (
        "only nbformat v4 notebooks can be edited; open and save it in JupyterLab first"
    )
    nb = {"nbformat": 4}
    ensure_ids(nb)
    assert nb["cells"] == []


# --- insert ------------------------------------------------------------------------------------


def test_insert_at_each_position_and_refuse_others():
    nb = notebook(code("a", "a"), code("b", "b"))
    assert insert_template_cells(nb, [code("x", "x")], 0) == 0
    assert insert_template_cells(nb, [code("y", "y")], 3) == 3
    assert insert_template_cells(nb, [code("z", "z")], None) == 4
    assert ids(nb) == ["x", "a", "b", "y", "z"]
    for bad in (-1, 6, True, 1.0, "1"):
        with pytest.raises(CellError) as e:
            insert_template_cells(nb, [code("w", "w")], bad)
        assert status(e) == 422
        assert e.value.message == (
            "index must be a whole number from 0 to 5 (the notebook has 5 cells)"
        )
    assert ids(nb) == ["x", "a", "b", "y", "z"]


def test_inserted_cells_never_reuse_an_id():
    nb = notebook(code("a", "a"), code("b", "b"))
    new = [code("x", "a"), code("y", "a")]
    insert_template_cells(nb, new, None)
    assert len(set(ids(nb))) == 4 and ids(nb)[:2] == ["a", "b"]
    twins = [code("x", "dup"), code("y", "dup")]  # equal to each other, not to the notebook's
    insert_template_cells(nb, twins, 0)
    assert len(set(ids(nb))) == 6 and ids(nb)[0] == "dup"


# --- groups ------------------------------------------------------------------------------------


def test_a_generated_code_cell_takes_its_own_markdown_cell_only():
    nb = with_group(notebook(md("intro", "i"), code("a", "a")), index=1)
    # i, m1, c1, a
    assert group_span(nb, 2) == (1, 3)
    assert group_span(nb, 1) == (1, 2)  # the markdown cell alone
    assert group_span(nb, 3) == (3, 4)
    # a markdown cell of another template above is not part of the group
    nb2 = with_group(notebook())
    nb2["cells"][0]["metadata"]["datadive"]["template"] = "other"
    assert group_span(nb2, 1) == (1, 2)
    # a hand-written markdown cell (no role) above a generated code cell stays
    nb4 = with_group(notebook(), PLAIN, ids=("p1",))
    nb4["cells"].insert(0, md("notes", "n"))
    assert group_span(nb4, 1) == (1, 2)
    # a code cell above with the same template is not a markdown cell
    nb5 = with_group(notebook(), PLAIN, ids=("p1",))
    with_group(nb5, PLAIN, ids=("p2",))
    assert group_span(nb5, 1) == (1, 2)


def test_group_at_the_top_of_the_notebook():
    nb = with_group(notebook(code("a", "a")), PLAIN, index=0, ids=("p1",))
    assert group_span(nb, 0) == (0, 1)
    nb = with_group(notebook(), index=0)
    assert group_span(nb, 1) == (0, 2)


def test_the_markdown_cell_id_finds_its_code_cell():
    nb = with_group(notebook(code("a", "a")))
    assert generated_code_index(nb, "m1") == 2
    assert generated_code_index(nb, "c1") == 2
    for cid in ("a",):
        with pytest.raises(CellError) as e:
            generated_code_index(nb, cid)
        assert status(e) == 422
        assert e.value.message == (
            "cell 'a' was not generated from a template; only generated cells can be updated"
        )
    with pytest.raises(CellError) as e:
        generated_code_index(nb, "nope")
    assert status(e) == 404
    assert e.value.message == (
        "no cell with id 'nope' in this notebook; reload the notebook to get current ids"
    )


def test_a_markdown_cell_whose_code_cell_is_gone_or_foreign_is_not_updatable():
    nb = with_group(notebook())
    del nb["cells"][1]  # the markdown cell is last now
    with pytest.raises(CellError) as e:
        generated_code_index(nb, "m1")
    assert status(e) == 422
    nb = with_group(notebook())
    nb["cells"][1]["metadata"]["datadive"]["template"] = "other"
    with pytest.raises(CellError):
        generated_code_index(nb, "m1")
    nb = with_group(notebook())
    nb["cells"].insert(1, code("a", "a"))
    with pytest.raises(CellError):
        generated_code_index(nb, "m1")
    # a code cell that names a template but lost its values cannot be re-rendered
    nb = with_group(notebook(), PLAIN, ids=("p1",))
    del nb["cells"][0]["metadata"]["datadive"]["values"]
    with pytest.raises(CellError):
        generated_code_index(nb, "p1")


# --- update: hand-edit detection ---------------------------------------------------------------


@pytest.mark.parametrize("edited", ["m1", "c1"])
def test_update_of_a_hand_edited_cell_is_409_until_confirmed(edited):
    nb = with_group(notebook(code("a", "a")))
    nb["cells"][ids(nb).index(edited)]["source"] += "\nmy notes"
    before = copy.deepcopy(nb)
    with pytest.raises(CellError) as e:
        update_group(nb, "c1", MEAN, {"col": "height"})
    assert status(e) == 409 and f"cell(s) {edited} were edited by hand" in e.value.message
    assert nb == before  # nothing changed
    new = update_group(nb, "c1", MEAN, {"col": "height"}, confirm=True)
    assert [c["id"] for c in new] == ["m1", "c1"]
    assert ids(nb) == ["a", "m1", "c1"]
    assert "'height'" in nb["cells"][2]["source"] and "my notes" not in "".join(
        c["source"] for c in nb["cells"]
    )


def test_update_keeps_position_ids_and_other_metadata():
    nb = with_group(notebook(code("a", "a"), code("b", "b")), index=1)
    nb["cells"][2]["metadata"]["tags"] = ["keep"]
    new = update_group(nb, "m1", MEAN, {"col": "height"})
    assert ids(nb) == ["a", "m1", "c1", "b"]
    assert new[1]["metadata"]["tags"] == ["keep"]
    assert new[1]["metadata"]["datadive"]["values"] == {"col": "height"}
    assert nb["cells"][1]["source"] == "Mean of height"
    nbformat.validate(nbformat.from_dict(nb))


def test_update_that_adds_a_markdown_cell_gives_it_a_fresh_id():
    nb = with_group(notebook(code("a", "a")), PLAIN, ids=("p1",))
    # the code cell becomes a template with a markdown part; its id stays, the new one is unique
    plain_meta = nb["cells"][1]["metadata"]["datadive"]
    plain_meta["template"] = "mean"
    plain_meta["values"] = {"col": "age"}
    new = update_group(nb, "p1", MEAN, {"col": "w"}, confirm=True)
    assert len(new) == 2 and new[1]["id"] == "p1"
    assert new[0]["id"] not in ("a", "p1") and len(set(ids(nb))) == 3
    assert ids(nb)[0] == "a" and ids(nb)[2] == "p1"


# --- delete and reorder ------------------------------------------------------------------------


def test_delete_takes_the_generated_markdown_cell_along():
    nb = with_group(notebook(code("a", "a"), code("b", "b")), index=1)
    assert delete_group(nb, "c1") == ["m1", "c1"]
    assert ids(nb) == ["a", "b"]
    nb = with_group(notebook(code("a", "a")))
    assert delete_group(nb, "m1") == ["m1"]  # the markdown cell alone
    assert ids(nb) == ["a", "c1"]


def test_reorder_with_a_full_order():
    nb = notebook(code("a", "a"), code("b", "b"), code("c", "c"))
    assert reorder(nb, order=["c", "a", "b"]) == ["c", "a", "b"]
    assert ids(nb) == ["c", "a", "b"]


@pytest.mark.parametrize(
    "order, message",
    [
        (["a", "b"], "order must list every cell id exactly once; missing: c"),
        (["a", "b", "c", "d"], "order must list every cell id exactly once; unknown: d"),
        (
            ["a", "b", "b"],
            "order must list every cell id exactly once; missing: c; duplicates present",
        ),
        (["a", "b", "c", "a"], "order must list every cell id exactly once; duplicates present"),
        ("abc", "order must be a list of cell ids"),
        (["a", "b", 3], "order must be a list of cell ids"),
    ],
)
def test_reorder_refuses_an_incomplete_order(order, message):
    nb = notebook(code("a", "a"), code("b", "b"), code("c", "c"))
    with pytest.raises(CellError) as e:
        reorder(nb, order=order)
    assert status(e) == 422 and e.value.message == message
    assert ids(nb) == ["a", "b", "c"]


def test_moving_a_group_moves_its_markdown_cell_too():
    nb = with_group(notebook(code("a", "a"), code("b", "b")), index=0)
    # m1, c1, a, b
    assert reorder(nb, cell_id="c1", to=2) == ["a", "b", "m1", "c1"]
    assert reorder(nb, cell_id="c1", to=0) == ["m1", "c1", "a", "b"]
    assert reorder(nb, cell_id="b", to=0) == ["b", "m1", "c1", "a"]
    for bad in (-1, 4):
        with pytest.raises(CellError) as e:
            reorder(nb, cell_id="a", to=bad)
        assert e.value.message == "to must be a whole number from 0 to 3"
    for cid, to in (("a", "1"), (None, 1), ("a", True)):
        with pytest.raises(CellError) as e:
            reorder(nb, cell_id=cid, to=to)
        assert status(e) == 422
    assert ids(nb) == ["b", "m1", "c1", "a"]


def test_a_group_never_reaches_around_the_notebook_or_between_markdown_cells():
    # the code cell first and its markdown cell moved to the very end: not one group
    nb = with_group(notebook())
    nb["cells"].reverse()  # c1, m1
    assert group_span(nb, 0) == (0, 1)
    assert delete_group(nb, "c1") == ["c1"] and ids(nb) == ["m1"]
    # two generated markdown cells of one template: deleting the lower one keeps the upper
    nb = with_group(notebook())
    twin = copy.deepcopy(nb["cells"][0])
    twin["id"] = "m2"
    nb["cells"].insert(1, twin)  # m1, m2, c1
    assert group_span(nb, 1) == (1, 2)
    assert delete_group(nb, "m2") == ["m2"] and ids(nb) == ["m1", "c1"]


def test_only_cells_with_a_template_and_values_can_be_updated():
    nb = with_group(notebook(), PLAIN, ids=("p1",))
    stray = copy.deepcopy(nb["cells"][0])
    stray["id"] = "s1"
    del stray["metadata"]["datadive"]["template"]  # values but no template
    as_markdown = copy.deepcopy(nb["cells"][0])
    as_markdown.update(id="s2", cell_type="markdown")  # template and values, but markdown
    del as_markdown["outputs"], as_markdown["execution_count"]
    nb["cells"] += [stray, as_markdown]
    for cid in ("s1", "s2"):
        with pytest.raises(CellError) as e:
            generated_code_index(nb, cid)
        assert status(e) == 422 and "was not generated from a template" in e.value.message


def test_the_409_names_every_edited_cell_and_the_way_out():
    nb = with_group(notebook())
    for c in nb["cells"]:
        c["source"] += " (edited)"
    with pytest.raises(CellError) as e:
        update_group(nb, "c1", MEAN, {"col": "x"})
    assert e.value.message == (
        "cell(s) m1, c1 were edited by hand since they were generated; updating would "
        'replace those edits. Send "confirm": true to replace them, or copy your edits first.'
    )


def test_update_of_a_code_only_group_keeps_its_id():
    nb = with_group(notebook(code("a", "a")), PLAIN, ids=("p1",))
    new = update_group(nb, "p1", PLAIN, {"n": 5})
    assert [c["id"] for c in new] == ["p1"] and ids(nb) == ["a", "p1"]
    assert nb["cells"][1]["source"] == "x = 5"


def test_reorder_messages_list_every_missing_and_unknown_id():
    nb = notebook(code("a", "a"), code("b", "b"), code("c", "c"))
    with pytest.raises(CellError) as e:
        reorder(nb, order=["a", "x", "y"])
    assert e.value.message == (
        "order must list every cell id exactly once; missing: b, c; unknown: x, y"
    )
    with pytest.raises(CellError) as e:
        reorder(nb, cell_id="a")
    assert e.value.message == 'send {"order": [all cell ids]} or {"cell_id": ID, "to": INDEX}'
    with pytest.raises(CellError) as e:
        reorder(nb, cell_id="a", to=9)
    assert status(e) == 422
