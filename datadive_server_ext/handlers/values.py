"""``GET datadive/api/values/<contents path>?column=NAME``: the distinct values of one column.

The panel's pickers offer group and level values from this list, so a researcher chooses a value
that is in the data instead of typing one ("Yes" vs "yes"). Answer::

    {"column": "group", "values": ["control", "treatment"], "counts": [12, 14],
     "missing": 1, "truncated": false, "rows": 27}

``values`` are JSON scalars in their natural order (numbers ascending, text alphabetically).
More than ``MAX_VALUES`` distinct values (an identifier, free text, a continuous measure): the
most frequent ones, ``truncated: true``.

The file is read through the server's contents manager (any ContentsManager; its own path checks
keep the request inside the root), so it is authorized like Lab's file access. The file is
untrusted input: its size is bounded (``MAX_BYTES``), parsing runs off the event loop with a time
limit (``TIMEOUT``) and only the asked column is kept.
"""

from __future__ import annotations

import asyncio
import base64
import io
import math
import os
import tempfile
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import ensure_async
from tornado import web

from .base import DatadiveHandler

#: the largest data file this route reads
MAX_BYTES = 64 << 20
#: the most distinct values answered
MAX_VALUES = 500
#: seconds one answer may take to parse
TIMEOUT = 30.0
#: file-name suffix → reader
FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".txt": "csv",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".xls": "excel",
    ".sav": "sav",
    ".zsav": "sav",
    ".parquet": "parquet",
}


class ValuesError(ValueError):
    """The column or file cannot give values (→ 400 / 404 / 415 with the message)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _qualtrics_skip(head: bytes) -> list[int]:
    """Rows 1 and 2 of a Qualtrics export (question texts, ImportIds) are not data."""
    lines = head.decode("utf-8-sig", errors="replace").splitlines()
    if len(lines) >= 3 and '{"ImportId"' in lines[2].replace('""', '"'):
        return [1, 2]
    return []


def read_column(data: bytes, suffix: str, column: str) -> Any:
    """The column ``column`` of a data file's bytes as a pandas Series."""
    import pandas as pd

    fmt = FORMATS.get(suffix)
    if fmt is None:
        raise ValuesError(
            415,
            f"Cannot read values from a {suffix or 'suffix-less'} file; use one of "
            + ", ".join(sorted(FORMATS)),
        )
    try:
        if fmt in ("csv", "tsv"):
            frame = pd.read_csv(
                io.BytesIO(data),
                sep="\t" if fmt == "tsv" else None,
                engine="python" if fmt == "csv" else "c",
                skiprows=_qualtrics_skip(data[:65536]),
                encoding="utf-8-sig",
                encoding_errors="replace",
            )
        elif fmt == "excel":
            frame = pd.read_excel(io.BytesIO(data))
        elif fmt == "parquet":
            frame = pd.read_parquet(io.BytesIO(data))
        else:
            import pyreadstat

            with tempfile.NamedTemporaryFile(suffix=suffix) as f:
                f.write(data)
                f.flush()
                frame, _ = pyreadstat.read_sav(f.name, apply_value_formats=False)
    except ValuesError:
        raise
    except Exception as e:  # noqa: BLE001 - any parser failure is the file's problem
        raise ValuesError(400, f"Could not read the file as {fmt}: {e}") from None
    if column not in frame.columns:
        names = ", ".join(map(str, list(frame.columns)[:30]))
        raise ValuesError(404, f"No column {column!r} in this file; its columns are: {names}")
    return frame[column]


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
        suffix = os.path.splitext(path)[1].lower()
        if suffix not in FORMATS:
            raise web.HTTPError(
                415,
                f"Cannot read values from {path}: use a data file ("
                + ", ".join(sorted(FORMATS))
                + ")",
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

        def work() -> dict[str, Any]:
            return distinct_values(read_column(data, suffix, column))

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
