"""Every canonical test id on published data shipped with pingouin: the assistant picks the
textbook test, its statistic matches pingouin and an independent computation, and its cell
reproduces the same result in a clean kernel."""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from assistant_cases import CASES, rows
from scipy import stats

from datadive_server_ext.assistant import ANSWER_KEYS, table

ALL_IDS = [
    "one_sample_t",
    "wilcoxon_one_sample",
    "t_test_ind",
    "welch_t",
    "mann_whitney",
    "t_test_paired",
    "wilcoxon",
    "one_way_anova",
    "welch_anova",
    "kruskal",
    "rm_anova",
    "friedman",
    "mcnemar",
    "cochran_q",
    "chi2_independence",
    "fisher_exact",
    "pearson",
    "spearman",
    "ancova",
    "two_way_anova",
]


def close(a, b, rel=1e-3):
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=1e-12)


def test_the_decision_table_covers_every_canonical_test():
    t = table()
    assert sorted(t["tests"]) == sorted(ALL_IDS)
    reachable = {row["test"] for d in t["designs"].values() for row in d["rows"]}
    assert reachable == set(ALL_IDS)
    for test_id, info in t["tests"].items():
        assert info["name"] and info["rule"], test_id
        assert info["alternative"] in (None, *ALL_IDS), test_id
    assert set(CASES) == set(ALL_IDS)


@pytest.mark.parametrize("test_id", ALL_IDS)
def test_picks_the_textbook_test_and_matches_pingouin(answers, data_dir, test_id):
    answer = answers[test_id]
    assert answer["test"] == test_id, answer["why"]
    assert set(ANSWER_KEYS) <= set(answer)
    _, _, direct = CASES[test_id]
    if direct is None:  # Fisher: scipy is the reference
        d = rows(test_id, data_dir)
        expected = stats.fisher_exact(np.array(_crosstab(d, "sex", "target")))[0]
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = direct(rows(test_id, data_dir))
    assert close(answer["statistic"], expected), (answer["statistic"], expected)
    assert 0 <= answer["p"] <= 1
    assert answer["apa"] and "nan" not in answer["apa"].lower()
    assert answer["test_name"] in answer["why"]
    for check in answer["checks"]:
        assert set(check) == {"name", "statistic", "p", "passed", "detail"}


def _crosstab(d, a, b):
    import pandas as pd

    return pd.crosstab(d[a], d[b]).to_numpy()


def _independent(test_id: str, data_dir: Path) -> float:
    """The statistic by a second library or the textbook formula (not pingouin)."""
    d = rows(test_id, data_dir)
    if test_id == "one_sample_t":
        x = d["Pain threshold"].to_numpy(float)
        return (x.mean() - 40) / (x.std(ddof=1) / math.sqrt(len(x)))  # textbook formula
    if test_id == "wilcoxon_one_sample":
        return stats.wilcoxon(d["tip"] - 3).statistic
    if test_id in ("t_test_ind", "welch_t"):
        q = CASES[test_id][1]
        levels = q.get("levels") or list(dict.fromkeys(d[q["group"]]))
        dd = d.dropna(subset=[q["outcome"]])
        a, b = (dd.loc[dd[q["group"]] == v, q["outcome"]].to_numpy(float) for v in levels[:2])
        if test_id == "t_test_ind":  # pooled-variance formula
            sp = ((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1)) / (
                len(a) + len(b) - 2
            )
            return (a.mean() - b.mean()) / math.sqrt(sp * (1 / len(a) + 1 / len(b)))
        return stats.ttest_ind(a, b, equal_var=False).statistic
    if test_id == "mann_whitney":
        a, b = (d.loc[d["sex"] == v, "tip"] for v in dict.fromkeys(d["sex"]))
        return stats.mannwhitneyu(a, b).statistic
    if test_id == "t_test_paired":
        return stats.ttest_rel(d["A"], d["B"]).statistic
    if test_id == "wilcoxon":
        w = d.pivot(index="Subject", columns="Frighteningness", values="DesireToKill").dropna()
        return stats.wilcoxon(w["High"], w["Low"]).statistic
    if test_id in ("one_way_anova", "welch_anova", "kruskal"):
        dv, g = {
            "one_way_anova": ("Pain threshold", "Hair color"),
            "welch_anova": ("bill_depth_mm", "species"),
            "kruskal": ("total_bill", "day"),
        }[test_id]
        d = d.dropna(subset=[dv, g])
        samples = [s[dv].to_numpy(float) for _, s in d.groupby(g)]
        if test_id == "kruskal":
            return stats.kruskal(*samples).statistic
        return stats.f_oneway(*samples, equal_var=test_id == "one_way_anova").statistic
    if test_id == "rm_anova":
        from statsmodels.stats.anova import AnovaRM

        long = d.dropna().reset_index().melt(id_vars="index", var_name="t", value_name="v")
        return AnovaRM(long, "v", "index", within=["t"]).fit().anova_table["F Value"].iloc[0]
    if test_id == "friedman":
        return stats.friedmanchisquare(d["Neuroticism"], d["Extraversion"], d["Openness"]).statistic
    if test_id == "mcnemar":
        from statsmodels.stats.contingency_tables import mcnemar

        t = _crosstab(d, "treatment_X", "treatment_Y")
        return mcnemar(t, exact=False, correction=True).statistic
    if test_id == "cochran_q":
        from statsmodels.stats.contingency_tables import cochrans_q

        w = d.pivot(index="Subject", columns="Time", values="Energetic")
        return cochrans_q(w.to_numpy()).statistic
    if test_id == "chi2_independence":
        return stats.chi2_contingency(_crosstab(d, "sex", "target"))[0]
    if test_id == "fisher_exact":
        (a, b), (c, e) = _crosstab(d, "sex", "target")
        return (a * e) / (b * c)  # sample odds ratio
    if test_id == "pearson":
        return stats.pearsonr(d["x"], d["y"]).statistic
    if test_id == "spearman":
        return stats.spearmanr(d["total_bill"], d["tip"]).statistic
    import statsmodels.api as sm
    from statsmodels.formula.api import ols

    if test_id == "ancova":
        m = ols("Scores ~ C(Method) + Income", data=d).fit()
        return sm.stats.anova_lm(m, typ=2).loc["C(Method)", "F"]
    m = ols("Yield ~ C(Blend) * C(Crop)", data=d).fit()
    return sm.stats.anova_lm(m, typ=2).loc["C(Blend):C(Crop)", "F"]


@pytest.mark.parametrize("test_id", ALL_IDS)
def test_statistic_matches_an_independent_computation(answers, data_dir, test_id):
    expected = _independent(test_id, data_dir)
    assert close(answers[test_id]["statistic"], expected), (answers[test_id]["statistic"], expected)


def test_the_cells_reproduce_the_results_in_a_clean_kernel(answers, clean_kernel):
    """All 20 cells, one after another in one kernel: each prints the assistant's APA line and
    leaves the same statistic; none imports Datadive."""
    for test_id in ALL_IDS:
        answer = answers[test_id]
        source = answer["cell"]["source"]
        assert source == answer["code"]
        assert not re.search(r"^\s*(import|from)\s+datadive", source, re.M), source
        out = clean_kernel.run(source, timeout=120)
        assert out.error is None, (test_id, out.error)
        printed = out.stdout.strip().splitlines()
        assert printed[-1] == answer["apa"], (test_id, printed[-1], answer["apa"])
        value = clean_kernel.run("print(repr(float(statistic)))").stdout.strip()
        assert close(float(value), answer["statistic"], rel=1e-9), (test_id, value)
    loaded = clean_kernel.run(
        "import sys; print(sorted(m for m in sys.modules if 'datadive' in m))"
    )
    assert loaded.stdout.strip() == "[]"


def test_cell_metadata_records_inputs_and_data_version(answers, data_dir):
    import hashlib

    meta = answers["welch_t"]["cell"]["metadata"]["datadive"]["assistant"]
    assert meta["test"] == "welch_t"
    assert meta["inputs"]["levels"] == ["Adelie", "Chinstrap"]
    assert meta["inputs"]["group"] == "species"
    raw = (data_dir / "penguins.csv").read_bytes()
    assert meta["data"]["sha256"] == hashlib.sha256(raw).hexdigest()
    assert meta["data"]["size"] == len(raw)
    assert meta["data"]["path"] == "penguins.csv" and meta["data"]["mtime"]


def test_apa_lines_of_the_textbook_examples(answers):
    assert answers["one_sample_t"]["apa"] == "t(18) = 2.98, p = .008, d = 0.68, 95% CI [0.15, 1.22]"
    assert answers["one_way_anova"]["apa"].startswith("F(3, 15) = 6.79, p = .004, ηp² = .58")
    assert answers["chi2_independence"]["apa"].startswith("χ²(1, N = 303) = 22.72, p < .001")
    assert answers["welch_t"]["apa"].startswith("t(106.97) = -21.86, p < .001")
    rm = answers["rm_anova"]
    assert [c["name"] for c in rm["checks"]] == ["Normality of the residuals", "Sphericity"]
    assert "Mauchly" in rm["checks"][1]["detail"]
    lev = answers["one_way_anova"]["checks"][-1]
    assert "centre: median" in lev["detail"] and lev["passed"]
    ph = answers["one_way_anova"]["post_hoc"]
    assert ph["test"].startswith("Tukey") and len(ph["comparisons"]) == 6
    alt = answers["one_way_anova"]["alternative"]
    assert alt["test"] == "welch_anova" and alt["statistic"] > 0 and alt["apa"]
