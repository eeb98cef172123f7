"""A codebook applied to a data frame: missing codes become NA, labelled nominal / ordinal columns
become categoricals (ordinal ones ordered by code), personal-data columns dropped on request.

The "Load survey data" template does the same in plain pandas (tests check they agree)."""

from __future__ import annotations

import pandas as pd

from .codebook import Codebook, Column, code_key


def missing_to_na(s: pd.Series, col: Column) -> pd.Series:
    if not (col.missing or col.missing_ranges):
        return s
    codes = [u for u in pd.unique(s.dropna()) if col.is_missing_code(u)]  # each value once
    return s.mask(s.isin(codes)) if codes else s


def to_categorical(s: pd.Series, col: Column) -> pd.Series:
    """Codes (or their labels, for a "choice text" export) as a categorical of labels in the
    codebook's order; values without a label are kept as categories after the labelled ones."""
    by_code: dict[str, str] = {}
    for v in col.values:
        by_code.setdefault(code_key(v.value), v.label)
    labels = list(dict.fromkeys(v.label for v in col.values))
    mapped = s.map({u: by_code.get(code_key(u), code_key(u)) for u in pd.unique(s.dropna())})
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
    extra = sorted(set(mapped.dropna().unique()) - set(labels))
    return pd.Series(
        pd.Categorical(mapped, categories=labels + extra, ordered=col.level == "ordinal"),
        index=s.index,
        name=s.name,
    )


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
