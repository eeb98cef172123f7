"""The canonical test ids on published data sets shipped with pingouin.

:data:`CASES`: test id -> (data set, question, pingouin called directly on the same rows ->
statistic, the reference the assistant must match); :func:`rows` reads a case's rows back.
"""

from __future__ import annotations

from pathlib import Path


def _pg():
    import pingouin as pg

    return pg


def _two(df, dv, g, levels=None):
    order = levels or list(dict.fromkeys(df[g]))
    return df.loc[df[g] == order[0], dv], df.loc[df[g] == order[1], dv]


def _wide(df, dv, within, subject):
    w = df.pivot(index=subject, columns=within, values=dv)
    return w[list(dict.fromkeys(df[within]))].dropna()


# test id -> (data set, question, pingouin called directly on the same rows -> statistic)
CASES = {
    "one_sample_t": (
        "anova",
        {"outcome": "Pain threshold", "mu": 40},
        lambda d: _pg().ttest(d["Pain threshold"], 40)["T"].iloc[0],
    ),
    "wilcoxon_one_sample": (
        "tips",
        {"outcome": "tip", "mu": 3},
        lambda d: _pg().wilcoxon(d["tip"] - 3)["W_val"].iloc[0],
    ),
    "t_test_ind": (
        "anova3",
        {"outcome": "Cholesterol", "group": "Risk"},
        lambda d: _pg().ttest(*_two(d, "Cholesterol", "Risk"), correction=False)["T"].iloc[0],
    ),
    "welch_t": (
        "penguins",
        {"outcome": "bill_length_mm", "group": "species", "levels": ["Adelie", "Chinstrap"]},
        lambda d: (
            _pg()
            .ttest(
                *_two(d.dropna(subset=["bill_length_mm"]), "bill_length_mm", "species"),
                correction=True,
            )["T"]
            .iloc[0]
        ),
    ),
    "mann_whitney": (
        "tips",
        {"outcome": "tip", "group": "sex"},
        lambda d: _pg().mwu(*_two(d, "tip", "sex"))["U_val"].iloc[0],
    ),
    "t_test_paired": (
        "blandaltman",
        {"outcome": "A", "paired_with": "B"},
        lambda d: _pg().ttest(d["A"], d["B"], paired=True)["T"].iloc[0],
    ),
    "wilcoxon": (
        "rm_anova",
        {
            "outcome": "DesireToKill",
            "within": "Frighteningness",
            "subject": "Subject",
            "filter": "Disgustingness == 'High'",
        },
        lambda d: (
            _pg()
            .wilcoxon(*_wide(d, "DesireToKill", "Frighteningness", "Subject").T.to_numpy())["W_val"]
            .iloc[0]
        ),
    ),
    "one_way_anova": (
        "anova",
        {"outcome": "Pain threshold", "group": "Hair color"},
        lambda d: _pg().anova(data=d, dv="Pain threshold", between="Hair color")["F"].iloc[0],
    ),
    "welch_anova": (
        "penguins",
        {"outcome": "bill_depth_mm", "group": "species", "filter": "sex == 'female'"},
        lambda d: _pg().welch_anova(data=d, dv="bill_depth_mm", between="species")["F"].iloc[0],
    ),
    "kruskal": (
        "tips",
        {"outcome": "total_bill", "group": "day"},
        lambda d: _pg().kruskal(data=d, dv="total_bill", between="day")["H"].iloc[0],
    ),
    "rm_anova": (
        "rm_anova_wide",
        {"within_columns": ["Before", "1 week", "2 week", "3 week"]},
        lambda d: _pg().rm_anova(data=d.dropna())["F"].iloc[0],
    ),
    "friedman": (
        "pairwise_corr",
        {"within_columns": ["Neuroticism", "Extraversion", "Openness"]},
        lambda d: _pg().friedman(data=d[["Neuroticism", "Extraversion", "Openness"]])["Q"].iloc[0],
    ),
    "mcnemar": (
        "chi2_mcnemar",
        {"outcome": "treatment_X", "paired_with": "treatment_Y"},
        lambda d: _pg().chi2_mcnemar(d, "treatment_X", "treatment_Y")[1]["chi2"].iloc[0],
    ),
    "cochran_q": (
        "cochran",
        {"outcome": "Energetic", "within": "Time", "subject": "Subject"},
        lambda d: (
            _pg().cochran(data=d, dv="Energetic", within="Time", subject="Subject")["Q"].iloc[0]
        ),
    ),
    "chi2_independence": (
        "chi2_independence",
        {"x": "sex", "y": "target"},
        lambda d: _pg().chi2_independence(d, x="sex", y="target")[2]["chi2"].iloc[0],
    ),
    "fisher_exact": (
        "chi2_independence",
        {"x": "sex", "y": "target", "filter": "age < 45"},
        None,  # pingouin has no Fisher's exact test: scipy is the reference (test_catalogue)
    ),
    "pearson": (
        "partial_corr",
        {"x": "x", "y": "y"},
        lambda d: _pg().corr(d["x"], d["y"])["r"].iloc[0],
    ),
    "spearman": (
        "tips",
        {"x": "total_bill", "y": "tip"},
        lambda d: _pg().corr(d["total_bill"], d["tip"], method="spearman")["r"].iloc[0],
    ),
    "ancova": (
        "ancova",
        {"outcome": "Scores", "covariate": "Income", "group": "Method"},
        lambda d: _pg().ancova(data=d, dv="Scores", covar="Income", between="Method")["F"].iloc[0],
    ),
    "two_way_anova": (
        "anova2",
        {"outcome": "Yield", "groups": ["Blend", "Crop"]},
        lambda d: _pg().anova(data=d, dv="Yield", between=["Blend", "Crop"])["F"].iloc[2],
    ),
}


def rows(test_id: str, data_dir: Path):
    """The rows of the case's data set the test uses (filter applied), read back from CSV."""
    import pandas as pd

    name, q, _ = CASES[test_id]
    d = pd.read_csv(data_dir / f"{name}.csv")
    if q.get("filter"):
        d = d.query(q["filter"])
    if q.get("levels"):
        d = d[d[q["group"]].isin(q["levels"])]
    return d
