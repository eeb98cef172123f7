"""Checks, decision, test and answer: the assistant's logic on a data frame."""

from __future__ import annotations

import functools
import math
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import checks as ck
from .code import BASE_HELPERS, cell, cell_source, helper_source
from .design import AssistError, Question
from .prepare import Prepared, prepare, py, wide
from .run import HELPERS, snippet

if TYPE_CHECKING:
    import pandas as pd
    from numpy.typing import NDArray

#: the keys of the CLI's JSON answer (the contract)
ANSWER_KEYS = (
    "test",
    "statistic",
    "p",
    "dof",
    "effect_size",
    "post_hoc",
    "alternative",
    "checks",
    "why",
    "code",
)


@functools.cache
def table() -> dict[str, Any]:
    """The decision table (decisions.yaml)."""
    import yaml

    decisions: dict[str, Any] = yaml.safe_load(
        (Path(__file__).parent / "decisions.yaml").read_text(encoding="utf-8")
    )
    return decisions


def assess(prep: Prepared, q: Question) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The assumption checks on the data and the facts the decision table reads."""
    alpha, df, dv = q.alpha, prep.df, prep.dv
    checks: list[dict[str, Any]] = []
    facts: dict[str, Any] = {"outcome": prep.measure}
    kind = q.kind
    if kind == "relationship" and prep.measure == "categorical":
        facts["outcome"] = "categorical"
        _contingency(df[q.x], df[q.y], checks, facts)
    elif kind == "one_sample":
        if prep.measure == "numeric":
            checks.append(ck.shapiro(df[dv], repr(dv), alpha))
    elif kind == "independent_groups":
        g = q.group
        n = len(prep.order[g])
        facts["levels"] = "2" if n == 2 else "3+"
        if prep.measure in ("binary", "categorical"):
            _contingency(df[dv], df[g], checks, facts)
        elif prep.measure == "numeric":
            samples = {v: df.loc[df[g] == v, dv] for v in prep.order[g]}
            for v, s in samples.items():
                checks.append(ck.shapiro(s, f"{dv!r} in group {py(v)!r}", alpha))
            checks.append(ck.levene(samples, alpha, f"the groups of {g!r}"))
            facts["equal_variance"] = checks[-1]["passed"]
    elif kind == "paired" or (kind == "repeated" and len(prep.order["condition"]) == 2):
        facts["levels"] = "2"
        a, b = _pair(prep, q)
        if prep.measure == "binary":
            checks.append(
                ck.discordant_pairs(
                    int(((a == 1) & (b == 0)).sum()), int(((a == 0) & (b == 1)).sum())
                )
            )
        elif prep.measure == "numeric":
            checks.append(ck.shapiro(a - b, "the differences", alpha))
    elif kind == "repeated":
        facts["levels"] = "3+"
        if prep.measure == "numeric":
            w = wide(prep)
            resid = w.sub(w.mean(axis=1), axis=0).sub(w.mean(axis=0), axis=1) + w.stack().mean()
            checks.append(ck.shapiro(resid.stack(), "the residuals", alpha))
            checks.append(ck.mauchly(prep.long, prep.dv, prep.within, prep.subject, alpha))
    elif kind == "relationship":
        for c in (q.x, q.y):
            if prep.measure == "numeric":
                checks.append(ck.shapiro(df[c], repr(c), alpha))
    elif kind == "covariate":
        resid = _residuals(df, dv, [q.group], q.covariate)
        checks.append(ck.shapiro(resid, "the residuals", alpha))
        samples = {v: df.loc[df[q.group] == v, dv] for v in prep.order[q.group]}
        checks.append(ck.levene(samples, alpha, f"the groups of {q.group!r}"))
        checks.append(ck.parallel_slopes(df, dv, q.covariate, q.group, alpha))
    elif kind == "two_factors":
        resid = _residuals(df, dv, list(q.groups or []), None)
        checks.append(ck.shapiro(resid, "the residuals", alpha))
        cells = {k: s[dv] for k, s in df.groupby(list(q.groups or []), observed=True)}
        checks.append(ck.levene(cells, alpha, "the cells"))
    normal = [c for c in checks if c["name"].startswith("Normality")]
    facts["normal"] = all(c["passed"] for c in normal) if normal else prep.measure == "numeric"
    if prep.measure == "ordinal":
        facts["normal"] = False
    return checks, facts


def _pair(prep: Prepared, q: Question) -> tuple[pd.Series, pd.Series]:
    if q.kind == "paired":
        return prep.df[q.outcome], prep.df[q.paired_with]
    w = wide(prep)
    return w.iloc[:, 0], w.iloc[:, 1]


def _residuals(
    df: pd.DataFrame, dv: str, factors: Sequence[Hashable], covariate: Hashable | None
) -> NDArray[Any]:
    """Residuals of the linear model dv ~ factors (+ covariate) (least squares)."""
    import numpy as np

    cols = [np.ones(len(df))]
    if len(factors) == 2:
        key = df[factors[0]].astype(str) + "\x00" + df[factors[1]].astype(str)
    else:
        key = df[factors[0]]
    for v in list(dict.fromkeys(key))[1:]:
        cols.append((key == v).to_numpy(float))
    if covariate:
        cols.append(df[covariate].to_numpy(float))
    X = np.column_stack(cols)
    y: NDArray[np.float64] = df[dv].to_numpy(float)
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    return y - X @ beta


def _contingency(
    a: pd.Series, b: pd.Series, checks: list[dict[str, Any]], facts: dict[str, Any]
) -> None:
    import pandas as pd

    t = pd.crosstab(a, b)
    checks.append(ck.expected_counts(t))
    facts["expected_ok"] = checks[-1]["passed"]
    facts["table_2x2"] = t.shape == (2, 2)


def decide(kind: str, facts: dict[str, Any]) -> tuple[str, str]:
    """The first row of the design whose facts all hold: ``(test id, the rule)``."""
    for row in table()["designs"][kind]["rows"]:
        if all(facts.get(k) == v for k, v in row["when"].items()):
            return row["test"], table()["tests"][row["test"]]["rule"]
    raise AssistError(
        f"No test in the decision table fits this data ({', '.join(f'{k}: {v}' for k, v in facts.items())}); "
        "check the variables picked (a yes/no outcome with a covariate, for example, is not covered)"
    )


def execute(
    test: str, prep: Prepared, q: Question, post_hoc: bool = True
) -> tuple[dict[str, Any], list[str]]:
    """Run the test's lines on the prepared data; its namespace and the lines."""
    import numpy as np
    import pandas as pd
    import pingouin as pg

    lines = snippet(test, prep, q)
    if not post_hoc:  # the robust alternative: its statistic only
        lines = ["post_hoc = None" if ln.startswith("post_hoc = pg.") else ln for ln in lines]
    ns: dict[str, Any] = {"pd": pd, "pg": pg, "np": np, "df": prep.df, "long": prep.long}
    exec(helper_source(BASE_HELPERS + HELPERS[test]), ns)  # noqa: S102 - our own functions
    exec("import itertools\nfrom scipy import stats\n" + "\n".join(lines), ns)  # noqa: S102
    for key in ("statistic", "p"):
        value = ns.get(key)
        if value is None or not math.isfinite(float(value)):
            raise AssistError(
                f"The {table()['tests'][test]['name']} gave no {key} on this data; check for "
                "groups with identical values or too few observations"
            )
    return ns, lines


def _num(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, list | tuple):
        return [_num(x) for x in v]
    v = py(v)
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _records(frame: pd.DataFrame | None) -> list[dict[str, Any]] | None:
    if frame is None:
        return None
    out = []
    for rec in frame.to_dict(orient="records"):
        out.append({str(k): (_num(v) if not isinstance(v, str) else v) for k, v in rec.items()})
    return out


def assist(
    df: pd.DataFrame,
    q: Question,
    data_path: str,
    data_version: dict[str, Any] | None = None,
    qualtrics: bool = False,
    source: str | Path | None = None,
) -> dict[str, Any]:
    """The full answer: the CLI keys plus ``test_name``, ``apa`` and ``cell``. ``data_path`` is
    how the cell names the data file; ``source`` where it is now (default ``data_path``)."""
    prep = prepare(df, q)
    checks, facts = assess(prep, q)
    test, rule = decide(q.kind, facts)
    info = table()["tests"][test]
    ns, lines = execute(test, prep, q)
    effect = ns.get("effect")
    alternative = _alternative(info.get("alternative"), prep, q)
    post = ns.get("post_hoc")
    why = _why(q, prep, checks, test, rule, alternative)
    code = cell_source(
        test, info["name"], data_path, prep.code, lines, qualtrics=qualtrics, source=source
    )
    answer = {
        "test": test,
        "statistic": _num(ns["statistic"]),
        "p": _num(ns["p"]),
        "dof": _num(ns.get("dof")),
        "effect_size": None
        if effect is None
        else {
            "name": effect[0],
            "value": _num(effect[1]),
            "ci": None if effect[2] is None else [_num(effect[2]), _num(effect[3])],
            "confidence": 0.95,
        },
        "post_hoc": None
        if post is None
        else {"test": info["post_hoc"], "comparisons": _records(post)},
        "alternative": alternative,
        "checks": checks,
        "why": why,
        "code": code,
        "test_name": info["name"],
        "apa": ns["apa"],
        "cell": cell(code, test, q.to_dict(), data_version or {"path": data_path}),
    }
    out: dict[str, Any] = jsonable(answer)
    return out


def jsonable(value: Any) -> Any:
    """Plain JSON values: numpy scalars as Python ones, NaN and infinities as None."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    value = py(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _alternative(test: str | None, prep: Prepared, q: Question) -> dict[str, Any] | None:
    """The robust alternative, run on the same data when it applies."""
    if not test:
        return None
    out: dict[str, Any] = {"test": test, "name": table()["tests"][test]["name"]}
    try:
        ns, _ = execute(test, prep, q, post_hoc=False)
    except Exception as e:  # e.g. Fisher's exact test on a table larger than 2x2
        out.update(statistic=None, p=None, apa=None, note=f"not run on this data ({e})")
        return out
    out.update(statistic=_num(ns["statistic"]), p=_num(ns["p"]), apa=ns["apa"])
    return out


def _why(
    q: Question,
    prep: Prepared,
    checks: list[dict[str, Any]],
    test: str,
    rule: str,
    alternative: dict[str, Any] | None,
) -> str:
    t = table()
    design = t["designs"][q.kind]["question"]
    parts = [f"Question: {design}"]
    if prep.measure == "ordinal":
        parts.append("The outcome is ordinal (ordered categories), so a rank-based test is used.")
    for c in checks:
        parts.append(f"{c['name']}: {c['detail']}.")
    parts.append(f"Rule: {rule} → {t['tests'][test]['name']}.")
    if alternative and alternative.get("apa"):
        parts.append(f"Robust alternative: {alternative['name']}, {alternative['apa']}.")
    return " ".join(parts)
