"""Preview the first rows of a tabular file in an ObjectStore with ranged reads only.

``await preview(store, "data/survey.csv", rows=100)`` → a JSON-ready dict::

    {"format": "csv", "columns": [{"name": "age", "type": "integer"}, ...],
     "rows": [[34, "yes"], ...], "truncated": True, "total_rows": None,
     "total_rows_estimate": 1480000, "bytes_read": 65536, "requests": 1, "size": 104857600}

``total_rows`` is exact when it is known (Parquet and Excel metadata, or a file read whole);
otherwise ``total_rows_estimate`` is the size over the mean length of the records read.
``summary=True`` adds per-column summaries (:mod:`.summary`) of the first few MB.

Never downloads a whole large file: CSV/TSV/JSON lines read growing ranges from the start until
the header and ``rows`` complete records are in; a JSON array is decoded element by element from
the first bytes; Parquet and Excel (xlsx) are read through a seekable file object that turns each
read into a ranged GET (Parquet: footer, then the first pages of the first row group; xlsx: the
zip central directory at the end, then the start of the first sheet).

Files are untrusted input, so every preview is bounded: bytes read (``max_bytes``), bytes an
xlsx may inflate to (``max_inflated``: the zip's central directory is checked before parsing),
JSON nesting (:data:`MAX_JSON_DEPTH`) and time (``timeout``). All parsing runs in a worker
thread; only the ranged reads run on the event loop.

Errors: :class:`UnsupportedFormat` (not a previewable type; the message lists the supported ones),
:class:`PreviewFailed` (the file is not what its name says, or its first rows are too large, too
deep, or take too long).
"""

from __future__ import annotations

import asyncio
import codecs
import concurrent.futures
import datetime as dt
import decimal
import functools
import io
import json
import math
import re
import time
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from .stores.base import NotFound, ObjectInfo, ObjectStore
from .summary import SUMMARY_BYTES, SUMMARY_ROWS, summarise

#: file-name suffix → format name
SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
SUPPORTED = sorted(SUFFIXES)
DEFAULT_ROWS = 100
MAX_ROWS = 1000
#: never read more than this many bytes for one preview
DEFAULT_MAX_BYTES = 32 << 20
FIRST_RANGE = 64 << 10
BLOCK = 64 << 10
#: an xlsx's parts that are parsed whole (shared strings, styles, ...) may inflate to at most this
DEFAULT_MAX_INFLATED = 16 << 20
#: a zip member larger than this that inflates more than MAX_ZIP_RATIO times is a zip bomb
MAX_ZIP_RATIO = 200
#: deepest nesting of arrays/objects a previewed JSON record may have
MAX_JSON_DEPTH = 64
#: seconds one preview may take
DEFAULT_TIMEOUT = 30.0
#: previews parsed at once; more wait their turn. Parsers get threads of their own: they wait
#: for ranged reads that the stores do in the default executor, so sharing it could starve it
PARSER_THREADS = 4
_PARSERS = concurrent.futures.ThreadPoolExecutor(PARSER_THREADS, thread_name_prefix="preview")


class UnsupportedFormat(ValueError):
    """The file's type cannot be previewed (→ HTTP 415)."""


class PreviewFailed(ValueError):
    """The file cannot be previewed as its type says (→ HTTP 422)."""


def format_for(path: str) -> str:
    """Format name for ``path`` by suffix, or raise UnsupportedFormat listing the supported ones."""
    name = path.rsplit("/", 1)[-1].lower()
    dot = name.rfind(".")
    fmt = SUFFIXES.get(name[dot:]) if dot > 0 else None
    if fmt is None:
        raise UnsupportedFormat(
            f"cannot preview {path!r}: only tabular files can be previewed "
            f"({', '.join(SUPPORTED)}); download the file instead"
        )
    return fmt


# ---------------------------------------------------------------- ranged reading


class RangeReader:
    """Ranged reads of one object, counting bytes and requests."""

    def __init__(
        self,
        store: ObjectStore,
        key: str,
        info: ObjectInfo,
        max_bytes: int,
        first: bytes | None = None,
    ) -> None:
        self.store = store
        self.key = key
        self.info = info
        self.size = info.size
        self.version_id = info.version_id
        self.max_bytes = max_bytes
        self.first = first or b""  # bytes [0, len(first)) already read (None: no GET yet)
        self.bytes_read = len(self.first)
        self.requests = 0 if first is None else 1  # an empty file's first GET counts too

    async def read(self, start: int, end: int, *, clip: bool = True) -> bytes:
        """Bytes ``[start, end)`` clipped to the object (one GET); with ``clip`` also to what is
        left of the byte budget (PreviewFailed once nothing is left)."""
        end = min(end, self.size)
        if start >= end:
            return b""
        if start < len(self.first):
            known = self.first[start:end]
            return known + await self.read(start + len(known), end, clip=clip)
        left = self.max_bytes - self.bytes_read
        if clip and left > 0:
            end = min(end, start + left)
        if end - start > left:
            raise PreviewFailed(
                f"the first rows of {self.key!r} need more than {self.max_bytes >> 20} MB; "
                "ask for fewer rows or download the file"
            )
        data, _ = await self.store.get(self.key, version_id=self.version_id, start=start, end=end)
        self.requests += 1
        self.bytes_read += len(data)
        return data


class SyncReader:
    """The blocking face of a :class:`RangeReader` for parsers in a worker thread: each read runs
    on the event loop ``loop``; past ``deadline`` (``time.monotonic()``) reads fail."""

    def __init__(
        self, reader: RangeReader, loop: asyncio.AbstractEventLoop, deadline: float, timeout: float
    ) -> None:
        self.reader = reader
        self.loop = loop
        self.deadline = deadline
        self.timeout = timeout

    @property
    def size(self) -> int:
        return self.reader.size

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise PreviewFailed(
                f"previewing it took longer than {self.timeout:g} s (the limit); download the "
                "file, or save its first rows as a smaller file"
            )

    def read(self, start: int, end: int, *, clip: bool = True) -> bytes:
        self.check_time()
        fut = asyncio.run_coroutine_threadsafe(self.reader.read(start, end, clip=clip), self.loop)
        try:
            return fut.result(timeout=max(0.0, self.deadline - time.monotonic()))
        except concurrent.futures.TimeoutError:
            fut.cancel()
            self.check_time()
            raise


class SyncRangedFile(io.RawIOBase):
    """A read-only seekable file (for pyarrow / zipfile in a worker thread) whose reads become
    ranged GETs on the event loop ``loop``; reads are aligned to 64 KiB blocks and cached."""

    def __init__(self, reader: SyncReader) -> None:
        super().__init__()
        self.reader = reader
        self.pos = 0
        self.blocks: OrderedDict[int, bytes] = OrderedDict()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.pos, 2: self.reader.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def _fetch(self, first: int, last: int) -> None:
        """Fetch blocks first..last (inclusive) that are not cached, in one GET per run."""
        b = first
        while b <= last:
            if b in self.blocks:
                self.blocks.move_to_end(b)
                b += 1
                continue
            run_end = b
            while run_end + 1 <= last and run_end + 1 not in self.blocks:
                run_end += 1
            data = self.reader.read(b * BLOCK, (run_end + 1) * BLOCK, clip=False)
            for i in range(b, run_end + 1):
                self.blocks[i] = data[(i - b) * BLOCK : (i - b + 1) * BLOCK]
            while len(self.blocks) > 256:  # at most 16 MiB cached
                self.blocks.popitem(last=False)
            b = run_end + 1

    def read(self, size: int | None = -1) -> bytes:
        self.reader.check_time()  # also while decompressing cached blocks
        end = (
            self.reader.size if size is None or size < 0 else min(self.pos + size, self.reader.size)
        )
        if self.pos >= end:
            return b""
        first, last = self.pos // BLOCK, (end - 1) // BLOCK
        self._fetch(first, last)
        out = b"".join(self.blocks[i] for i in range(first, last + 1))
        out = out[self.pos - first * BLOCK : end - first * BLOCK]
        self.pos += len(out)
        return out

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        return self.read(-1)


# ---------------------------------------------------------------- values and types


def _plain(value: Any) -> Any:
    """A JSON-ready version of one cell value."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        try:
            value = value.item()
        except (TypeError, ValueError):
            pass
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, decimal.Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value[:64]).hex() + ("…" if len(value) > 64 else "")
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    try:
        import pandas as pd

        if value is pd.NaT or value is pd.NA:
            return None
    except ImportError:  # pragma: no cover
        pass
    return str(value)


def _kind(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, (float, decimal.Decimal)):
        return "number"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.time):
        return "time"
    if isinstance(value, (dict, list, tuple)):
        return "object"
    return "string"


def infer_type(values: Iterable[Any]) -> str:
    """Column type from Python values: integer, number, boolean, date, datetime, time, string,
    object, mixed, or empty (only missing values)."""
    kinds = {k for k in map(_kind, values) if k is not None}
    if not kinds:
        return "empty"
    if len(kinds) == 1:
        return kinds.pop()
    if kinds <= {"integer", "number"}:
        return "number"
    if kinds <= {"date", "datetime"}:
        return "datetime"
    return "mixed"


def _table(names: list[str], rows: list[list[Any]]) -> tuple[list[dict[str, Any]], list[list[Any]]]:
    """Columns with inferred types and JSON-ready rows from raw Python rows."""
    columns = []
    for i, name in enumerate(names):
        values = [r[i] if i < len(r) else None for r in rows]
        columns.append({"name": name, "type": _date_or(infer_type(values), values)})
    plain = [[_plain(r[i]) if i < len(r) else None for i in range(len(names))] for r in rows]
    return columns, plain


def _unique_names(raw: Iterable[Any]) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    for i, n in enumerate(raw):
        name = "" if n is None else str(n)
        name = name or f"column_{i + 1}"
        base, k = name, 1
        while name in seen:
            k += 1
            name = f"{base}_{k}"
        seen.add(name)
        names.append(name)
    return names


# ---------------------------------------------------------------- delimited text

_QUOTE_OR_NL = re.compile(rb'["\n]')


def record_ends(data: bytes, limit: int) -> list[int]:
    """Offsets just after each of the first ``limit`` record-ending newlines of CSV ``data``
    (newlines inside double-quoted fields do not end a record)."""
    ends: list[int] = []
    if b'"' not in data:
        pos = 0
        while len(ends) < limit:
            nl = data.find(b"\n", pos)
            if nl < 0:
                break
            ends.append(nl + 1)
            pos = nl + 1
        return ends
    quoted = False
    for m in _QUOTE_OR_NL.finditer(data):
        if m.group() == b'"':
            quoted = not quoted
        elif not quoted:
            ends.append(m.end())
            if len(ends) >= limit:
                break
    return ends


def _read_records(reader: SyncReader, wanted: int) -> tuple[bytes, bool]:
    """Read growing ranges from the start until ``wanted`` complete records (or the end);
    return the bytes of those records and whether the file goes on after them."""
    buf = b""
    step = FIRST_RANGE
    while True:
        if len(buf) < reader.size:
            buf += reader.read(len(buf), len(buf) + step)
            step *= 4
        at_end = len(buf) >= reader.size
        ends = record_ends(buf, wanted)
        if len(ends) >= wanted:
            cut = ends[wanted - 1]
            rest = buf[cut:]
            more = bool(rest.strip()) or (not at_end)
            return buf[:cut], more
        if at_end:
            return buf, False


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if b"\x00" in data[:8192]:
        raise PreviewFailed("the file looks binary, not delimited text; download it instead")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _sniff_delimiter(header: str, default: str) -> str:
    if default == "\t":
        return "\t"
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts.get(default, 0) else default


def _preview_delimited(reader: SyncReader, rows: int, fmt: str) -> dict[str, Any]:
    import pandas as pd

    data, more = _read_records(reader, rows + 1)
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    sep = _sniff_delimiter(first_line, "\t" if fmt == "tsv" else ",")
    if not text.strip():
        return {"columns": [], "rows": [], "truncated": False, "delimiter": sep, "total_rows": 0}
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, nrows=rows, dtype_backend="numpy_nullable")
    except (pd.errors.ParserError, ValueError) as e:
        raise PreviewFailed(f"cannot read the first rows as {fmt.upper()}: {e}") from None
    columns, out_rows = _frame_table(df)
    out: dict[str, Any] = {"columns": columns, "rows": out_rows, "truncated": more}
    out["delimiter"] = sep
    if not more:
        out["total_rows"] = len(df)  # the whole file was read: its exact row count
    else:
        out["total_rows_estimate"] = _estimate_rows(data, reader.size, len(df))
    return out


def _estimate_rows(data: bytes, size: int, records: int) -> int | None:
    """Rows of a delimited file of ``size`` bytes from its first ``data`` bytes (header +
    ``records`` records): the size after the header over the mean record length."""
    header_end = record_ends(data, 1)
    if not records or not header_end:
        return None
    body = len(data) - header_end[0]
    if body <= 0:
        return None
    return max(records, round((size - header_end[0]) * records / body))


def _frame_table(df: Any) -> tuple[list[dict[str, Any]], list[list[Any]]]:
    """Columns (pandas dtypes → our types; ISO date strings → datetime) and JSON-ready rows."""
    import pandas as pd
    from pandas.api import types as pt

    names = _unique_names(df.columns)
    columns: list[dict[str, Any]] = []
    cols: list[list[Any]] = []
    for name, col in zip(names, (df[c] for c in df.columns), strict=True):
        col = col.iloc[:, 0] if isinstance(col, pd.DataFrame) else col
        values = [
            None if v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)) else v
            for v in col.tolist()
        ]
        if col.isna().all():
            kind = "empty"
        elif pt.is_bool_dtype(col.dtype):
            kind = "boolean"
        elif pt.is_integer_dtype(col.dtype):
            kind = "integer"
        elif pt.is_float_dtype(col.dtype):
            nonnull = [v for v in values if v is not None]
            kind = "integer" if all(float(v).is_integer() for v in nonnull) else "number"
            if kind == "integer":
                values = [None if v is None else int(v) for v in values]
        elif pt.is_datetime64_any_dtype(col.dtype):
            kind = "datetime"
        else:
            kind = _date_or(infer_type(values), values)
        columns.append({"name": name, "type": kind})
        cols.append([_plain(v) for v in values])
    out_rows = [list(r) for r in zip(*cols, strict=True)] if cols else []
    return columns, out_rows


_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)


def _date_or(kind: str, values: list[Any]) -> str:
    """``kind``, or date/datetime for a string column of ISO 8601 dates/timestamps."""
    if kind == "string" and _looks_like_dates(values):
        return "date" if all(len(str(v)) == 10 for v in values if v is not None) else "datetime"
    return kind


def _looks_like_dates(values: list[Any]) -> bool:
    nonnull = [v for v in values if v is not None]
    return bool(nonnull) and all(isinstance(v, str) and _ISO_DATE.match(v) for v in nonnull)


# ---------------------------------------------------------------- JSON


def _records_table(records: list[Any]) -> tuple[list[dict[str, Any]], list[list[Any]]]:
    if not records:  # none read, no names known (not a column called "value")
        return [], []
    if all(isinstance(r, dict) for r in records):
        names: list[str] = []
        seen: set[str] = set()
        for r in records:
            for k in r:
                if k not in seen:
                    seen.add(k)
                    names.append(k)
        rows = [[r.get(n) for n in names] for r in records]
        return _table([str(n) for n in names], rows)
    if all(isinstance(r, list) for r in records):
        width = max(len(r) for r in records)
        return _table([f"column_{i + 1}" for i in range(width)], records)
    return _table(["value"], [[r] for r in records])


def _json_value(text: str | bytes) -> Any:
    """``json.loads`` with nesting bounded by MAX_JSON_DEPTH (PreviewFailed otherwise)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise PreviewFailed(_too_deep()) from None
    _check_depth(value)
    return value


def _too_deep() -> str:
    return (
        f"its JSON is nested more than {MAX_JSON_DEPTH} levels deep, which a table preview cannot "
        "show; download the file instead"
    )


def _check_depth(value: Any) -> None:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise PreviewFailed(_too_deep())
        items = node.values() if isinstance(node, dict) else node
        stack.extend((v, depth + 1) for v in items if isinstance(v, dict | list))


def _preview_jsonl(reader: SyncReader, rows: int) -> dict[str, Any]:
    # JSON strings cannot hold raw newlines, so every newline ends a record (blank lines skipped)
    records: list[Any] = []
    buf = b""
    step = FIRST_RANGE
    pos = 0
    while True:
        if len(buf) < reader.size:
            buf += reader.read(len(buf), len(buf) + step)
            step *= 4
        at_end = len(buf) >= reader.size
        while len(records) < rows:
            nl = buf.find(b"\n", pos)
            if nl < 0 and not at_end:
                break
            line = buf[pos:] if nl < 0 else buf[pos:nl]
            pos = len(buf) if nl < 0 else nl + 1
            if line.strip():
                try:
                    records.append(_json_value(line))
                except ValueError as e:
                    if isinstance(e, PreviewFailed):
                        raise
                    raise PreviewFailed(
                        f"line {len(records) + 1} is not valid JSON ({e}); "
                        "JSON lines files hold one JSON value per line"
                    ) from None
            if nl < 0:
                break
        if len(records) >= rows or at_end:
            more = bool(buf[pos:].strip()) or not at_end
            columns, out = _records_table(records)
            result: dict[str, Any] = {"columns": columns, "rows": out, "truncated": more}
            if not more:
                result["total_rows"] = len(records)
            elif records and pos:
                result["total_rows_estimate"] = max(
                    len(records), round(reader.size * len(records) / pos)
                )
            return result


_WS = " \t\r\n"


def _preview_json(reader: SyncReader, rows: int) -> dict[str, Any]:
    decoder = json.JSONDecoder()
    text = ""
    inc = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    raw = bytearray()
    step = FIRST_RANGE

    def more_text() -> bool:
        nonlocal text, step
        if len(raw) >= reader.size:
            return False
        chunk = reader.read(len(raw), len(raw) + step)
        raw.extend(chunk)
        step *= 4
        text += inc.decode(chunk, final=len(raw) >= reader.size)
        return True

    more_text()
    i = 0
    while i < len(text) and text[i] in _WS:
        i += 1
    if i >= len(text):
        return {"columns": [], "rows": [], "truncated": False}
    if text[i] == "{":
        # JSON lines with a .json name, or one object (read whole, if small enough)
        nl = text.find("\n", i)
        if nl > 0:
            try:
                _json_value(text[i:nl])
                rest = text[nl:].lstrip(_WS)
                if not rest or rest[0] in "{[":
                    reader.reader.first = bytes(raw)  # JSON lines after all: no second request
                    return _preview_jsonl(reader, rows)
            except PreviewFailed:
                raise
            except ValueError:
                pass
        while more_text():
            pass
        try:
            obj = _json_value(text)
        except PreviewFailed:
            raise
        except ValueError as e:
            raise PreviewFailed(f"not valid JSON: {e}") from None
        found = _records_from_object(obj)
        columns, out = _records_table(found[:rows])
        return {
            "columns": columns,
            "rows": out,
            "truncated": len(found) > rows,
            "total_rows": len(found),
        }
    if text[i] != "[":
        raise PreviewFailed(
            "JSON previews need an array of records ([{...}, ...]) or JSON lines; "
            "this file starts with something else"
        )
    i += 1
    records: list[Any] = []
    ended = False
    while len(records) < rows:
        while i < len(text) and text[i] in _WS + ",":
            i += 1
        if i >= len(text):
            if not more_text():
                raise PreviewFailed("the JSON array is not closed (file truncated?)")
            continue
        if text[i] == "]":
            ended = True
            break
        try:
            value, j = decoder.raw_decode(text, i)
            _check_depth(value)
        except RecursionError:
            raise PreviewFailed(_too_deep()) from None
        except PreviewFailed:
            raise
        except ValueError as e:
            if more_text():
                continue
            raise PreviewFailed(f"not valid JSON: {e}") from None
        if j >= len(text) and isinstance(value, (int, float)) and more_text():
            continue  # a number may go on in the next bytes
        records.append(value)
        i = j
    if not ended:
        while True:
            while i < len(text) and text[i] in _WS + ",":
                i += 1
            if i < len(text) or not more_text():
                break
        ended = i < len(text) and text[i] == "]"
    columns, out = _records_table(records)
    result: dict[str, Any] = {"columns": columns, "rows": out, "truncated": not ended}
    if ended:
        result["total_rows"] = len(records)
    return result


def _records_from_object(obj: Any) -> list[Any]:
    if isinstance(obj, dict):
        lists = [v for v in obj.values() if isinstance(v, list)]
        if len(lists) == 1 and len(obj) >= 1 and all(isinstance(r, dict) for r in lists[0]):
            return lists[0]  # {"data": [{...}, ...], ...}
        if obj and all(isinstance(v, list) for v in obj.values()):  # columns
            n = max(len(v) for v in obj.values())
            return [{k: (v[j] if j < len(v) else None) for k, v in obj.items()} for j in range(n)]
        if obj and all(isinstance(v, dict) for v in obj.values()):  # pandas orient="columns"
            index = list(dict.fromkeys(k for v in obj.values() for k in v))
            return [{k: v.get(j) for k, v in obj.items()} for j in index]
        return [obj]
    return [obj]


# ---------------------------------------------------------------- Parquet and Excel


def _arrow_type(t: Any) -> str:
    import pyarrow as pa

    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number"
    if pa.types.is_timestamp(t):
        return "datetime"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_time(t):
        return "time"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t):
        return "string"
    if pa.types.is_nested(t):
        return "object"
    return str(t)


def _parquet_sync(f: SyncRangedFile, rows: int) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(pa.PythonFile(f, mode="r"), pre_buffer=False, buffer_size=BLOCK)
    except (pa.ArrowInvalid, OSError) as e:
        raise PreviewFailed(f"not a readable Parquet file: {e}") from None
    schema = pf.schema_arrow
    columns = [{"name": n, "type": _arrow_type(schema.field(n).type)} for n in schema.names]
    total = pf.metadata.num_rows
    out: list[list[Any]] = []
    if pf.metadata.num_row_groups and rows:
        batch = next(pf.iter_batches(batch_size=rows, use_threads=False), None)
        if batch is not None:
            cols = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
            out = [[_plain(v) for v in r] for r in zip(*cols, strict=True)][:rows]
    return {
        "columns": columns,
        "rows": out,
        "truncated": total > len(out),
        "total_rows": total,
    }


def _check_zip(f: SyncRangedFile, max_inflated: int) -> None:
    """Refuse a workbook that would inflate beyond the limits, from its zip central directory
    (the declared sizes bound what zipfile will inflate: reads stop there, and a CRC check
    catches a member that claims less than it holds)."""
    import zipfile

    try:
        with zipfile.ZipFile(f) as z:
            members = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise PreviewFailed(f"not a readable Excel (xlsx) file: {e}") from None
    whole = 0  # parts openpyxl parses whole: everything but worksheets and media
    for m in members:
        if m.file_size > (1 << 20) and m.file_size > MAX_ZIP_RATIO * max(m.compress_size, 1):
            raise PreviewFailed(
                f"its part {m.filename} inflates from {m.compress_size} to {m.file_size} bytes "
                f"(more than {MAX_ZIP_RATIO} times, the limit for a preview): it looks like a zip "
                "bomb; download the file only if you trust it"
            )
        if not m.filename.startswith(("xl/worksheets/", "xl/media/")):
            whole += m.file_size
    if whole > max_inflated:
        raise PreviewFailed(
            f"its shared strings and other workbook parts inflate to {whole >> 20} MB, more than "
            f"the preview's limit of {max_inflated >> 20} MB; download the file or save it as CSV"
        )


def _xlsx_sync(
    f: SyncRangedFile, rows: int, sheet: str | None, max_inflated: int
) -> dict[str, Any]:
    import zipfile

    import openpyxl

    _check_zip(f, max_inflated)
    f.seek(0)
    try:
        wb = openpyxl.load_workbook(f, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raise PreviewFailed(f"not a readable Excel (xlsx) file: {e}") from None
    try:
        names = wb.sheetnames
        if sheet is not None and sheet not in names:
            raise PreviewFailed(f"no sheet named {sheet!r}; the sheets are: {', '.join(names)}")
        ws = wb[sheet] if sheet is not None else wb.worksheets[0]
        raw: list[list[Any]] = []  # the header and up to rows + 1 rows below it
        blank = 0  # empty rows above the header
        for r in ws.iter_rows(values_only=True):
            if not raw and all(v is None for v in r):
                blank += 1
                continue
            raw.append(list(r))
            if len(raw) > rows + 1:
                break
        header = raw[0] if raw else []
        body = raw[1 : rows + 1]
        width = len(header)
        while (
            width
            and header[width - 1] is None
            and all((len(r) < width or r[width - 1] is None) for r in body)
        ):
            width -= 1
        columns, out = _table(_unique_names(header[:width]), [r[:width] for r in body])
        total = max(0, ws.max_row - blank - 1) if ws.max_row else None
        return {
            "columns": columns,
            "rows": out,
            "truncated": len(raw) > rows + 1,
            "total_rows": total,
            "sheet": ws.title,
            "sheets": names,
        }
    finally:
        wb.close()


# ---------------------------------------------------------------- column summaries


def _cut_records(data: bytes, at_end: bool) -> bytes:
    """``data`` up to its last complete record (all of it at the end of the file)."""
    if at_end:
        return data
    if b'"' not in data:
        return data[: data.rfind(b"\n") + 1]
    ends = record_ends(data, len(data))
    return data[: ends[-1]] if ends else b""


def _summary_delimited(reader: SyncReader, sep: str, budget: int) -> dict[str, Any]:
    """Summaries from the first ``budget`` bytes of a CSV / TSV (whole records only)."""
    import pandas as pd

    data = reader.read(0, budget)
    complete = len(data) >= reader.size
    data = _cut_records(data, complete)
    text = _decode(data)
    if not text.strip():
        return {"rows": 0, "bytes": len(data), "complete": complete, "columns": []}
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype_backend="numpy_nullable")
    except (pd.errors.ParserError, ValueError) as e:
        raise PreviewFailed(
            f"cannot read the first {len(data) >> 10} KB to summarise: {e}"
        ) from None
    df.columns = _unique_names(df.columns)
    return {"rows": len(df), "bytes": len(data), "complete": complete, "columns": summarise(df)}


def _summary_jsonl(reader: SyncReader, budget: int) -> dict[str, Any]:
    """Summaries from the first ``budget`` bytes of a JSON lines file."""
    import pandas as pd

    data = reader.read(0, budget)
    complete = len(data) >= reader.size
    if not complete:
        data = data[: data.rfind(b"\n") + 1]
    records = []
    for line in data.splitlines():
        if line.strip():
            try:
                records.append(_json_value(line))
            except PreviewFailed:
                raise
            except ValueError as e:
                raise PreviewFailed(f"a line is not valid JSON ({e})") from None
    names, rows = _records_table(records)
    df = pd.DataFrame(rows, columns=[c["name"] for c in names])
    return {"rows": len(df), "bytes": len(data), "complete": complete, "columns": summarise(df)}


def _summary_of_rows(result: dict[str, Any], complete: bool) -> dict[str, Any]:
    """Summaries of the rows a parser returned (Parquet, Excel, JSON arrays)."""
    import pandas as pd

    names = [c["name"] for c in result["columns"]]
    df = pd.DataFrame(result["rows"], columns=names)
    return {"rows": len(df), "bytes": None, "complete": complete, "columns": summarise(df)}


# ---------------------------------------------------------------- entry point


def warm_up() -> None:
    """Import the parsers now (about a second), so that the first preview is as fast as the rest."""
    import openpyxl  # noqa: F401
    import pandas
    import pyarrow.parquet  # noqa: F401

    _frame_table(pandas.read_csv(io.StringIO("a,b\n1,x\n"), dtype_backend="numpy_nullable"))


async def _parse(fn: Any, *args: Any) -> Any:
    """Run parser ``fn(*args)`` on a preview thread."""
    return await asyncio.get_running_loop().run_in_executor(_PARSERS, functools.partial(fn, *args))


async def preview(
    store: ObjectStore,
    key: str,
    *,
    rows: int = DEFAULT_ROWS,
    version_id: str | None = None,
    sheet: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    info: ObjectInfo | None = None,
    max_inflated: int = DEFAULT_MAX_INFLATED,
    timeout: float = DEFAULT_TIMEOUT,
    summary: bool = False,
    summary_bytes: int = SUMMARY_BYTES,
) -> dict[str, Any]:
    """Preview the first ``rows`` rows of ``key`` (see the module docstring for the result).

    With ``summary``, the result also has ``"summary"``: per-column summaries
    (:mod:`.summary`) of the first ``summary_bytes`` of a CSV / TSV / JSON lines file, or of the
    first SUMMARY_ROWS rows of the other formats, with how many rows they cover and whether that
    was the whole file (then ``total_rows`` is exact).

    Parsing runs in a worker thread, bounded by ``max_bytes`` read, ``max_inflated`` bytes
    inflated (xlsx), MAX_JSON_DEPTH and ``timeout`` seconds.
    Raises UnsupportedFormat, PreviewFailed, or the store's NotFound / StoreUnavailable.
    """
    deadline = time.monotonic() + timeout
    fmt = format_for(key)
    if not isinstance(rows, int) or rows < 0 or rows > MAX_ROWS:
        raise PreviewFailed(f"rows must be a whole number from 0 to {MAX_ROWS}")
    first = None
    if info is None and fmt in ("csv", "tsv", "jsonl", "json"):
        # these read from the start: the first ranged GET also tells the size (no HEAD)
        first, info = await store.get(key, version_id=version_id, start=0, end=FIRST_RANGE)
    if info is None:
        info = await store.head(key, version_id=version_id)
        if info is None:
            raise NotFound(f"{key!r} does not exist")
    reader = RangeReader(store, key, info, max_bytes, first)
    sync = SyncReader(reader, asyncio.get_running_loop(), deadline, timeout)
    result: dict[str, Any]
    # formats without a byte-bounded summary read more rows for it, then return ``rows``
    parse_rows = max(rows, SUMMARY_ROWS) if summary and fmt in ("json", "parquet", "xlsx") else rows
    budget = max(0, min(summary_bytes, max_bytes))
    if fmt in ("csv", "tsv"):
        result = await _parse(_preview_delimited, sync, rows, fmt)
        if summary:
            result["summary"] = await _parse(_summary_delimited, sync, result["delimiter"], budget)
    elif fmt == "jsonl":
        result = await _parse(_preview_jsonl, sync, rows)
        if summary:
            result["summary"] = await _parse(_summary_jsonl, sync, budget)
    elif fmt == "json":
        result = await _parse(_preview_json, sync, parse_rows)
    else:
        if info.size == 0:
            raise PreviewFailed(f"{key!r} is empty, not a {fmt} file")
        f = SyncRangedFile(sync)
        if fmt == "parquet":
            result = await _parse(_parquet_sync, f, parse_rows)
        else:
            result = await _parse(_xlsx_sync, f, parse_rows, sheet, max_inflated)
    if summary and "summary" not in result:
        result["summary"] = await _parse(_summary_of_rows, result, not result["truncated"])
        if len(result["rows"]) > rows:
            result["rows"] = result["rows"][:rows]
            result["truncated"] = True
    if summary and result["summary"]["complete"] and result.get("total_rows") is None:
        result["total_rows"] = result["summary"]["rows"]
    if result.get("total_rows") is not None:
        result.pop("total_rows_estimate", None)
    elif summary and result["summary"].get("bytes") and result["summary"]["rows"]:
        # a better estimate from the summary's larger sample
        s = result["summary"]
        result["total_rows_estimate"] = max(s["rows"], round(info.size * s["rows"] / s["bytes"]))
    result.setdefault("total_rows", None)
    return {
        "format": fmt,
        **result,
        "bytes_read": reader.bytes_read,
        "requests": reader.requests,
        "size": info.size,
        "etag": info.etag,
        "version_id": info.version_id,
    }
