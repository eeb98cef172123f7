"""Each option changes the answer; bad input gets a message that says what to do (never NaN);
p is never printed as 0; a written cell is re-checked against changed data."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pingouin as pg
import pytest

from datadive_server_ext.assistant import (
    AssistError,
    Question,
    assist,
    assist_file,
    format_p,
    recheck,
)
from datadive_server_ext.assistant.report import apa_line


def ask(df, **q):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return assist(df, Question.from_dict(q), "data.csv")


def error(df, **q) -> str:
    with pytest.raises(AssistError) as e:
        ask(df, **q)
    return str(e.value)


@pytest.fixture(scope="module")
def penguins():
    return pg.read_dataset("penguins")


def test_filter_mu_levels_and_alpha_each_change_the_answer(penguins):
    hair = pg.read_dataset("anova")
    full = ask(hair, outcome="Pain threshold", group="Hair color")
    part = ask(hair, outcome="Pain threshold", group="Hair color", filter="Subject != 1")
    assert part["statistic"] != full["statistic"]
    assert "df = df.query('Subject != 1', engine='python')" in part["code"]
    a = ask(hair, outcome="Pain threshold", mu=40)
    b = ask(hair, outcome="Pain threshold", mu=50)
    assert a["statistic"] > 0 > b["statistic"]
    three = ask(penguins, outcome="bill_length_mm", group="species")
    two = ask(penguins, outcome="bill_length_mm", group="species", levels=["Adelie", "Chinstrap"])
    assert (three["test"], two["test"]) == ("kruskal", "welch_t")
    # Adelie's body mass: Shapiro p = .032, Levene p = .006
    strict = ask(penguins, outcome="body_mass_g", group="species")
    loose = ask(penguins, outcome="body_mass_g", group="species", alpha=0.01)
    assert (strict["test"], loose["test"]) == ("kruskal", "welch_anova")


def test_level_picks_the_category_of_interest():
    df = pd.DataFrame(
        {
            "before": ["yes"] * 20 + ["no"] * 20 + ["maybe"] * 20,
            "after": ["yes"] * 18 + ["no"] * 2 + ["yes"] * 10 + ["no"] * 10 + ["maybe", "yes"] * 10,
        }
    )
    assert "pick the category of interest" in error(df, outcome="before", paired_with="after")
    yes = ask(df, outcome="before", paired_with="after", level="yes")
    no = ask(df, outcome="before", paired_with="after", level="no")
    assert yes["test"] == no["test"] == "mcnemar"
    # yes: 2 left it, 20 took it up; no: 10 left it, 2 took it up
    assert yes["statistic"] == pytest.approx((18 - 1) ** 2 / 22)
    assert no["statistic"] == pytest.approx((8 - 1) ** 2 / 12)
    assert "== 'yes').astype(int)" in yes["code"]
    assert "did you mean 'yes'?" in error(df, outcome="before", paired_with="after", level="Yes")


def test_long_and_wide_repeated_measures_agree():
    wide = pg.read_dataset("rm_anova_wide").dropna()
    long = wide.reset_index().melt(id_vars="index", var_name="week", value_name="score")
    a = ask(wide, within_columns=list(wide.columns))
    b = ask(long, outcome="score", within="week", subject="index")
    assert a["test"] == b["test"] == "rm_anova"
    assert a["statistic"] == pytest.approx(b["statistic"], rel=1e-9)


def test_an_ordinal_outcome_gets_a_rank_test():
    rng = np.random.default_rng(1)
    answers = pd.Categorical(
        rng.choice(["disagree", "neutral", "agree"], 60),
        categories=["disagree", "neutral", "agree"],
        ordered=True,
    )
    df = pd.DataFrame({"item": answers, "group": ["a", "b"] * 30})
    out = ask(df, outcome="item", group="group")
    assert out["test"] == "mann_whitney" and "ordinal" in out["why"]


def test_unknown_values_and_columns_get_a_hint(penguins):
    msg = error(penguins, outcome="bill_length_mm", group="species", levels=["adelie", "Gentoo"])
    assert "'adelie' is not a value of 'species'" in msg and "did you mean 'Adelie'?" in msg
    msg = error(penguins, outcome="Bill_length_mm", group="species")
    assert "No column 'Bill_length_mm'" in msg and "did you mean 'bill_length_mm'?" in msg
    msg = error(penguins, outcome="bill_length_mm", group="species", levels=["Emperor", "Gentoo"])
    assert "the values are 'Adelie', 'Chinstrap', 'Gentoo'" in msg


def test_tiny_groups_constant_and_missing_columns_are_explained():
    df = pd.DataFrame(
        {
            "score": [1.0, 2.5, 3.1, 4.2, 5.3, 6.1, 7.7],
            "group": ["a", "a", "a", "b", "b", "b", "c"],
            "same": [3] * 7,
            "empty": [np.nan] * 7,
            "age": ["20", "31", "twenty", "44", "52", "n/a", "19"],
        }
    )
    msg = error(df, outcome="score", group="group")
    assert "Group 'c' of 'group' has only 1 observation(s)" in msg and "at least 3" in msg
    msg = error(df, outcome="same", group="group", levels=["a", "b"])
    assert "'same' has the same value (3) in every row" in msg
    assert "'empty' has no values (all missing)" in error(df, outcome="empty", mu=1)
    msg = error(df, outcome="age", mu=30)
    assert "'age' holds text (e.g. 'twenty', 'n/a')" in msg and "needs numbers" in msg
    assert "No rows are left after the filter" in error(df, outcome="score", filter="score > 100")
    assert "could not be applied" in error(df, outcome="score", filter="score >>> 2")
    assert "only one value ('a')" in error(df, outcome="score", group="group", levels=["a"])
    msg = error(df, outcome="score", group="score")
    assert "used as both outcome and group" in msg


@pytest.mark.parametrize(
    "bad, says",
    [
        ({"outcome": "a", "group": "b", "x": "c", "y": "d"}, "Choose one design"),
        ({"outcome": "y", "within": "t"}, "need both --within COL"),
        ({"x": "a"}, "two variables"),
        ({"groups": ["a"], "outcome": "y"}, "exactly two"),
        ({"outcome": "a", "alpha": 2}, "alpha must be between 0 and 1"),
        ({"outcome": "a", "filter": "__import__('os')"}, "not allowed"),
        ({"outcome": "a", "colour": "b"}, "Unknown field(s) colour"),
        ({"group": "a"}, "Pick the outcome"),
    ],
)
def test_bad_questions_say_what_to_do(bad, says):
    with pytest.raises(AssistError, match=None) as e:
        Question.from_dict(bad)
    assert says in str(e.value)


@pytest.mark.parametrize(
    "p, text",
    [
        (0.0, "p < .001"),
        (5e-300, "p < .001"),
        (0.00099, "p < .001"),
        (0.001, "p = .001"),
        (0.0264, "p = .026"),
        (0.05, "p = .050"),
        (0.9996, "p = 1.000"),
        (1.0, "p = 1.000"),
    ],
)
def test_format_p_never_prints_zero(p, text):
    assert format_p(p) == text
    assert format_p(p) not in ("p = 0", "p = .000", "p = 0.000")


def test_apa_line_fills_numbers():
    line = apa_line(
        "t({df}) = {t}, {p}, d = {d}, 95% CI [{lo}, {hi}]",
        {
            "df": ("df", 38),
            "t": ("num", 2.3112),
            "p": ("p", 0.0263),
            "d": ("num", 0.7312),
            "lo": ("num", 0.0901),
            "hi": ("num", 1.3689),
        },
    )
    assert line == "t(38) = 2.31, p = .026, d = 0.73, 95% CI [0.09, 1.37]"


def test_the_anova_p_that_used_to_print_as_zero():
    """The issue's example: a p of about 5e-8 printed as 0.0 by the old template."""
    rng = np.random.default_rng(7)
    df = pd.DataFrame(
        {
            "y": np.r_[rng.normal(0, 1, 30), rng.normal(1.5, 1, 30), rng.normal(0.5, 1, 30)],
            "g": ["a"] * 30 + ["b"] * 30 + ["c"] * 30,
        }
    )
    out = ask(df, outcome="y", group="g")
    assert out["p"] < 1e-4 and "p < .001" in out["apa"]


def test_recheck_says_whether_the_recommendation_changed(tmp_path):
    rng = np.random.default_rng(3)
    path = tmp_path / "study.csv"
    df = pd.DataFrame({"score": rng.normal(50, 10, 40), "group": ["a", "b"] * 20})
    df.to_csv(path, index=False)
    first = assist_file(path, {"outcome": "score", "group": "group"})
    assert first["test"] == "t_test_ind"
    meta = first["cell"]["metadata"]["datadive"]["assistant"]
    same = recheck(meta, path)
    assert same["changed"] is False and same["data_changed"] is False
    assert "unchanged" in same["message"]
    df.loc[df.group == "b", "score"] = rng.exponential(10, 20) ** 2  # skewed
    df.to_csv(path, index=False)
    again = recheck(meta, path)
    assert again["changed"] is True and again["data_changed"] is True
    assert again["answer"]["test"] == "mann_whitney"
    assert "now recommend Mann-Whitney U test instead of Student's t-test" in again["message"]
    with pytest.raises(AssistError, match="not a cell the assistant wrote"):
        recheck({"test": "x"}, path)


def test_cohens_d_has_the_sign_of_t():
    """pingouin reports |d|; a reader pairs t = -3.2 with d = -0.8, not d = 0.8."""
    rng = np.random.default_rng(7)
    df = pd.DataFrame(
        {
            "group": ["a"] * 30 + ["b"] * 30,
            "score": np.r_[rng.normal(0, 1, 30), rng.normal(1, 1, 30)],
        }
    )
    answer = ask(df, outcome="score", group="group")
    assert answer["test"] in ("t_test_ind", "welch_t")
    assert answer["statistic"] < 0
    d = answer["effect_size"]
    value = d["value"] if isinstance(d, dict) else d[1]
    assert value < 0
    assert "d = -" in answer["apa"]
