"""From the data frame and the question to what a test needs, with clear errors (never a NaN
result): unknown columns and values (with a hint), all-missing, constant, text where a number is
needed, too few observations. Every step is mirrored by a line of the generated cell."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .design import AssistError, Question

if TYPE_CHECKING:
    import pandas as pd

#: fewest observations per group / condition (Shapiro-Wilk needs 3)
MIN_PER_GROUP = 3


@dataclass
class Prepared:
    """The analysed rows and how they were obtained (``code``: the same steps as pandas lines)."""

    df: Any  # pandas DataFrame, rows used
    measure: str  # numeric | binary | categorical | ordinal (of the outcome / x,y)
    code: list[str] = field(default_factory=list)
    order: dict[Any, list[Any]] = field(default_factory=dict)  # column -> values in order
    dv: str = ""  # the analysed outcome column (repeated wide: "value")
    long: Any = None  # repeated measures: long frame (subject, condition, value)
    subject: str = ""
    within: str = ""


def py(value: Any) -> Any:
    """A plain Python value (for literals in code and JSON)."""
    return value.item() if hasattr(value, "item") else value


def _column_hint(name: str, columns: list[str]) -> str:
    lower = {c.lower(): c for c in columns}
    if name.lower() in lower:
        return f"; did you mean {lower[name.lower()]!r}?"
    close = difflib.get_close_matches(name, columns, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    shown = ", ".join(repr(c) for c in columns[:15])
    return f"; the columns are {shown}" + (" ..." if len(columns) > 15 else "")


def _value_hint(value: Any, present: list[Any]) -> str:
    text = str(value).strip().lower()
    for v in present:
        if str(v).strip().lower() == text:
            return f"did you mean {py(v)!r}?"
    shown = ", ".join(repr(py(v)) for v in present[:10])
    return f"the values are {shown}" + (" ..." if len(present) > 10 else "")


def match_value(value: Any, series: pd.Series, what: str) -> Any:
    """The value of ``series`` the user meant (exact, or equal as text), else an error with a hint."""
    present = list(dict.fromkeys(series.dropna()))
    for v in present:
        pv = py(v)
        same_kind = isinstance(pv, bool) == isinstance(value, bool)
        if (same_kind and pv == value) or str(pv) == str(value) or _same_number(pv, value):
            return v
    raise AssistError(
        f"{value!r} is not a value of {series.name!r} ({what}); {_value_hint(value, present)} "
        "Pick one of the values in the data."
    )


def _same_number(a: Any, b: Any) -> bool:
    """``1.0`` in the data and ``"1"`` typed on the command line are the same value."""
    if isinstance(a, bool) or not isinstance(a, int | float):
        return False
    try:
        return float(b) == float(a)
    except (TypeError, ValueError):
        return False


def measure_of(series: pd.Series) -> str:
    """numeric | binary | categorical | ordinal (an ordered categorical with > 2 categories)."""
    import pandas as pd

    s = series.dropna()
    if isinstance(series.dtype, pd.CategoricalDtype):
        if series.cat.ordered and len(series.cat.categories) > 2:
            return "ordinal"
        return "binary" if s.nunique() <= 2 else "categorical"
    if pd.api.types.is_bool_dtype(series.dtype):
        return "binary"
    if pd.api.types.is_numeric_dtype(series.dtype):
        return "binary" if s.nunique() <= 2 else "numeric"
    return "binary" if s.nunique() <= 2 else "categorical"


def as_number(df: pd.DataFrame, col: Any, code: list[str], why: str) -> pd.DataFrame:
    """``df[col]`` as numbers; text that is not a number is an error naming examples."""
    import pandas as pd

    s = df[col]
    if isinstance(s.dtype, pd.CategoricalDtype) and s.cat.ordered:
        df[col] = s.cat.codes.where(s.notna()).astype(float)
        code.append(f"df[{col!r}] = df[{col!r}].cat.codes.where(df[{col!r}].notna())  # order")
        return df
    if pd.api.types.is_bool_dtype(s.dtype):
        raise AssistError(f"{col!r} is yes/no ({why} needs numbers); pick a numeric column")
    if pd.api.types.is_numeric_dtype(s.dtype):
        return df
    converted = pd.to_numeric(s, errors="coerce")
    bad = s[converted.isna() & s.notna()]
    if len(bad):
        examples = ", ".join(repr(py(v)) for v in list(dict.fromkeys(bad))[:3])
        raise AssistError(
            f"{col!r} holds text (e.g. {examples}) but {why} needs numbers; pick a numeric "
            "column, or clean these values (or mark them missing) first"
        )
    df[col] = converted
    code.append(f"df[{col!r}] = pd.to_numeric(df[{col!r}])")
    return df


def _order(series: pd.Series) -> list[Any]:
    import pandas as pd

    if isinstance(series.dtype, pd.CategoricalDtype):
        present = set(series.dropna().unique())
        return [c for c in series.cat.categories if c in present]
    return list(pd.unique(series.dropna()))


def prepare(df: pd.DataFrame, q: Question) -> Prepared:
    """Filter, select, drop missing rows listwise, check, shape; errors say what to do."""
    code: list[str] = []
    columns = list(map(str, df.columns))
    for col in q.columns():
        if col not in df.columns:
            raise AssistError(f"No column {col!r} in the data{_column_hint(col, columns)}")
    if q.filter:
        try:
            df = df.query(q.filter, engine="python")
        except Exception as e:
            raise AssistError(
                f"The filter {q.filter!r} could not be applied ({type(e).__name__}: {e}); write "
                "it as a pandas query, e.g. age >= 18 and country == 'NL'"
            ) from None
        code.append(f"df = df.query({q.filter!r}, engine='python')")
        if len(df) == 0:
            raise AssistError(f"No rows are left after the filter {q.filter!r}; loosen it")
    used = q.columns()
    df = df[used].copy()
    for col in used:
        if df[col].isna().all():
            raise AssistError(
                f"{col!r} has no values (all missing{' after the filter' if q.filter else ''}); "
                "pick another column or check how missing values are coded"
            )
    before = len(df)
    df = df.dropna()
    code.append(f"df = df[{used!r}].dropna()  # rows with a missing value are left out")
    if len(df) == 0:
        raise AssistError(
            f"No row has a value in all of {', '.join(map(repr, used))} ({before} rows, each with "
            "something missing); pick columns that were answered together"
        )
    kind = q.kind
    if kind in ("independent_groups", "covariate") or kind == "two_factors":
        factors = [q.group] if q.group else list(q.groups or [])
        if q.levels and q.group:
            keep = [match_value(v, df[q.group], "group") for v in q.levels]
            df = df[df[q.group].isin(keep)]
            code.append(f"df = df[df[{q.group!r}].isin({[py(v) for v in keep]!r})]")
        prep = Prepared(df=df, measure="", code=code, dv=q.outcome or "")
        for f in factors:
            prep.order[f] = _order(df[f])
            if len(prep.order[f]) < 2:
                only = py(prep.order[f][0])
                raise AssistError(
                    f"{f!r} has only one value ({only!r}) in the rows used; comparing needs at "
                    "least two groups"
                )
        return _outcome(prep, q)
    if kind == "one_sample":
        prep = Prepared(df=df, measure="", code=code, dv=q.outcome or "")
        return _outcome(prep, q)
    if kind == "paired":
        prep = Prepared(df=df, measure="", code=code, dv=q.outcome or "")
        return _paired(prep, q)
    if kind == "relationship":
        return _relationship(Prepared(df=df, measure="", code=code), q)
    if kind == "repeated":
        return _repeated(Prepared(df=df, measure="", code=code), q)
    raise AssistError(f"Unknown design {kind!r}")


def _constant(df: pd.DataFrame, col: Any) -> None:
    values = df[col].unique()
    if len(values) == 1:
        raise AssistError(
            f"{col!r} has the same value ({py(values[0])!r}) in every row used; there is nothing "
            "to test. Pick a column that varies"
        )


def _outcome(prep: Prepared, q: Question) -> Prepared:
    df, dv = prep.df, prep.dv
    _constant(df, dv)
    m = measure_of(df[dv])
    if q.kind in ("covariate", "two_factors", "one_sample") and m != "ordinal":
        why = {
            "covariate": "ANCOVA",
            "two_factors": "a two-way ANOVA",
            "one_sample": "comparing with a reference value",
        }[q.kind]
        prep.df = df = as_number(df, dv, prep.code, why)
        _constant(df, dv)
        m = "numeric"
        if q.kind == "covariate":
            prep.df = df = as_number(df, q.covariate, prep.code, "a covariate")
            _constant(df, q.covariate)
    elif m == "ordinal":
        prep.df = df = as_number(df, dv, prep.code, "a rank-based test")
    elif m == "categorical" and _mostly_numbers(df[dv]):
        prep.df = df = as_number(df, dv, prep.code, "comparing groups")
        m = "numeric"
    prep.measure = m
    if q.level is not None and m in ("binary", "categorical"):
        match_value(q.level, df[dv], "the category of interest")
    if m in ("numeric", "ordinal"):
        factors = [q.group] if q.group else list(q.groups or [])
        if q.kind == "independent_groups":
            counts = df.groupby(q.group, sort=False, observed=True)[dv].count()
            small = counts[counts < MIN_PER_GROUP]
            if len(small):
                g, n = small.index[0], int(small.iloc[0])
                raise AssistError(
                    f"Group {py(g)!r} of {q.group!r} has only {n} observation(s); the test needs "
                    f"at least {MIN_PER_GROUP} per group. Collect more data, or leave the group "
                    "out (levels) or merge it with another"
                )
        elif factors:
            counts = df.groupby(factors, observed=True)[dv].count()
            if counts.min() < 2 or len(counts) < _cells(prep, factors):
                raise AssistError(
                    f"Some combinations of {' and '.join(map(repr, factors))} have fewer than 2 "
                    "observations; a factorial analysis needs every combination observed"
                )
        elif len(df) < MIN_PER_GROUP:
            raise AssistError(
                f"Only {len(df)} observation(s) of {dv!r}; the test needs at least {MIN_PER_GROUP}"
            )
    return prep


def _cells(prep: Prepared, factors: list[str]) -> int:
    n = 1
    for f in factors:
        n *= len(prep.order[f])
    return n


def _mostly_numbers(series: pd.Series) -> bool:
    import pandas as pd

    converted = pd.to_numeric(series, errors="coerce")
    return bool(converted.notna().mean() >= 0.8 and series.nunique() > 2)


def _paired(prep: Prepared, q: Question) -> Prepared:
    df = prep.df
    a, b = q.outcome, q.paired_with
    ma, mb = measure_of(df[a]), measure_of(df[b])
    text = any(measure_of(df[c]) == "categorical" and not _mostly_numbers(df[c]) for c in (a, b))
    if "binary" in (ma, mb) or q.level is not None or text:
        prep.measure = "binary"
        _binary(prep, [a, b], q)
        return prep
    for col in (a, b):
        prep.df = df = as_number(df, col, prep.code, "a paired comparison")
    prep.measure = "ordinal" if "ordinal" in (ma, mb) else "numeric"
    if len(df) < MIN_PER_GROUP:
        raise AssistError(
            f"Only {len(df)} pair(s) with both {a!r} and {b!r}; the test needs at least "
            f"{MIN_PER_GROUP}"
        )
    diff = df[a] - df[b]
    if (diff == 0).all():
        raise AssistError(f"{a!r} and {b!r} are equal in every row; there is no change to test")
    return prep


def _binary(prep: Prepared, cols: list[Any], q: Question) -> None:
    """Turn yes/no columns into 1 (the category of interest) / 0."""
    df = prep.df
    values = list(dict.fromkeys(v for c in cols for v in df[c].dropna()))
    if q.level is not None:
        found = None
        for c in cols:
            try:
                found = match_value(q.level, df[c], "the category of interest")
                break
            except AssistError as e:
                err = e
        if found is None:
            raise err
        level = found
    else:
        if len(values) > 2:
            raise AssistError(
                f"{', '.join(map(repr, cols))} have more than two values "
                f"({', '.join(repr(py(v)) for v in values[:6])}); pick the category of interest "
                "(level) to compare it against all others"
            )
        level = _default_level(values)
    for c in cols:
        df[c] = (df[c] == level).astype(int)
        prep.code.append(f"df[{c!r}] = (df[{c!r}] == {py(level)!r}).astype(int)")
    prep.order["level"] = [level]


def _default_level(values: list[Any]) -> Any:
    """The 'yes' of a yes/no column: True, 1, else the last in sorted order."""
    for yes in (True, 1, "yes", "Yes", "YES"):
        for v in values:
            if py(v) == yes and type(py(v)) is type(yes):
                return v
    return sorted(values, key=str)[-1]


def _relationship(prep: Prepared, q: Question) -> Prepared:
    df = prep.df
    mx, my = measure_of(df[q.x]), measure_of(df[q.y])
    if mx in ("binary", "categorical") and my in ("binary", "categorical"):
        for c in (q.x, q.y):
            _constant(df, c)
            prep.order[c] = _order(df[c])
        prep.measure = "categorical"
        return prep
    for c in (q.x, q.y):
        prep.df = df = as_number(df, c, prep.code, "a correlation")
        _constant(df, c)
    prep.measure = "ordinal" if "ordinal" in (mx, my) else "numeric"
    if len(df) < MIN_PER_GROUP:
        raise AssistError(
            f"Only {len(df)} row(s) with both {q.x!r} and {q.y!r}; a correlation needs at least "
            f"{MIN_PER_GROUP}"
        )
    return prep


def _repeated(prep: Prepared, q: Question) -> Prepared:
    """Wide (``within_columns``) or long (``within`` + ``subject``) into both shapes."""
    df = prep.df
    if q.within_columns:
        cols = list(q.within_columns)
        prep.order["condition"] = cols
        ms = {measure_of(df[c]) for c in cols}
        text = any(measure_of(df[c]) == "categorical" and not _mostly_numbers(df[c]) for c in cols)
        if "binary" in ms or q.level is not None or text:
            prep.measure = "binary"
            _binary(prep, cols, q)
        else:
            for c in cols:
                prep.df = df = as_number(df, c, prep.code, "repeated measures")
            prep.measure = "ordinal" if "ordinal" in ms else "numeric"
        prep.df = df = prep.df.reset_index(drop=True)
        prep.code.append("df = df.reset_index(drop=True)")
        long = df.reset_index().melt(
            id_vars="index", value_vars=cols, var_name="condition", value_name="value"
        )
        prep.code.append(
            "long = df.reset_index().melt(id_vars='index', value_vars="
            f"{cols!r}, var_name='condition', value_name='value')"
        )
        prep.long, prep.subject, prep.within, prep.dv = long, "index", "condition", "value"
        if len(df) < MIN_PER_GROUP:
            raise AssistError(
                f"Only {len(df)} subject(s) have all of {', '.join(map(repr, cols))}; the test "
                f"needs at least {MIN_PER_GROUP}"
            )
        _repeated_constant(prep)
        return prep
    within, subject, dv = q.within, q.subject, q.outcome
    prep.order["condition"] = conds = _order(df[within])
    if len(conds) < 2:
        raise AssistError(
            f"{within!r} has only one value ({py(conds[0])!r}); repeated measures need at least "
            "two conditions"
        )
    dup = df.duplicated([subject, within])
    if dup.any():
        row = df[dup].iloc[0]
        raise AssistError(
            f"Subject {py(row[subject])!r} has more than one row for {within} = "
            f"{py(row[within])!r}; give one row per subject and condition (average them first)"
        )
    m = measure_of(df[dv])
    if m == "binary" or q.level is not None or (m == "categorical" and not _mostly_numbers(df[dv])):
        prep.measure = "binary"
        _binary(prep, [dv], q)
    else:
        prep.df = as_number(df, dv, prep.code, "repeated measures")
        prep.measure = "ordinal" if m == "ordinal" else "numeric"
    df = prep.df
    complete = df.groupby(subject)[within].transform("nunique") == len(conds)
    dropped = int((~complete).sum())
    df = df[complete]
    prep.code.append(
        f"df = df[df.groupby({subject!r})[{within!r}].transform('nunique') == {len(conds)}]"
        "  # subjects measured in every condition"
    )
    if df[subject].nunique() < MIN_PER_GROUP:
        raise AssistError(
            f"Only {df[subject].nunique()} subject(s) were measured in every condition of "
            f"{within!r} ({dropped} row(s) of incomplete subjects left out); the test needs at "
            f"least {MIN_PER_GROUP}"
        )
    prep.df = df
    prep.code.append("long = df")
    prep.long, prep.subject, prep.within, prep.dv = df, str(subject), str(within), str(dv)
    _repeated_constant(prep)
    return prep


def _repeated_constant(prep: Prepared) -> None:
    if prep.long[prep.dv].nunique() == 1:
        raise AssistError(
            f"Every measurement has the same value ({py(prep.long[prep.dv].iloc[0])!r}); there "
            "is nothing to test"
        )


def wide(prep: Prepared) -> pd.DataFrame:
    """Subjects x conditions (columns in condition order)."""
    w = prep.long.pivot(index=prep.subject, columns=prep.within, values=prep.dv)
    return w[prep.order["condition"]]
