"""SPSS ``.sav`` through pyreadstat: variable labels, value labels, measurement level and
user-missing codes and ranges (read with ``user_missing=True`` so the codes are seen, recorded in
the codebook, and turned into NA when the codebook is applied)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from .codebook import Codebook, Column, SurveyError, ValueLabel
from .infer import infer_column


class SpssError(SurveyError):
    """A file pyreadstat cannot read as SPSS."""


def _pyreadstat() -> ModuleType:
    try:
        import pyreadstat
    except ImportError:
        raise SpssError(
            "Reading SPSS .sav files needs the pyreadstat package; ask your administrator to "
            "install it (pip install pyreadstat)"
        ) from None
    return pyreadstat


def _code(value: Any) -> float | int | str:
    if isinstance(value, str):
        return value
    number = float(value)
    return int(number) if number.is_integer() else number


def read(path: str | Path) -> tuple[pd.DataFrame, Codebook]:
    """The data (user-missing codes still in it) and its codebook."""
    pyreadstat = _pyreadstat()
    try:
        df, meta = pyreadstat.read_sav(str(path), user_missing=True)
    except pyreadstat.ReadstatError as e:
        raise SpssError(f"{Path(path).name} is not a readable SPSS .sav file ({e})") from None
    labels = dict(zip(meta.column_names, meta.column_labels or [], strict=False))
    columns = []
    for name in meta.column_names:
        col = Column(name=name, question=labels.get(name) or "")
        for r in (meta.missing_ranges or {}).get(name, []):
            lo, hi = r["lo"], r["hi"]
            if lo == hi:
                col.missing.append(_code(lo))
            else:
                col.missing_ranges.append((float(lo), float(hi)))
        value_labels = (meta.variable_value_labels or {}).get(name, {})
        col.values = [
            ValueLabel(_code(v), str(label))
            for v, label in sorted(value_labels.items(), key=lambda kv: _sort_key(kv[0]))
            if not col.is_missing_code(_code(v))
        ]
        measure = (meta.variable_measure or {}).get(name, "unknown")
        inferred = infer_column(name, df[name].where(~df[name].map(col.is_missing_code)))
        col.personal_data = inferred.personal_data
        if pd.api.types.is_datetime64_any_dtype(df[name]):
            col.level, col.kind = "text", "datetime"
        elif measure in ("nominal", "ordinal", "scale"):
            col.level = measure
            # a string variable SPSS calls nominal but whose values are all different
            if measure == "nominal" and not col.values and inferred.level in ("text", "identifier"):
                col.level = inferred.level
        else:
            col.level = "nominal" if col.values and inferred.level == "scale" else inferred.level
        columns.append(col)
    return df, Codebook(
        columns=columns, source={"format": "spss", "file": Path(path).name, "definition": None}
    )


def _sort_key(value: Any) -> tuple[int, Any]:
    return (1, value) if isinstance(value, str) else (0, float(value))
