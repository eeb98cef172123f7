# Checks with messages that say what to do, and numbers written as APA style reports them.
import math as _math

import pandas as _pd


def _column(frame, name):
    """The column ``name`` of ``frame``."""
    if name not in frame.columns:
        known = ", ".join(repr(str(c)) for c in frame.columns)
        raise ValueError(f"There is no column {name!r} in the data; its columns are: {known}")
    return frame[name]


def _numeric(frame, name):
    """The column ``name`` when it holds numbers and not only missing values."""
    col = _column(frame, name)
    if not _pd.api.types.is_numeric_dtype(col):
        seen = ", ".join(repr(str(v)) for v in col.dropna().unique()[:3])
        raise ValueError(
            f"Column {name!r} holds text ({seen}), not numbers: choose a numeric column, or "
            f"convert it first, e.g. df[{name!r}] = pd.to_numeric(df[{name!r}], errors='coerce')"
        )
    if col.notna().sum() == 0:
        raise ValueError(f"Column {name!r} has no values (all are missing): choose another column")
    return col


def _varies(values, what):
    """Stop when ``values`` (missing ones left out) are all the same."""
    values = _pd.Series(values).dropna()
    if values.nunique() < 2:
        only = values.iloc[0] if len(values) else "nothing"
        only = repr(only.item() if hasattr(only, "item") else only)
        raise ValueError(
            f"{what} is constant (every value is {only}): there is nothing to compare; "
            "choose a column whose values vary"
        )


def _rows(frame, name, level):
    """True for the rows whose column ``name`` holds ``level`` (compared as text if need be)."""
    col = _column(frame, name)
    mask = col == level
    if not mask.any():
        mask = col.astype(str) == str(level)
    if not mask.any():
        present = [str(v) for v in col.dropna().unique()]
        near = [v for v in present if v.strip().casefold() == str(level).strip().casefold()]
        hint = f" Did you mean {near[0]!r}? Values are case-sensitive." if near else ""
        shown = ", ".join(repr(v) for v in present[:20]) + (", ..." if len(present) > 20 else "")
        raise ValueError(
            f"No row has the value {level!r} in column {name!r}.{hint} "
            f"Choose one of the values there: {shown or '(none: the column is empty)'}"
        )
    return mask


def _enough(values, minimum, what):
    """Stop when ``what`` has fewer than ``minimum`` values that are not missing."""
    n = int(_pd.Series(values).notna().sum())
    if n < minimum:
        raise ValueError(
            f"{what} has {n} observation{'' if n == 1 else 's'} with a value; at least {minimum} "
            "are needed: choose another group or column, or check for missing values"
        )


def _finite(x, what):
    if x is None or not _math.isfinite(x):
        raise ValueError(f"The {what} could not be computed from these data (got {x})")
    return x


def _p(p):
    """p as APA writes it: 'p = .041', 'p < .001' (never 'p = 0')."""
    _finite(p, "p value")
    if p < 0.001:
        return "p < .001"
    if p > 0.999:
        return "p > .999"
    return "p = " + f"{p:.3f}".lstrip("0")


def _num(x, digits=2, zero=True):
    """``x`` rounded; ``zero=False`` drops the leading zero (for values that cannot exceed 1)."""
    text = f"{_finite(x, 'statistic'):.{digits}f}"
    if float(text) == 0:
        text = text.lstrip("-")  # no "-0.00"
    if not zero and abs(x) < 1:
        text = text.replace("0.", ".", 1)
    return text


def _ci(low, high, digits=2, zero=True):
    return f"95% CI [{_num(low, digits, zero)}, {_num(high, digits, zero)}]"


def _is_p_column(name):
    name = str(name).lower().replace("_", "-")
    return name in ("p", "pval", "p-val", "p-value") or name.startswith(("p-", "p>", "p("))


def _table(frame, digits=3):
    """A result table to show: p values with three significant digits (a tiny p stays visible,
    e.g. 4.68e-08, instead of rounding to 0), other numbers rounded to ``digits``."""
    out = frame.copy()
    for c in out.columns:
        if _is_p_column(c):
            out[c] = ["" if _pd.isna(v) else (f"{v:.3g}" if v > 0 else "< 1e-300") for v in out[c]]
        elif _pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].round(digits)
    return out
