"""``GET datadive/api/values/<contents path>?column=NAME``: the distinct values of one column.

The panel's pickers offer group and level values from this list, so a researcher chooses a value
that is in the data instead of typing one ("Yes" vs "yes"). Answer::

    {"column": "group", "values": ["control", "treatment"], "counts": [12, 14],
     "missing": 1, "truncated": false, "rows": 27}

``values`` are JSON scalars in their natural order (numbers ascending, text alphabetically).
More than ``MAX_VALUES`` distinct values (an identifier, free text, a continuous measure): the
most frequent ones, ``truncated: true``.

The file is read through the server's contents manager (any ContentsManager; its own path checks
keep the request inside the root), so it is authorized like Lab's file access, and parsed by the
survey importers (``datadive_server_ext.survey``: Qualtrics exports, SPSS ``.sav``, CSV, Excel);
missing codes of the codebook (the stored one beside the file, else the file's own) are not
values. The file is untrusted input: its size is bounded (``MAX_BYTES``), parsing runs off the
event loop with a time limit (``TIMEOUT``) and only the asked column is kept.
"""

from __future__ import annotations

import asyncio
import base64
import math
import posixpath
import tempfile
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import ensure_async
from tornado import web

from ..survey import SUFFIXES, Codebook, CodebookInvalid, SurveyError, build_codebook, codebook_path
from ..survey.labelled import missing_to_na
from .base import DatadiveHandler

#: the largest data file this route reads
MAX_BYTES = 64 << 20
#: the most distinct values answered
MAX_VALUES = 500
#: seconds one answer may take to parse
TIMEOUT = 30.0


class ValuesError(ValueError):
    """The column or file cannot give values (→ 400 / 404 with the message)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def read_column(data: bytes, name: str, column: str, stored: str | None = None) -> Any:
    """The column ``column`` of a data file's bytes (file name ``name``) as a pandas Series, with
    the codebook's missing codes as NA (``stored``: the text of the codebook saved beside it)."""
    try:
        with tempfile.TemporaryDirectory(prefix="datadive-values-") as tmp:
            (Path(tmp) / name).write_bytes(data)
            frame, codebook = build_codebook(Path(tmp) / name)
    except SurveyError as e:
        raise ValuesError(400, f"Could not read the file: {e}") from None
    except Exception as e:  # noqa: BLE001 - any parser failure is the file's problem
        raise ValuesError(400, f"Could not read the file: {e}") from None
    if stored is not None:
        try:
            codebook = Codebook.loads(stored)
        except CodebookInvalid:
            pass  # the file's own codebook; the codebook route reports the broken one
    if column not in frame.columns:
        names = ", ".join(map(str, list(frame.columns)[:30]))
        raise ValuesError(404, f"No column {column!r} in this file; its columns are: {names}")
    series = frame[column]
    described = codebook.column(column)
    return missing_to_na(series, described) if described is not None else series


def _plain(value: Any) -> Any:
    """A JSON scalar for a pandas / numpy value."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (int, float, str, bool)):
        return value
    return str(value)


def distinct_values(series: Any, limit: int = MAX_VALUES) -> dict[str, Any]:
    """Distinct non-missing values with their counts, natural order, most frequent ``limit``."""
    counts = series.dropna().value_counts(sort=True)
    truncated = len(counts) > limit
    counts = counts.iloc[:limit]
    pairs = [(_plain(v), int(n)) for v, n in counts.items()]
    pairs = [(v, n) for v, n in pairs if not (isinstance(v, float) and math.isnan(v))]
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v, _ in pairs)
    pairs.sort(key=(lambda p: p[0]) if numeric else (lambda p: str(p[0]).casefold()))
    return {
        "values": [v for v, _ in pairs],
        "counts": [n for _, n in pairs],
        "missing": int(series.isna().sum()),
        "rows": len(series),
        "truncated": truncated,
    }


class ValuesHandler(DatadiveHandler):
    """The distinct values of a column of a data file (for group / level pickers)."""

    @authorized
    async def get(self, path: str) -> None:
        column = self.get_query_argument("column", "")
        if not column:
            raise web.HTTPError(400, "Say which column: ?column=NAME")
        if any(seg in ("", ".", "..") for seg in path.split("/")):
            raise web.HTTPError(400, f"{path!r} is not a file path inside your files")
        if not path.lower().endswith(SUFFIXES):
            raise web.HTTPError(
                415, f"Cannot read values from {path}: use a data file ({', '.join(SUFFIXES)})"
            )
        cm = self.contents_manager
        model = await ensure_async(cm.get(path, content=False, type="file"))
        size = model.get("size")
        if size is not None and size > MAX_BYTES:
            raise web.HTTPError(
                413,
                f"{path} is {size / 2**20:.0f} MB; values are read from files up to "
                f"{MAX_BYTES >> 20} MB. Pick the values in a notebook instead.",
            )
        model = await ensure_async(cm.get(path, content=True, type="file", format="base64"))
        data = base64.b64decode(model["content"])
        if len(data) > MAX_BYTES:
            raise web.HTTPError(413, f"{path} is larger than {MAX_BYTES >> 20} MB")

        stored = None
        if await ensure_async(cm.file_exists(codebook_path(path))):
            cb = await ensure_async(
                cm.get(codebook_path(path), content=True, type="file", format="text")
            )
            stored = cb["content"]
        name = posixpath.basename(path)

        def work() -> dict[str, Any]:
            return distinct_values(read_column(data, name, column, stored))

        try:
            answer = await asyncio.wait_for(asyncio.to_thread(work), TIMEOUT)
        except ValuesError as e:
            raise web.HTTPError(e.status, str(e)) from None
        except TimeoutError:
            raise web.HTTPError(
                400, f"Reading {path} took longer than {TIMEOUT:.0f} s; is it a data file?"
            ) from None
        self.finish({"column": column, **answer})


routes = [(r"api/values/(?P<path>.+)", ValuesHandler)]
