"""Confidence intervals of effect sizes that pingouin does not give. Each function imports what it
needs, so the generated cell can embed its source and run without Datadive."""

from __future__ import annotations


def eta_squared_ci(F, df1, df2, confidence=0.95):
    """CI of partial eta squared by inverting the noncentral F distribution (Steiger 2004)."""
    from scipy import optimize, stats

    tail = (1 - confidence) / 2

    def bound(q):
        f = lambda nc: stats.ncf.cdf(F, df1, df2, nc) - q  # noqa: E731
        if f(0) < 0:
            return 0.0
        hi = max(10.0, F * df1 * 4)
        while f(hi) > 0:
            hi *= 2
        return optimize.brentq(f, 0, hi)

    lo, hi = bound(1 - tail), bound(tail)
    n = df1 + df2 + 1
    return lo / (lo + n), hi / (hi + n)


def cramers_v_ci(chi2, n, k, dof, confidence=0.95):
    """CI of Cramér's V by inverting the noncentral chi-square distribution; ``k`` is the smaller
    of the table's numbers of rows and columns."""
    from scipy import optimize, stats

    tail = (1 - confidence) / 2

    def bound(q):
        f = lambda nc: stats.ncx2.cdf(chi2, dof, nc) - q  # noqa: E731
        if f(0) < 0:
            return 0.0
        hi = max(10.0, chi2 * 4)
        while f(hi) > 0:
            hi *= 2
        return optimize.brentq(f, 0, hi)

    lo, hi = bound(1 - tail), bound(tail)
    return (lo / (n * (k - 1))) ** 0.5, (hi / (n * (k - 1))) ** 0.5


def rank_biserial_ci(r, n1, n2=None, confidence=0.95):
    """CI of the rank-biserial correlation through Fisher's z; ``n2`` None for one sample or
    paired data (standard errors as in Kerby 2014 / the R package effectsize)."""
    import math

    from scipy import stats

    if n2 is None:
        se = math.sqrt((2 * n1**3 + 3 * n1**2 + n1) / 6) / ((n1**2 + n1) / 2)
    else:
        se = math.sqrt((n1 + n2 + 1) / (3 * n1 * n2))
    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    r = max(min(r, 0.9999999), -0.9999999)
    return math.tanh(math.atanh(r) - z * se), math.tanh(math.atanh(r) + z * se)
