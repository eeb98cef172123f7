"""The code of each test, written once: the assistant runs these lines on the prepared data and
the inserted cell contains the same lines, so the cell reproduces the statistic exactly.

Every snippet leaves ``statistic``, ``p``, ``dof`` (number, list or None), ``effect``
(``(name, value, ci_low, ci_high)`` or None), ``post_hoc`` (DataFrame or None), ``res`` (the full
table) and ``apa`` (the APA line) in the namespace and prints the table and the APA line.
"""

from __future__ import annotations

from typing import Any

from .design import Question
from .prepare import Prepared, py

#: helpers each test's code embeds (self-contained functions from report.py / effects.py)
HELPERS = {
    "one_sample_t": [],
    "wilcoxon_one_sample": ["rank_biserial_ci"],
    "t_test_ind": [],
    "welch_t": [],
    "mann_whitney": ["rank_biserial_ci"],
    "t_test_paired": [],
    "wilcoxon": ["rank_biserial_ci"],
    "one_way_anova": ["eta_squared_ci"],
    "welch_anova": [],
    "kruskal": [],
    "rm_anova": [],
    "friedman": [],
    "mcnemar": [],
    "cochran_q": [],
    "chi2_independence": ["cramers_v_ci"],
    "fisher_exact": [],
    "pearson": [],
    "spearman": [],
    "ancova": ["eta_squared_ci"],
    "two_way_anova": ["eta_squared_ci"],
}

IMPORTS = {
    "fisher_exact": ["from scipy import stats"],
    "mcnemar": ["import numpy as np"],
    "cochran_q": ["import itertools"],
}


def _lit(v: Any) -> str:
    return repr(py(v))


def _two_samples(prep: Prepared, q: Question) -> list[str]:
    """``a`` and ``b``: the two samples compared (independent, paired, or two conditions)."""
    if q.kind == "independent_groups":
        g, dv = q.group, prep.dv
        va, vb = prep.order[g][:2]
        return [
            f"a = df.loc[df[{g!r}] == {_lit(va)}, {dv!r}]",
            f"b = df.loc[df[{g!r}] == {_lit(vb)}, {dv!r}]",
        ]
    if q.kind == "paired":
        return [f"a = df[{q.outcome!r}]", f"b = df[{q.paired_with!r}]"]
    c1, c2 = prep.order["condition"][:2]
    return [
        f"w = long.pivot(index={prep.subject!r}, columns={prep.within!r}, values={prep.dv!r})",
        f"a, b = w[{_lit(c1)}], w[{_lit(c2)}]",
    ]


APA_T = "t({}) = {}, {}, d = {}, 95% CI [{}, {}]"
APA_F = "F({}, {}) = {}, {}, ηp² = {}, 95% CI [{}, {}]"
APA_RANK = "{} = {}, {}, r = {}, 95% CI [{}, {}]"


def snippet(test: str, prep: Prepared, q: Question) -> list[str]:
    """The lines of ``test`` on the prepared ``df`` (and ``long`` for repeated measures)."""
    dv, alpha = prep.dv, q.alpha
    if test in ("one_sample_t", "wilcoxon_one_sample"):
        lines = [f"x = df[{dv!r}]"]
        if test == "one_sample_t":
            return lines + [
                f"res = pg.ttest(x, {q.mu!r})",
                *_t_tail("len(x)", "1", paired=True),
            ]
        return lines + [
            f"res = pg.wilcoxon(x - {q.mu!r})",
            *_rank_tail("W", "W_val", "len(x)", None),
        ]
    if test in ("t_test_ind", "welch_t"):
        return _two_samples(prep, q) + [
            f"res = pg.ttest(a, b, correction={test == 'welch_t'})",
            *_t_tail("len(a)", "len(b)", paired=False),
        ]
    if test == "t_test_paired":
        return _two_samples(prep, q) + [
            "res = pg.ttest(a, b, paired=True)",
            *_t_tail("len(a)", "len(b)", paired=True),
        ]
    if test == "mann_whitney":
        return _two_samples(prep, q) + [
            "res = pg.mwu(a, b)",
            *_rank_tail("U", "U_val", "len(a)", "len(b)"),
        ]
    if test == "wilcoxon":
        return _two_samples(prep, q) + [
            "res = pg.wilcoxon(a, b)",
            *_rank_tail("W", "W_val", "len(a)", None),
        ]
    if test in ("one_way_anova", "welch_anova"):
        g = q.group
        if test == "one_way_anova":
            lines = [
                f"res = pg.anova(data=df, dv={dv!r}, between={g!r}, detailed=True)",
                "r = res.iloc[0]",
                "statistic, p, dof = r['F'], r['p_unc'], [r['DF'], res.iloc[1]['DF']]",
                f"post_hoc = pg.pairwise_tukey(data=df, dv={dv!r}, between={g!r})",
            ]
        else:
            lines = [
                f"res = pg.welch_anova(data=df, dv={dv!r}, between={g!r})",
                "r = res.iloc[0]",
                "statistic, p, dof = r['F'], r['p_unc'], [r['ddof1'], r['ddof2']]",
                f"post_hoc = pg.pairwise_gameshowell(data=df, dv={dv!r}, between={g!r})",
                "effect = ('partial eta squared', r['np2'], None, None)",
                "apa = 'F({}, {}) = {}, {}, ηp² = {}'.format(apa_df(dof[0]), apa_df(dof[1]), "
                "apa_num(statistic), apa_p(p), apa_num(effect[1], True))",
            ]
            return lines
        return lines + _eta_tail()
    if test == "kruskal":
        g = q.group
        return [
            f"res = pg.kruskal(data=df, dv={dv!r}, between={g!r})",
            "r = res.iloc[0]",
            "statistic, p, dof = r['H'], r['p_unc'], r['ddof1']",
            "effect = ('epsilon squared', statistic / (len(df) - 1), None, None)",
            f"post_hoc = pg.pairwise_tests(data=df, dv={dv!r}, between={g!r}, parametric=False, "
            "padjust='holm')",
            "apa = 'H({}) = {}, {}, ε² = {}'.format(apa_df(dof), apa_num(statistic), apa_p(p), "
            "apa_num(effect[1], True))",
        ]
    if test == "rm_anova":
        return [
            f"res = pg.rm_anova(data=long, dv={dv!r}, within={prep.within!r}, "
            f"subject={prep.subject!r}, correction=True)",
            "r = res.iloc[0]",
            f"corrected = bool(r['p_spher'] < {alpha!r})  # Mauchly: sphericity violated",
            "eps = r['eps'] if corrected else 1.0",
            "statistic = r['F']",
            "p = r['p_GG_corr'] if corrected else r['p_unc']",
            "dof = [r['ddof1'] * eps, r['ddof2'] * eps]",
            "effect = ('generalized eta squared', r['ng2'], None, None)",
            f"post_hoc = pg.pairwise_tests(data=long, dv={dv!r}, within={prep.within!r}, "
            f"subject={prep.subject!r}, padjust='holm')",
            "apa = 'F({}, {}) = {}, {}, ηG² = {}'.format(apa_df(dof[0]), apa_df(dof[1]), "
            "apa_num(statistic), apa_p(p), apa_num(effect[1], True))",
            "apa += ' (Greenhouse-Geisser corrected)' if corrected else ''",
        ]
    if test == "friedman":
        return [
            f"res = pg.friedman(data=long, dv={dv!r}, within={prep.within!r}, "
            f"subject={prep.subject!r})",
            "r = res.iloc[0]",
            "statistic, p, dof = r['Q'], r['p_unc'], r['ddof1']",
            "effect = (\"Kendall's W\", r['W'], None, None)",
            f"post_hoc = pg.pairwise_tests(data=long, dv={dv!r}, within={prep.within!r}, "
            f"subject={prep.subject!r}, parametric=False, padjust='holm')",
            "apa = 'χ²({}, N = {}) = {}, {}, W = {}'.format(apa_df(dof), long["
            f"{prep.subject!r}].nunique(), apa_num(statistic), apa_p(p), apa_num(effect[1], True))",
        ]
    if test == "mcnemar":
        if q.kind == "paired":
            frame, x, y = "df", q.outcome, q.paired_with
            lines = []
        elif q.within_columns:
            frame, (x, y) = "df", q.within_columns[:2]
            lines = []
        else:
            frame = "w"
            c1, c2 = prep.order["condition"][:2]
            x, y = py(c1), py(c2)
            lines = [
                f"w = long.pivot(index={prep.subject!r}, columns={prep.within!r}, "
                f"values={prep.dv!r})"
            ]
        return lines + [
            f"observed, res = pg.chi2_mcnemar({frame}, {x!r}, {y!r})",
            "r = res.iloc[0]",
            "b, c = observed.loc[1, 0], observed.loc[0, 1]  # the pairs that changed",
            "exact = b + c < 25  # few discordant pairs: exact binomial p",
            "statistic, p, dof = r['chi2'], (r['p_exact'] if exact else r['p_approx']), r['dof']",
            "if b > 0 and c > 0:",
            "    se = np.sqrt(1 / b + 1 / c)",
            "    effect = ('odds ratio', b / c, np.exp(np.log(b / c) - 1.959964 * se), "
            "np.exp(np.log(b / c) + 1.959964 * se))",
            "else:",
            "    effect = None",
            "post_hoc = None",
            f"apa = 'χ²({{}}, N = {{}}) = {{}}, {{}}'.format(apa_df(dof), len({frame}), "
            "apa_num(statistic), apa_p(p)) + (' (exact)' if exact else '')",
            "if effect:",
            "    apa += ', OR = {}, 95% CI [{}, {}]'.format(*(apa_num(v) for v in effect[1:]))",
        ]
    if test == "cochran_q":
        return [
            f"res = pg.cochran(data=long, dv={dv!r}, within={prep.within!r}, "
            f"subject={prep.subject!r})",
            "r = res.iloc[0]",
            "statistic, p, dof = r['Q'], r['p_unc'], r['dof']",
            "effect = None",
            f"w = long.pivot(index={prep.subject!r}, columns={prep.within!r}, values={dv!r})",
            "pairs = list(itertools.combinations(w.columns, 2))",
            "raw = [pg.chi2_mcnemar(w, x, y)[1].iloc[0]['p_exact'] for x, y in pairs]",
            "post_hoc = pd.DataFrame({'A': [x for x, _ in pairs], 'B': [y for _, y in pairs], "
            "'p_unc': raw, 'p_holm': pg.multicomp(raw, method='holm')[1]})",
            "apa = 'Q({}) = {}, {}'.format(apa_df(dof), apa_num(statistic), apa_p(p))",
        ]
    if test in ("chi2_independence", "fisher_exact"):
        a, b = (q.x, q.y) if q.kind == "relationship" else (q.outcome, q.group)
        if test == "chi2_independence":
            return [
                f"expected, observed, res = pg.chi2_independence(df, x={a!r}, y={b!r})",
                "r = res[res['test'] == 'pearson'].iloc[0]  # Yates-corrected on a 2x2 table",
                "statistic, p, dof = r['chi2'], r['pval'], r['dof']",
                "lo, hi = cramers_v_ci(statistic, len(df), min(observed.shape), dof)",
                "effect = (\"Cramér's V\", r['cramer'], lo, hi)",
                "post_hoc = None",
                "apa = 'χ²({}, N = {}) = {}, {}, V = {}, 95% CI [{}, {}]'.format(apa_df(dof), "
                "len(df), apa_num(statistic), apa_p(p), apa_num(effect[1], True), "
                "apa_num(lo, True), apa_num(hi, True))",
            ]
        return [
            f"observed = pd.crosstab(df[{a!r}], df[{b!r}])",
            "fisher = stats.fisher_exact(observed)",
            "res = observed  # the table shown",
            "statistic, p, dof = fisher.statistic, fisher.pvalue, None",
            "ci = stats.contingency.odds_ratio(observed.to_numpy(), kind='sample')"
            ".confidence_interval()",
            "effect = ('odds ratio', statistic, ci.low, ci.high)",
            "post_hoc = None",
            "apa = 'Fisher\\'s exact test, N = {}: OR = {}, 95% CI [{}, {}], {}'.format(len(df), "
            "apa_num(statistic), apa_num(ci.low), apa_num(ci.high), apa_p(p))",
        ]
    if test in ("pearson", "spearman"):
        sym = "r" if test == "pearson" else "rs"
        return [
            f"res = pg.corr(df[{q.x!r}], df[{q.y!r}], method={test!r})",
            "r = res.iloc[0]",
            "statistic, p, dof = r['r'], r['p_val'], r['n'] - 2",
            "lo, hi = r['CI95']",
            f"effect = ({sym!r}, statistic, lo, hi)",
            "post_hoc = None",
            f"apa = '{sym}({{}}) = {{}}, {{}}, 95% CI [{{}}, {{}}]'.format(apa_df(dof), "
            "apa_num(statistic, True), apa_p(p), apa_num(lo, True), apa_num(hi, True))",
        ]
    if test == "ancova":
        return [
            f"res = pg.ancova(data=df, dv={dv!r}, covar={q.covariate!r}, between={q.group!r})",
            "r = res.iloc[0]",
            "statistic, p, dof = r['F'], r['p_unc'], [r['DF'], res.iloc[-1]['DF']]",
            "post_hoc = None",
            *_eta_tail(),
        ]
    if test == "two_way_anova":
        fa, fb = q.groups or []
        return [
            f"res = pg.anova(data=df, dv={dv!r}, between=[{fa!r}, {fb!r}], detailed=True)",
            "df2 = res.iloc[-1]['DF']",
            "r = res.iloc[2]  # the interaction is interpreted first",
            "statistic, p, dof = r['F'], r['p_unc'], [r['DF'], df2]",
            "lo, hi = eta_squared_ci(statistic, dof[0], dof[1])",
            "effect = ('partial eta squared', r['np2'], lo, hi)",
            "post_hoc = None",
            "apa = '; '.join('{}: F({}, {}) = {}, {}, ηp² = {}'.format(t['Source'], "
            "apa_df(t['DF']), apa_df(df2), apa_num(t['F']), apa_p(t['p_unc']), "
            "apa_num(t['np2'], True)) for _, t in res.iloc[:3].iterrows())",
        ]
    raise ValueError(f"unknown test {test!r}")


def _t_tail(nx: str, ny: str, paired: bool) -> list[str]:
    return [
        "r = res.iloc[0]",
        "statistic, p, dof = r['T'], r['p_val'], r['dof']",
        "d = abs(float(r['cohen_d'])) * (1 if statistic >= 0 else -1)  # d takes t's sign",
        f"lo, hi = pg.compute_esci(stat=d, nx={nx}, ny={ny}, paired={paired}, "
        "eftype='cohen', decimals=6)",
        'effect = ("Cohen\'s d", d, lo, hi)',
        "post_hoc = None",
        f"apa = {APA_T!r}.format(apa_df(dof), apa_num(statistic), apa_p(p), apa_num(effect[1]), "
        "apa_num(lo), apa_num(hi))",
    ]


def _rank_tail(sym: str, col: str, n1: str, n2: str | None) -> list[str]:
    return [
        "r = res.iloc[0]",
        f"statistic, p, dof = r[{col!r}], r['p_val'], None",
        f"lo, hi = rank_biserial_ci(r['RBC'], {n1}, {n2})",
        "effect = ('rank-biserial r', r['RBC'], lo, hi)",
        "post_hoc = None",
        f"apa = {APA_RANK!r}.format({sym!r}, apa_num(statistic), apa_p(p), "
        "apa_num(effect[1], True), apa_num(lo, True), apa_num(hi, True))",
    ]


def _eta_tail() -> list[str]:
    return [
        "lo, hi = eta_squared_ci(statistic, dof[0], dof[1])",
        "effect = ('partial eta squared', r['np2'], lo, hi)",
        f"apa = {APA_F!r}.format(apa_df(dof[0]), apa_df(dof[1]), apa_num(statistic), apa_p(p), "
        "apa_num(effect[1], True), apa_num(lo, True), apa_num(hi, True))",
    ]
