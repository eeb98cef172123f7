"""Assumption checks on the actual data. Each is ``{name, statistic, p, passed, detail}``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from numpy.typing import ArrayLike, NDArray

#: Shapiro-Wilk is run on at most this many values (a seeded random sample beyond that)
SHAPIRO_MAX = 5000


def _check(
    name: str, statistic: float | None, p: float | None, passed: bool, detail: str
) -> dict[str, Any]:
    return {
        "name": name,
        "statistic": None if statistic is None else float(statistic),
        "p": None if p is None else float(p),
        "passed": bool(passed),
        "detail": detail,
    }


def _fmt_p(p: float) -> str:
    from .report import format_p

    return format_p(p)


def shapiro(values: ArrayLike, label: str, alpha: float) -> dict[str, Any]:
    """Shapiro-Wilk normality of ``values`` (e.g. "score in group 'a'", "the differences")."""
    import numpy as np
    from scipy import stats

    x = np.asarray(values, dtype=float)
    n = len(x)
    note = ""
    if n > SHAPIRO_MAX:
        x = np.random.default_rng(0).choice(x, SHAPIRO_MAX, replace=False)
        note = f" (on a random sample of {SHAPIRO_MAX} of {n} values)"
    if np.ptp(x) == 0:
        return _check(
            f"Normality of {label}", None, None, False, f"all {n} values are equal: not normal"
        )
    w, p = stats.shapiro(x)
    ok = p > alpha
    verdict = "consistent with a normal distribution" if ok else "not normal"
    return _check(
        f"Normality of {label}",
        w,
        p,
        ok,
        f"Shapiro-Wilk W = {w:.3f}, {_fmt_p(p)}{note}: {verdict} at alpha = {alpha:g}",
    )


def levene(samples: dict[Any, Any], alpha: float, label: str = "groups") -> dict[str, Any]:
    """Levene's test of equal variances, centred on the median (Brown-Forsythe)."""
    from scipy import stats

    stat, p = stats.levene(*samples.values(), center="median")
    if not (stat == stat and p == p):  # NaN: no spread within the groups
        return _check(
            f"Equal variances across {label}",
            None,
            None,
            False,
            "Levene cannot be computed: the values do not vary within the groups",
        )
    ok = p > alpha
    verdict = "variances similar" if ok else "variances differ"
    return _check(
        f"Equal variances across {label}",
        stat,
        p,
        ok,
        f"Levene (centre: median) W = {stat:.3f}, {_fmt_p(p)}: {verdict} at alpha = {alpha:g}",
    )


def mauchly(long: pd.DataFrame, dv: str, within: str, subject: str, alpha: float) -> dict[str, Any]:
    """Mauchly's test of sphericity (repeated measures with three or more conditions)."""
    import pingouin as pg

    res = pg.sphericity(long, dv=dv, within=within, subject=subject)
    ok = bool(res.spher)
    what = (
        "sphericity holds; no correction"
        if ok
        else "sphericity violated; the Greenhouse-Geisser correction is applied"
    )
    return _check(
        "Sphericity",
        res.W,
        res.pval,
        ok,
        f"Mauchly W = {float(res.W):.3f}, {_fmt_p(res.pval)}: {what}",
    )


def expected_counts(table: pd.DataFrame) -> dict[str, Any]:
    """Expected counts of a contingency table: none below 1 and at most 20 % below 5 (Cochran)."""
    from scipy.stats.contingency import expected_freq

    exp = expected_freq(table.to_numpy())
    low = float((exp < 5).mean())
    least = float(exp.min())
    ok = least >= 1 and low <= 0.2
    return _check(
        "Expected counts",
        least,
        None,
        ok,
        f"smallest expected count {least:.2f}; {low:.0%} of cells below 5 "
        + (
            "(large enough for the chi-square test)"
            if ok
            else "(too small for the chi-square approximation)"
        ),
    )


def discordant_pairs(b: int, c: int) -> dict[str, Any]:
    """McNemar: with fewer than 25 discordant pairs the exact binomial p is used."""
    n = b + c
    ok = n >= 25
    return _check(
        "Discordant pairs",
        n,
        None,
        ok,
        f"{b} + {c} = {n} pairs changed; "
        + ("chi-square approximation used" if ok else "fewer than 25: the exact p is used"),
    )


def parallel_slopes(
    frame: pd.DataFrame, dv: str, covariate: Any, group: Any, alpha: float
) -> dict[str, Any]:
    """ANCOVA: the covariate's slope is the same in every group (group x covariate interaction)."""
    import numpy as np
    from scipy import stats

    y = frame[dv].to_numpy(float)
    cov = frame[covariate].to_numpy(float)
    dummies = _dummies(frame[group])
    base = np.column_stack([np.ones(len(y)), cov, dummies])
    full = np.column_stack([base, dummies * cov[:, None]])
    rss0, rss1 = _rss(base, y), _rss(full, y)
    df1 = full.shape[1] - base.shape[1]
    df2 = len(y) - full.shape[1]
    F = ((rss0 - rss1) / df1) / (rss1 / df2)
    p = stats.f.sf(F, df1, df2)
    ok = p > alpha
    return _check(
        "Parallel regression slopes",
        F,
        p,
        ok,
        f"{group} x {covariate} interaction F({df1}, {df2}) = {F:.2f}, {_fmt_p(p)}: "
        + ("slopes parallel" if ok else "slopes differ between groups; interpret ANCOVA with care"),
    )


def _dummies(series: pd.Series) -> NDArray[Any]:
    import numpy as np

    cats = list(dict.fromkeys(series))
    return np.column_stack([(series == c).to_numpy(float) for c in cats[1:]])


def _rss(X: NDArray[Any], y: NDArray[Any]) -> float:
    import numpy as np

    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    r = y - X @ beta
    return float(r @ r)
