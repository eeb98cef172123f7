"""A codebook applied to a data frame: missing codes become NA, labelled nominal / ordinal columns
become categoricals (ordinal ones ordered by code), personal-data columns dropped on request.

The "Load survey data" template does the same in plain pandas (tests check they agree)."""

from __future__ import annotations

import pandas as pd

from .codebook import Codebook, Column


def missing_to_na(s: pd.Series, col: Column) -> pd.Series:
    if not (col.missing or col.missing_ranges):
        return s
    mask = s.map(col.is_missing_code).astype(bool)
    return s.mask(mask) if mask.any() else s


def to_categorical(s: pd.Series, col: Column) -> pd.Series:
    """Codes (or their labels, for a "choice text" export) as a categorical of labels in the
    codebook's order; values without a label are kept as categories after the labelled ones."""
    by_code: dict[str, str] = {}
    for v in col.values:
        by_code.setdefault(_key(v.value), v.label)
    labels = list(dict.fromkeys(v.label for v in col.values))
    keys = s.map(lambda x: None if pd.isna(x) else _key(x))
    mapped = keys.map(lambda k: by_code.get(k, k) if k is not None else None)
    if not labels:  # ordinal without labels: the values themselves, in order
        present = s.dropna().unique()
        try:
            ordered = sorted(present, key=float)
        except (TypeError, ValueError):
            ordered = sorted(present, key=str)
        return pd.Series(
            pd.Categorical(s, categories=ordered, ordered=col.level == "ordinal"),
            index=s.index,
            name=s.name,
        )
    extra = sorted({m for m in mapped.dropna() if m not in labels})
    return pd.Series(
        pd.Categorical(mapped, categories=labels + extra, ordered=col.level == "ordinal"),
        index=s.index,
        name=s.name,
    )


def _key(value) -> str:
    """One spelling for a code whether it arrives as 3, 3.0 or "3"."""
    if isinstance(value, str):
        value = value.strip()
        try:
            number = float(value)
        except ValueError:
            return value
    else:
        number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


def apply_codebook(
    df: pd.DataFrame, codebook: Codebook, keep_personal: bool = False
) -> pd.DataFrame:
    """A labelled copy of ``df``; question texts in ``attrs["variable_labels"]``."""
    out = df.copy()
    for col in codebook.columns:
        if col.name not in out.columns:
            continue
        s = missing_to_na(out[col.name], col)
        if col.level in ("nominal", "ordinal") and (col.values or col.level == "ordinal"):
            s = to_categorical(s, col)
        elif col.level == "scale" and s.dtype == object:
            numeric = pd.to_numeric(s, errors="coerce")
            if numeric.notna().sum() == s.notna().sum():
                s = numeric
        out[col.name] = s
    if not keep_personal:
        out = out.drop(columns=[c for c in codebook.personal_data() if c in out.columns])
    out.attrs["variable_labels"] = {
        c.name: c.question for c in codebook.columns if c.name in out.columns and c.question
    }
    return out
