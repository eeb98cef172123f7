"""NotebookWriter: the same bytes, validation result and signature as nbformat's own path."""

from __future__ import annotations

import copy
import json
import warnings

import nbformat
import pytest
from datadive_contents.nbwrite import NotebookWriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nbformat.sign import MemorySignatureStore, NotebookNotary
from nbformat.v4 import (
    new_code_cell,
    new_markdown_cell,
    new_notebook,
    new_output,
    new_raw_cell,
)


@pytest.fixture
def notary():
    return NotebookNotary(store_factory=MemorySignatureStore, secret=b"s3cret")


def reference(content, notary):
    """What jupyter_server's save does: from_dict, check_and_sign, nbformat.writes."""
    nb = nbformat.from_dict(copy.deepcopy(content))
    trusted = notary.check_cells(nb)
    digest = notary.compute_signature(nb) if trusted else None
    ve: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = nbformat.writes(nb, version=nbformat.NO_CONVERT, capture_validation_error=ve)
    return data.encode("utf-8"), trusted, digest, "ValidationError" in ve


def as_request(nb) -> dict:
    """A model's content as the contents API handler passes it (parsed JSON, joined lines)."""
    return json.loads(json.dumps(nb))


def rich_notebook() -> dict:
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Py 3"}})
    nb.metadata["signature"] = "sha256:old"
    nb.metadata["orig_nbformat"] = 3
    nb.cells = [
        new_markdown_cell("# Title\n\nsome *text*\r\nwith ünïcödé ✓ and \u2028 separator"),
        new_code_cell(
            "import pandas as pd\nx = 1.5e-7\nprint(x)\n",
            execution_count=3,
            outputs=[
                new_output("stream", name="stdout", text="1.5e-07\nsecond line\n"),
                new_output(
                    "execute_result",
                    data={"text/plain": "a\nb", "text/html": "<b>x</b>\n<i>y</i>"},
                    execution_count=3,
                ),
                new_output(
                    "display_data",
                    data={"image/png": "iVBORw0KGgo=\n", "image/svg+xml": "<svg>\n</svg>"},
                    metadata={"image/png": {"width": 10}},
                ),
                new_output("error", ename="E", evalue="v", traceback=["l1", "l2\x1b[0m"]),
            ],
        ),
        new_code_cell("", metadata={"trusted": True, "tags": ["a", "b"], "n": None, "f": 0.1}),
        new_raw_cell("raw\n\tcontent", metadata={"format": "text/x-python"}),
        new_markdown_cell("![img](attachment:a.png)", attachments={"a.png": {"image/png": "AA=="}}),
    ]
    nb.cells[0].metadata["trusted"] = True  # markdown: kept in the signature input
    return as_request(nb)


def check(writer: NotebookWriter, content: dict, notary, expect_fast: bool = True):
    got = writer.prepare(copy.deepcopy(content))
    data, trusted, digest, invalid = reference(content, notary)
    assert got.data == data
    assert (got.trusted, got.signature()) == (trusted, digest)
    assert ("ValidationError" in got.validation_error) == invalid
    assert got.fast == expect_fast
    return got


def test_same_bytes_signature_and_validity_as_nbformat(notary):
    w = NotebookWriter(notary)
    content = rich_notebook()
    first = check(w, content, notary)
    assert first.cached_cells == 0
    again = check(w, content, notary)
    assert again.cached_cells == len(content["cells"]), "unchanged cells come from the cache"
    content["cells"][1]["source"] = "changed = True\n"
    third = check(w, content, notary)
    assert third.cached_cells == len(content["cells"]) - 1


def test_untrusted_notebook_is_not_signed(notary):
    w = NotebookWriter(notary)
    content = rich_notebook()
    got = check(w, content, notary)
    # the rich output of cell 1 is not explicitly trusted: check_cells says no
    assert got.trusted is False and got.signature() is None
    for c in content["cells"]:
        if c["cell_type"] == "code":
            c["metadata"]["trusted"] = True
    got = check(w, content, notary)
    assert got.trusted is True and got.signature()


def test_empty_and_older_minor_notebooks(notary):
    w = NotebookWriter(notary)
    check(w, as_request(new_notebook()), notary)
    old = as_request(new_notebook(cells=[new_code_cell("x")]))
    old["nbformat_minor"] = 4
    del old["cells"][0]["id"]
    check(w, old, notary)


def test_unusual_notebooks_take_nbformat_path(notary):
    w = NotebookWriter(notary)
    invalid = rich_notebook()
    invalid["cells"].append({"cell_type": "nonsense", "metadata": {}, "source": "", "id": "zz"})
    got = check(w, invalid, notary, expect_fast=False)
    assert "ValidationError" in got.validation_error
    dup = rich_notebook()
    dup["cells"][1]["id"] = dup["cells"][0]["id"]
    got = w.prepare(copy.deepcopy(dup))
    assert got.fast is False  # nbformat repairs duplicate ids (random new id)
    missing = rich_notebook()
    del missing["cells"][2]["id"]
    assert w.prepare(copy.deepcopy(missing)).fast is False
    extra = rich_notebook()
    extra["extra"] = 1
    check(w, extra, notary, expect_fast=False)
    bad_meta = rich_notebook()
    bad_meta["metadata"]["kernelspec"] = "not an object"
    check(w, bad_meta, notary, expect_fast=False)


def test_signature_is_accepted_by_the_notary_on_reading(notary):
    """The stored digest is the one nbformat computes when the file is opened again."""
    w = NotebookWriter(notary)
    content = rich_notebook()
    del content["metadata"]["orig_nbformat"]  # transient: signed but not stored, as above
    for c in content["cells"]:
        # what Lab sends for code cells; "trusted" on other cells would be signed but not
        # stored (nbformat's own behaviour), so such a notebook never verifies
        c["metadata"].pop("trusted", None)
        if c["cell_type"] == "code":
            c["metadata"]["trusted"] = True
    got = w.prepare(copy.deepcopy(content))
    assert got.fast and got.signature() == reference(content, notary)[2]
    notary.store.store_signature(got.signature(), notary.algorithm)
    reread = nbformat.reads(got.data.decode(), as_version=4)
    assert notary.check_signature(reread)


def test_cache_is_bounded(notary):
    w = NotebookWriter(notary, max_bytes=20_000)
    for i in range(50):
        w.prepare(as_request(new_notebook(cells=[new_code_cell(f"x = {i}\n" + "#" * 500)])))
    cached = sum(len(c) for c in w._cells.values())
    assert w._bytes <= 20_000 and 0 < cached < 50


text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    sources=st.lists(text, max_size=6),
    meta=st.dictionaries(
        st.text(min_size=1, max_size=8),
        st.one_of(text, st.integers(), st.floats(allow_nan=False), st.booleans(), st.none()),
        max_size=4,
    ),
    stream=text,
)
def test_random_notebooks_match_nbformat(notary, sources, meta, stream):
    w = NotebookWriter(notary)
    cells = []
    for i, s in enumerate(sources):
        if i % 2:
            cells.append(new_markdown_cell(s, metadata=dict(meta)))
        else:
            cells.append(
                new_code_cell(s, outputs=[new_output("stream", name="stdout", text=stream)])
            )
    nb = new_notebook(cells=cells, metadata={"datadive": dict(meta)})
    check(w, as_request(nb), notary)


def test_values_of_different_types_are_different_cells(notary):
    w = NotebookWriter(notary)
    content = as_request(new_notebook(cells=[new_code_cell("x", metadata={"v": True})]))
    for v in (True, 1, 1.0, "1", None, [1], {"1": 1}):
        content["cells"][0]["metadata"]["v"] = v
        check(w, content, notary)
    # NotebookNode content (programmatic callers) is keyed by its JSON, same bytes
    check(w, nbformat.from_dict(content), notary)


def test_prepare_if_cheap_only_for_mostly_cached_notebooks(notary):
    from datadive_contents import nbwrite

    w = NotebookWriter(notary)
    content = as_request(new_notebook(cells=[new_code_cell(f"x = {i}") for i in range(40)]))
    assert w.prepare_if_cheap(copy.deepcopy(content)) is None, "40 new cells: use a thread"
    full = w.prepare(copy.deepcopy(content))
    for i in range(nbwrite.INLINE_MAX_NEW_CELLS):
        content["cells"][i]["source"] = f"changed {i}"
    cheap = w.prepare_if_cheap(copy.deepcopy(content))
    assert cheap is not None and cheap.data == reference(content, notary)[0]
    assert cheap.data != full.data
    invalid = copy.deepcopy(content)
    invalid["cells"][0]["cell_type"] = "nonsense"
    assert w.prepare_if_cheap(invalid) is None, "nbformat's path is never run inline"
