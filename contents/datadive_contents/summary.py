"""Per-column summaries of a table sample, for the preview's column headers.

``summarise(df)`` → one JSON-ready dict per column::

    {"name": "age", "type": "integer", "count": 980, "missing": 20, "distinct": 61,
     "min": 18, "max": 90, "mean": 41.3,
     "histogram": {"edges": [18.0, 24.0, ...], "counts": [120, 301, ...]}}

Numbers and dates get min / max (numbers also the mean) and a histogram of
:data:`HISTOGRAM_BINS` equal-width bins; text and booleans get their most frequent values
(``"top": [["yes", 610], ["no", 370]]``) and how many rows hold some other value (``"other"``).
Pure pandas / numpy on a frame already in memory: the caller bounds its size (the preview reads
at most a few MB) and runs it off the event loop.
"""

from __future__ import annotations

import math
import re
from typing import Any

HISTOGRAM_BINS = 12
TOP_VALUES = 8
#: the first bytes of a delimited file that a summary reads (the preview's ``summary=1``)
SUMMARY_BYTES = 4 << 20
#: rows a summary of a Parquet, Excel or JSON file looks at
SUMMARY_ROWS = 1000

_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)


def _number(value: Any) -> float | int | None:
    """A JSON-ready number (None for NaN / infinity / missing)."""
    if value is None:
        return None
    try:
        v = value.item() if hasattr(value, "item") else value
    except (TypeError, ValueError):
        return None
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    if math.isnan(f) or math.isinf(f):
        return None
    return int(f) if f.is_integer() and abs(f) < 2**53 else round(f, 6)


def _histogram(values: Any) -> dict[str, list[Any]]:
    """Equal-width bins over float ``values`` (a numpy array without missing values)."""
    import numpy as np

    lo, hi = float(values.min()), float(values.max())
    if lo == hi:
        return {"edges": [lo, hi], "counts": [int(values.size)]}
    counts, edges = np.histogram(values, bins=HISTOGRAM_BINS, range=(lo, hi))
    return {"edges": [round(float(e), 6) for e in edges], "counts": [int(c) for c in counts]}


def _kind(col: Any) -> str:
    """Our column type for a pandas Series (as the preview names them)."""
    from pandas.api import types as pt

    if col.isna().all():
        return "empty"
    if pt.is_bool_dtype(col.dtype):
        return "boolean"
    if pt.is_integer_dtype(col.dtype):
        return "integer"
    if pt.is_float_dtype(col.dtype):
        nonnull = col.dropna()
        return "integer" if bool((nonnull == nonnull.round()).all()) else "number"
    if pt.is_datetime64_any_dtype(col.dtype):
        return "datetime"
    sample = col.dropna().head(200).tolist()
    if sample and all(isinstance(v, str) and _ISO_DATE.match(v) for v in sample):
        return "date" if all(len(v) == 10 for v in sample) else "datetime"
    if sample and all(isinstance(v, bool) for v in sample):
        return "boolean"
    if sample and all(isinstance(v, int | float) and not isinstance(v, bool) for v in sample):
        return "number"
    return "string"


def summarise_column(name: str, col: Any) -> dict[str, Any]:
    """The summary of one pandas Series (see the module docstring)."""
    import numpy as np
    import pandas as pd

    kind = _kind(col)
    missing = int(col.isna().sum())
    out: dict[str, Any] = {
        "name": name,
        "type": kind,
        "count": int(col.size - missing),
        "missing": missing,
    }
    nonnull = col.dropna()
    try:
        out["distinct"] = int(nonnull.nunique())
    except TypeError:  # unhashable values (nested JSON)
        out["distinct"] = None
    if not len(nonnull):
        return out
    if kind in ("integer", "number"):
        values = pd.to_numeric(nonnull, errors="coerce").dropna().astype("float64").to_numpy()
        if values.size:
            out["min"] = _number(values.min())
            out["max"] = _number(values.max())
            out["mean"] = _number(values.mean())
            out["histogram"] = _histogram(values)
        return out
    if kind in ("date", "datetime"):
        stamps = pd.to_datetime(nonnull, errors="coerce", utc=False, format="mixed").dropna()
        if len(stamps):
            fmt = "%Y-%m-%d" if kind == "date" else "%Y-%m-%d %H:%M:%S"
            out["min"] = stamps.min().strftime(fmt)
            out["max"] = stamps.max().strftime(fmt)
            ns = stamps.astype("int64").to_numpy().astype(np.float64)
            hist = _histogram(ns)
            hist["edges"] = [
                pd.Timestamp(int(e)).strftime(fmt) for e in hist["edges"]
            ]  # readable bin edges
            out["histogram"] = hist
        return out
    try:
        counts = nonnull.astype(str).value_counts()
    except TypeError:
        return out
    top = counts.head(TOP_VALUES)
    out["top"] = [[str(k), int(v)] for k, v in top.items()]
    out["other"] = int(counts.sum() - top.sum())
    return out


def summarise(df: Any) -> list[dict[str, Any]]:
    """Summaries of every column of a pandas DataFrame, in order."""
    out = []
    for i, name in enumerate(df.columns):
        col = df.iloc[:, i]
        out.append(summarise_column(str(name), col))
    return out
