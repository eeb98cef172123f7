"""Levels inferred from the data alone (plain CSV / Excel, and columns a survey file leaves open).

The rules, in order: all-missing → text; dates → text (kind ``datetime``); yes/no → nominal;
an integer column with a name like ``id`` or unique increasing values → identifier; integers with
at most 2 distinct values → nominal; 3-11 consecutive small integers (a rating scale) → ordinal;
other numbers → scale; text that is a known Likert wording → ordinal in the scale's order; few
distinct texts → nominal; unique single tokens → identifier; anything else → free text.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from .codebook import Codebook, Column, ValueLabel

# column names that identify a respondent (Qualtrics' own, and common spellings elsewhere)
PERSONAL_NAMES = {
    "ipaddress",
    "locationlatitude",
    "locationlongitude",
    "recipientlastname",
    "recipientfirstname",
    "recipientemail",
    "externalreference",
    "externaldatareference",
    "email",
    "emailaddress",
    "phone",
    "phonenumber",
    "firstname",
    "lastname",
    "fullname",
}
_ID_NAME = re.compile(r"(^|[_\s.-])(id|uuid|guid)$|^(id|uuid|responseid|respondentid)$", re.I)

# Likert wordings recognised in text columns, each in its order (low to high)
LIKERT_SCALES = [
    ["strongly disagree", "disagree", "neither agree nor disagree", "agree", "strongly agree"],
    [
        "strongly disagree",
        "disagree",
        "somewhat disagree",
        "neither agree nor disagree",
        "somewhat agree",
        "agree",
        "strongly agree",
    ],
    ["never", "rarely", "sometimes", "often", "always"],
    ["very dissatisfied", "dissatisfied", "neutral", "satisfied", "very satisfied"],
    ["very poor", "poor", "fair", "good", "excellent"],
    ["not at all", "slightly", "moderately", "very", "extremely"],
    ["low", "medium", "high"],
]


def is_personal_name(name: str) -> bool:
    return re.sub(r"[\s_.-]", "", name).lower() in PERSONAL_NAMES


def likert_order(values: list[str]) -> list[str] | None:
    """The values in their scale order when they all belong to one known Likert wording."""
    lowered = {v.strip().lower(): v for v in values}
    for scale in LIKERT_SCALES:
        if set(lowered) <= set(scale) and len(lowered) >= 2:
            return [lowered[w] for w in scale if w in lowered]
    return None


def infer_column(name: str, s: pd.Series) -> Column:
    """A codebook column for ``s`` judged from its values (and its name for identifiers)."""
    col = Column(name=name, level="text", personal_data=is_personal_name(name))
    data = s.dropna()
    if len(data) == 0:
        return col
    if pd.api.types.is_datetime64_any_dtype(s):
        col.kind = "datetime"
        return col
    if pd.api.types.is_bool_dtype(s):
        col.level = "nominal"
        return col
    if pd.api.types.is_numeric_dtype(s):
        col.level = _numeric_level(name, data)
        return col
    text = data.astype(str).str.strip()
    text = text[text != ""]
    if len(text) == 0:
        return col
    distinct = list(pd.unique(text))
    order = likert_order(distinct)
    if order is not None:
        col.level, col.values = "ordinal", [ValueLabel(v, v) for v in order]
        return col
    if pd.to_numeric(pd.Series(distinct), errors="coerce").notna().all():  # numbers as text
        col.level = _numeric_level(name, pd.to_numeric(text))
        return col
    if _looks_like_dates(text):
        col.kind = "datetime"
        return col
    n, k = len(text), len(distinct)
    if k <= 20 and k <= max(2, n // 2):
        col.level = "nominal"
    elif k == n and (_ID_NAME.search(name) or not text.str.contains(r"\s").any()):
        col.level = "identifier"
    elif _ID_NAME.search(name):
        col.level = "identifier"
    else:
        col.level = "text"
    return col


def _numeric_level(name: str, data: pd.Series) -> str:
    values = data.astype(float)
    integral = bool((values == values.round()).all())
    k = values.nunique()
    if integral and _ID_NAME.search(name) and k == len(values):
        return "identifier"
    if integral and k == len(values) and len(values) >= 20 and values.is_monotonic_increasing:
        return "identifier"  # 1, 2, 3, ... respondent numbers
    if integral and k <= 2:
        return "nominal"
    if integral and 3 <= k <= 11 and values.max() - values.min() <= 10:
        return "ordinal"
    return "scale"


def _looks_like_dates(text: pd.Series) -> bool:
    sample = text.head(50)
    if not sample.str.match(r"^\d{4}-\d{2}-\d{2}").all():
        return False
    return bool(pd.to_datetime(sample, errors="coerce").notna().all())


def infer_codebook(df: pd.DataFrame, source: dict[str, Any] | None = None) -> Codebook:
    return Codebook(
        columns=[infer_column(str(c), df[c]) for c in df.columns], source=dict(source or {})
    )
