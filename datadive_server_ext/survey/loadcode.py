"""The pandas lines that load a survey file as :func:`read_table` does, for a notebook cell that
runs without Datadive: the "Load survey data" template (library/load-survey.yaml) rendered for
the file. When no codebook is stored beside the file, the codebook read from the file's own
metadata is written into the lines instead of being opened from disk."""

from __future__ import annotations

import pprint
from pathlib import Path, PurePosixPath

from .codebook import Codebook

TEMPLATE = "load-survey"
#: the keys of a codebook column the template reads
_USED = ("name", "level", "question", "values", "missing", "missing_ranges", "personal_data")


def _render(file: str, keep_personal: bool, name: str) -> list[str]:
    from datadive_server_ext.templates import builtin_templates, check_values, render_code

    template = builtin_templates()[TEMPLATE]
    values = check_values(template, {"file": file, "keep_personal": keep_personal, "name": name})
    lines = render_code(template, values).splitlines()
    if lines and lines[-1].strip() == f"{name}.head()":  # shows the frame; a cell goes on
        lines.pop()
    return lines


def _inline(lines: list[str], codebook: Codebook) -> list[str]:
    """``lines`` with the block that opens ``<file>.codebook.json`` replaced by the codebook."""
    start = next((i for i, s in enumerate(lines) if s.startswith("_file = ")), None)
    if start is None or lines[start + 1 : start + 2] != ["try:"]:
        raise RuntimeError(f"the {TEMPLATE} template no longer opens its codebook as expected")
    end = next((i for i in range(start, len(lines)) if lines[i].strip() == ") from None"), None)
    if end is None:
        raise RuntimeError(f"the {TEMPLATE} template no longer opens its codebook as expected")
    doc = codebook.to_json()
    used = {
        "source": {"read_options": (doc.get("source") or {}).get("read_options") or {}},
        "columns": [
            {k: c[k] for k in _USED if k in c and c[k] not in ([], "", False, None)}
            for c in doc["columns"]
        ],
    }
    literal = pprint.pformat(used, width=99, sort_dicts=False).splitlines()
    literal[0] = "_codebook = " + literal[0]
    literal = [literal[0]] + ["            " + s for s in literal[1:]]
    note = "# the codebook read from the file (none is saved beside it; the panel's Codebook saves one)"
    return lines[: start + 1] + [note] + literal + lines[end + 1 :]


def read_code(
    path: str | Path,
    shown_path: str | None = None,
    keep_personal: bool = True,
    name: str = "df",
) -> list[str]:
    """Lines that load ``path`` into ``name`` in a clean kernel exactly as ``read_table(path)``
    (labelled, personal data kept by default) does. The lines name the file as ``shown_path``
    (e.g. relative to the notebook; default ``path``); ``path`` is where it is read now."""
    from . import build_codebook, check_suffix, load_codebook

    check_suffix(Path(path))  # a clear message for a .qsf or a file that is not survey data
    stored, _ = load_codebook(path)
    shown = str(PurePosixPath(shown_path)) if shown_path is not None else str(path)
    lines = _render(shown, keep_personal, name)
    if stored is None:
        _, built = build_codebook(path)
        lines = _inline(lines, built)
    return lines
