"""Cell-level comparison of two versions of a notebook, computed from nbdime's diff.

``compare(old_bytes, new_bytes)`` parses both notebooks, asks nbdime (``diff_notebooks``) for
the structural diff and walks it into what a reader needs: for each cell of the merged sequence
whether it was added, removed, changed or left alone; for a changed cell which parts changed,
its source as a line diff, and (when outputs changed) the text outputs and images before and
after. Pure and synchronous: callers bound the input size (:data:`DEFAULT_MAX_BYTES`) and run it
off their event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import nbformat
from nbdime import diff_notebooks, patch

#: default largest notebook (bytes, each version) the server extension compares
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
#: longest text of one output kept in a comparison (characters)
MAX_OUTPUT_TEXT = 20_000
#: image types shown before/after (never SVG: it is a document, not a picture)
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif")
#: changes that alone do not make a cell "changed" (ids are regenerated, counts follow reruns)
MINOR_PARTS = frozenset({"id", "execution_count"})


class NotAComparableNotebook(ValueError):
    """One of the two versions is not a notebook nbformat can read."""


def read_notebook(data: bytes, which: str) -> Any:
    try:
        return nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception as e:  # nbformat raises many kinds (JSON, schema, unicode)
        raise NotAComparableNotebook(
            f"the {which} version is not a readable notebook: {e}"
        ) from None


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def summarize_output(output: Any) -> dict[str, Any]:
    """An output as ``{"type", "text", "image"}``: its text (stream, text/plain, an error's
    name and value) and its first image (``{"mime", "data"}`` base64), either may be None."""
    kind = output.get("output_type", "")
    text: str | None = None
    image: dict[str, Any] | None = None
    if kind == "stream":
        text = _text(output.get("text"))
    elif kind == "error":
        text = f"{output.get('ename', '')}: {output.get('evalue', '')}"
    else:
        data = output.get("data") or {}
        if "text/plain" in data:
            text = _text(data["text/plain"])
        for mime in IMAGE_TYPES:
            if mime in data:
                image = {"mime": mime, "data": _text(data[mime]).replace("\n", "")}
                break
    if text is not None and len(text) > MAX_OUTPUT_TEXT:
        text = text[:MAX_OUTPUT_TEXT] + f"\n… ({len(text) - MAX_OUTPUT_TEXT} more characters)"
    return {"type": kind, "text": text, "image": image}


def _walk(
    base: list[Any],
    ops: list[Any],
    same: Callable[[int], None],
    added: Callable[[Any], None],
    removed: Callable[[int], None],
    patched: Callable[[int, Any], None],
) -> None:
    """Walk an nbdime sequence diff over ``base``: call ``same(i)``, ``added(value)``,
    ``removed(i)`` or ``patched(i, diff)`` in the order of the resulting sequence."""
    i = 0
    for op in ops:
        key = op["key"]
        while i < key:
            same(i)
            i += 1
        if op["op"] == "addrange":
            for value in op["valuelist"]:
                added(value)
        elif op["op"] == "removerange":
            for _ in range(op["length"]):
                removed(i)
                i += 1
        elif op["op"] == "patch":
            patched(i, op["diff"])
            i += 1
        elif op["op"] == "replace":
            removed(i)
            added(op["value"])
            i += 1
    while i < len(base):
        same(i)
        i += 1


def source_lines(old: str, diff: list[Any] | None) -> list[dict[str, Any]]:
    """The source as ``[{"op": " " | "-" | "+", "text"}]`` lines from nbdime's source diff."""
    lines = old.splitlines(True)
    out: list[dict[str, Any]] = []
    if diff is None:
        return [{"op": " ", "text": line} for line in lines]
    _walk(
        lines,
        diff,
        same=lambda i: out.append({"op": " ", "text": lines[i]}),
        added=lambda v: out.append({"op": "+", "text": v}),
        removed=lambda i: out.append({"op": "-", "text": lines[i]}),
        patched=lambda i, d: out.extend(
            [{"op": "-", "text": lines[i]}, {"op": "+", "text": "".join(patch(list(lines[i]), d))}]
        ),
    )
    return out


def _cell_entry(
    status: str, cell: Any, old_index: int | None, new_index: int | None
) -> dict[str, Any]:
    return {
        "status": status,
        "cell_type": cell.get("cell_type", "code"),
        "old_index": old_index,
        "new_index": new_index,
        "parts": [],
    }


def _changed_cell(
    old: Any, new: Any, diff: list[Any], old_index: int, new_index: int
) -> dict[str, Any]:
    parts: dict[str, Any] = {}
    for op in diff:
        parts[op["key"]] = op
    changed = sorted(k for k in parts if k != "id")
    major = [k for k in changed if k not in MINOR_PARTS]
    entry = _cell_entry("changed" if major else "unchanged", new, old_index, new_index)
    entry["parts"] = changed
    if not major:
        entry["first_line"] = _text(new.get("source")).split("\n", 1)[0]
        return entry
    src = parts.get("source")
    if src is not None and src["op"] == "patch":
        entry["source"] = source_lines(_text(old.get("source")), src["diff"])
    elif src is not None:  # replaced as a whole
        entry["source"] = [
            {"op": "-", "text": t} for t in _text(old.get("source")).splitlines(True)
        ] + [{"op": "+", "text": t} for t in _text(new.get("source")).splitlines(True)]
    else:
        entry["source"] = source_lines(_text(new.get("source")), None)
    if "outputs" in parts:
        entry["outputs"] = {
            "before": [summarize_output(o) for o in old.get("outputs", [])],
            "after": [summarize_output(o) for o in new.get("outputs", [])],
        }
    return entry


def _whole_cell(
    status: str, cell: Any, old_index: int | None, new_index: int | None
) -> dict[str, Any]:
    entry = _cell_entry(status, cell, old_index, new_index)
    op = "+" if status == "added" else "-"
    entry["source"] = [{"op": op, "text": t} for t in _text(cell.get("source")).splitlines(True)]
    outputs = [summarize_output(o) for o in cell.get("outputs", [])]
    if outputs:
        entry["outputs"] = (
            {"before": [], "after": outputs}
            if status == "added"
            else {"before": outputs, "after": []}
        )
    return entry


def compare_notebooks(old: Any, new: Any) -> dict[str, Any]:
    """The cell-level comparison of two parsed notebooks (see the module docstring)."""
    diff = diff_notebooks(old, new)
    cell_ops: list[Any] = next((op["diff"] for op in diff if op["key"] == "cells"), [])
    old_cells, new_cells = old.get("cells", []), new.get("cells", [])
    cells: list[dict[str, Any]] = []
    j = 0  # index in the new notebook

    def same(i: int) -> None:
        nonlocal j
        entry = _cell_entry("unchanged", new_cells[j], i, j)
        entry["first_line"] = _text(new_cells[j].get("source")).split("\n", 1)[0]
        cells.append(entry)
        j += 1

    def added(cell: Any) -> None:
        nonlocal j
        cells.append(_whole_cell("added", cell, None, j))
        j += 1

    def removed(i: int) -> None:
        cells.append(_whole_cell("removed", old_cells[i], i, None))

    def patched(i: int, d: list[Any]) -> None:
        nonlocal j
        cells.append(_changed_cell(old_cells[i], new_cells[j], d, i, j))
        j += 1

    _walk(old_cells, cell_ops, same, added, removed, patched)
    counts = {s: 0 for s in ("added", "removed", "changed", "unchanged")}
    for c in cells:
        counts[c["status"]] += 1
    other = sorted(op["key"] for op in diff if op["key"] != "cells")
    return {"cells": cells, "counts": counts, "notebook_parts": other}


def compare(old_bytes: bytes, new_bytes: bytes) -> dict[str, Any]:
    """Compare two notebook files' bytes (raises :class:`NotAComparableNotebook`)."""
    return compare_notebooks(read_notebook(old_bytes, "older"), read_notebook(new_bytes, "newer"))
