"""Every built-in template, rendered and executed in a real python3 kernel on data the test writes."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from datadive_server_ext.templates import render_cells

pytestmark = pytest.mark.slow

RNG = np.random.default_rng(7)
N = 60


@pytest.fixture(scope="module")
def frame():
    df = pd.DataFrame(
        {
            "score": np.round(RNG.normal(50, 10, N), 2),
            "age": RNG.integers(18, 70, N),
            "cond": np.repeat(["A", "B", "C"], N // 3),
            "smoker": np.tile(["yes", "no"], N // 2),
            "income": np.round(RNG.normal(3000, 500, N), 1),
        }
    )
    df.loc[df.index[:10], "score"] += 8  # group A is higher
    df["income"] = df["income"] + 20 * df["age"]
    df.loc[[3, 17], "income"] = np.nan
    return df


@pytest.fixture(scope="module")
def loaded(kernel, frame):
    """Write survey.csv into the kernel's working directory and load it as df there."""
    frame.to_csv(kernel.cwd / "survey.csv", index=False)
    out = kernel.run("import pandas as pd\ndf = pd.read_csv('survey.csv')")
    assert out.error is None, out.error
    return frame


def run(kernel, builtins, tid, values):
    cells = render_cells(builtins[tid], values)
    out = kernel.run(cells[-1]["source"])
    assert out.error is None, f"{tid} failed in the kernel:\n{cells[-1]['source']}\n{out.error}"
    return out


def test_library_has_at_least_12_templates(builtins):
    assert len(builtins) >= 12
    assert {"load-csv", "load-excel", "load-qualtrics", "t-test", "anova", "chi-square"} <= set(
        builtins
    )


def test_load_csv_semicolon(kernel, builtins, frame):
    frame.to_csv(kernel.cwd / "semi.csv", sep=";", index=False)
    out = run(kernel, builtins, "load-csv", {"file": "semi.csv", "separator": ";", "name": "semi"})
    assert f"{N} rows, 5 columns" in out.stdout
    assert "score" in out.results[-1]["text/plain"]
    check = kernel.run("print(list(semi.columns))")
    assert json.loads(check.stdout.replace("'", '"')) == list(frame.columns)


def test_load_excel(kernel, builtins, frame):
    with pd.ExcelWriter(kernel.cwd / "book.xlsx") as w:
        pd.DataFrame({"note": ["ignore me"]}).to_excel(w, sheet_name="Cover", index=False)
        frame.to_excel(w, sheet_name="Data 2024", index=False, startrow=2)
    out = run(
        kernel,
        builtins,
        "load-excel",
        {"file": "book.xlsx", "sheet": "Data 2024", "header_row": 3, "name": "xl"},
    )
    assert f"{N} rows, 5 columns" in out.stdout
    mean = kernel.run("print(round(xl['score'].mean(), 6))").stdout
    assert float(mean) == pytest.approx(frame["score"].mean())


def test_load_qualtrics_keeps_question_text_as_labels(kernel, builtins):
    text = (
        "StartDate,Status,Q1,Q2_1\n"
        'Start Date,Response Type,"How old are you?","Rate ""Datadive"", 1-5"\n'
        '"{""ImportId"":""startDate""}","{""ImportId"":""status""}","{""ImportId"":""QID1""}","{""ImportId"":""QID2_1""}"\n'
        "2024-01-01,IP Address,34,4\n"
        "2024-01-02,Survey Preview,99,1\n"
        "2024-01-03,IP Address,51,5\n"
    )
    (kernel.cwd / "qualtrics.csv").write_text(text, encoding="utf-8-sig")
    out = run(kernel, builtins, "load-qualtrics", {"file": "qualtrics.csv", "name": "q"})
    assert "2 responses, 4 variables" in out.stdout
    labels = kernel.run("import json; print(json.dumps(q.attrs['variable_labels']))").stdout
    assert json.loads(labels) == {
        "StartDate": "Start Date",
        "Status": "Response Type",
        "Q1": "How old are you?",
        "Q2_1": 'Rate "Datadive", 1-5',
    }
    assert kernel.run("print(q['Q1'].tolist(), q['Q1'].dtype.kind)").stdout.strip() == "[34, 51] i"


def test_describe(kernel, builtins, loaded):
    out = run(kernel, builtins, "describe", {"data": "df"})
    assert f"{N} rows, 5 columns" in out.stdout
    assert "score" in out.results[-1]["text/plain"] and "mean" in out.results[-1]["text/plain"]


def test_missing_values(kernel, builtins, loaded):
    out = run(kernel, builtins, "missing-values", {})
    assert "2 missing values in 1 columns" in out.stdout
    first = out.results[-1]["text/plain"].splitlines()[1]
    assert first.split()[:2] == ["income", "2"]


def test_filter_rows_numeric_and_text(kernel, builtins, loaded):
    out = run(
        kernel,
        builtins,
        "filter-rows",
        {"column": "age", "operator": "ge", "value": "40", "result": "older"},
    )
    assert f"{int((loaded['age'] >= 40).sum())} of {N} rows kept" in out.stdout
    out = run(kernel, builtins, "filter-rows", {"column": "cond", "value": "B"})
    assert f"{N // 3} of {N} rows kept" in out.stdout


def test_group_summary(kernel, builtins, loaded):
    out = run(
        kernel,
        builtins,
        "group-summary",
        {"group": "cond", "value": "score", "statistics": ["count", "mean"]},
    )
    text = out.results[-1]["text/plain"]
    mean_a = round(loaded.loc[loaded.cond == "A", "score"].mean(), 3)
    assert re.search(rf"A\s+{N // 3}\s+{mean_a}", text), text


@pytest.mark.parametrize(
    "tid,values",
    [
        ("histogram", {"column": "score", "bins": 10, "title": "Scores"}),
        ("box-plot", {"value": "score", "group": "cond"}),
        ("scatter-plot", {"x": "age", "y": "income", "trend_line": True}),
    ],
)
def test_plots_show_an_image(kernel, builtins, loaded, tid, values):
    out = run(kernel, builtins, tid, values)
    assert out.has("image/png"), f"{tid} showed no image: {out}"


def test_t_test_matches_scipy(kernel, builtins, loaded):
    out = run(
        kernel,
        builtins,
        "t-test",
        {"outcome": "score", "group": "cond", "group_a": "A", "group_b": "B"},
    )
    a = loaded.loc[loaded.cond == "A", "score"]
    b = loaded.loc[loaded.cond == "B", "score"]
    t = stats.ttest_ind(a, b, equal_var=False)
    assert f"= {t.statistic:.3f}, p = {t.pvalue:.4g}" in out.stdout
    assert f"n = {len(a)} vs {len(b)}" in out.stdout


def test_anova_matches_scipy(kernel, builtins, loaded):
    out = run(kernel, builtins, "anova", {"outcome": "score", "group": "cond"})
    f = stats.f_oneway(*(g["score"] for _, g in loaded.groupby("cond")))
    table = out.results[-1]["text/plain"]
    assert f"{f.statistic:.4f}"[:5] in table, table
    assert "np2" in table


def test_chi_square_matches_scipy(kernel, builtins, loaded):
    out = run(kernel, builtins, "chi-square", {"rows": "cond", "columns": "smoker"})
    r = stats.chi2_contingency(pd.crosstab(loaded.cond, loaded.smoker))
    assert f"chi2({r.dof}) = {r.statistic:.3f}, p = {r.pvalue:.4g}, n = {N}" in out.stdout


def test_correlation(kernel, builtins, loaded):
    out = run(
        kernel,
        builtins,
        "correlation",
        {"columns": ["age", "income", "score"], "method": "spearman"},
    )
    rho = loaded[["age", "income"]].corr(method="spearman").iloc[0, 1]
    assert f"{rho:.3f}"[:5] in out.results[-1]["text/plain"]


def test_linear_regression(kernel, builtins, loaded):
    out = run(
        kernel,
        builtins,
        "linear-regression",
        {"outcome": "income", "predictors": ["age", "score"], "model": "fit"},
    )
    assert "OLS Regression Results" in out.stdout
    assert re.search(rf"No\. Observations:\s+{N - 2}\b", out.stdout), out.stdout
    slope = kernel.run("print(round(fit.params['age'], 4))").stdout.strip()
    import statsmodels.api as sm

    d = loaded[["income", "age", "score"]].dropna()
    expect = sm.OLS(d["income"], sm.add_constant(d[["age", "score"]])).fit().params["age"]
    assert float(slope) == pytest.approx(expect, abs=1e-4)


def test_every_builtin_was_executed():
    executed = {
        "load-csv",
        "load-excel",
        "load-qualtrics",
        "describe",
        "missing-values",
        "filter-rows",
        "group-summary",
        "histogram",
        "box-plot",
        "scatter-plot",
        "t-test",
        "anova",
        "chi-square",
        "correlation",
        "linear-regression",
    }
    from datadive_server_ext.templates import builtin_templates

    assert set(builtin_templates()) == executed, "a new built-in needs a kernel test here"
