"""Every built-in template, rendered and executed in a real python3 kernel on data the test writes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from datadive_server_ext.templates import render_cells

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]

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


# built-in ids whose rendered code really ran in the kernel without an error (filled by run())
EXECUTED: set[str] = set()


def run(kernel, builtins, tid, values):
    cells = render_cells(builtins[tid], values)
    out = kernel.run(cells[-1]["source"])
    assert out.error is None, f"{tid} failed in the kernel:\n{cells[-1]['source']}\n{out.error}"
    EXECUTED.add(tid)
    return out


def kernel_json(kernel, expr: str):
    """Evaluate ``expr`` in the kernel and bring its value back as JSON."""
    out = kernel.run(f"import json as _json\nprint(_json.dumps({expr}))")
    assert out.error is None, out.error
    return json.loads(out.stdout)


def png_size(data: dict) -> tuple[int, int, int]:
    """(width, height, bytes) of the image/png in a display_data bundle (read from its IHDR)."""
    import base64
    import struct

    raw = base64.b64decode(data["image/png"])
    assert raw[:8] == b"\x89PNG\r\n\x1a\n" and raw[12:16] == b"IHDR", "not a PNG"
    width, height = struct.unpack(">II", raw[16:24])
    return width, height, len(raw)


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


# what a loaded survey frame looks like, computed the same way here and in the kernel
_FRAME_SUMMARY = """
def _frame_summary(df):
    out = {}
    for c in df.columns:
        s = df[c]
        cat = str(s.dtype) == "category"
        out[c] = {
            "dtype": str(s.dtype),
            "ordered": bool(s.dtype.ordered) if cat else None,
            "categories": [str(x) for x in s.cat.categories] if cat else None,
            "values": [None if v != v or v is None else str(v) for v in s.astype(object)],
        }
    return out
"""


def test_load_survey_gives_ordered_categoricals_and_missing_as_na(kernel, builtins):
    """The codebook beside a Qualtrics export (+ .qsf) and beside an SPSS .sav, applied by the
    template in plain pandas, gives the frame ``datadive_server_ext.survey.read_table`` gives."""
    import sys

    sys.path.insert(0, str(ROOT / "tests" / "survey"))
    from survey_files import LIKERT, SAV_FRAME, qsf, write_export, write_sav

    from datadive_server_ext.survey import build_codebook, codebook_path, read_table

    scope: dict = {}
    exec(_FRAME_SUMMARY, scope)
    kernel.run(_FRAME_SUMMARY)

    csv_path = write_export(kernel.cwd / "likert.csv")
    (kernel.cwd / "likert.qsf").write_text(json.dumps(qsf()), encoding="utf-8")
    _, cb = build_codebook(csv_path)
    cb.column("Q4_1").missing = [0]  # an edit: the slider's 0 means "not answered"
    with open(codebook_path(csv_path), "w", encoding="utf-8") as f:
        f.write(cb.dumps())
    out = run(kernel, builtins, "load-survey", {"file": "likert.csv", "name": "sv"})
    assert "Dropped personal-data columns: IPAddress, RecipientLastName" in out.stdout
    assert "1 missing codes set to NA" in out.stdout
    got = kernel_json(kernel, "_frame_summary(sv)")
    assert got["Q3_1"]["ordered"] is True and got["Q3_1"]["categories"] == LIKERT
    assert got["Q4_1"]["values"][0] is None  # the first respondent's 0
    assert "IPAddress" not in got and "RecipientEmail" not in got
    expect, _ = read_table(csv_path, keep_personal=False)
    assert got == json.loads(json.dumps(scope["_frame_summary"](expect)))
    assert kernel.run("print(sv['Q3_1'].max())").stdout.strip() == "Strongly agree"

    sav = write_sav(kernel.cwd / "study.sav")
    with open(codebook_path(sav), "w", encoding="utf-8") as f:
        f.write(build_codebook(sav)[1].dumps())
    out = run(
        kernel, builtins, "load-survey", {"file": "study.sav", "keep_personal": True, "name": "sp"}
    )
    assert "Kept personal-data columns: email" in out.stdout
    got = kernel_json(kernel, "_frame_summary(sp)")
    assert got["satisfaction"]["ordered"] is True
    assert got["satisfaction"]["categories"][0] == "very dissatisfied"
    na = [v is None for v in got["satisfaction"]["values"]]
    assert na == [v in (98, 99) for v in SAV_FRAME["satisfaction"]]
    assert got["income"]["values"].count(None) == 2 and "email" in got
    expect, _ = read_table(sav, keep_personal=True)
    assert got == json.loads(json.dumps(scope["_frame_summary"](expect)))

    (kernel.cwd / "bare.csv").write_text("a,b\n1,2\n")
    cells = render_cells(builtins["load-survey"], {"file": "bare.csv"})
    out = kernel.run(cells[-1]["source"])
    assert out.error and "No codebook beside bare.csv" in out.error
    assert "datadive codebook bare.csv --write" in out.error


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


def assert_real_image(out, tid):
    """One PNG of about the figure's size (6 x 4 inches) with more than a blank canvas in it."""
    images = [r for r in out.results if "image/png" in r]
    assert len(images) == 1, f"{tid} showed {len(images)} images: {out}"
    width, height, size = png_size(images[0])
    assert width >= 300 and height >= 200 and 1.3 < width / height < 1.7, (width, height)
    assert size > 8000, f"{tid}: a {size}-byte PNG is too small to hold a plot"


def test_histogram_plots_the_column(kernel, builtins, loaded):
    out = run(kernel, builtins, "histogram", {"column": "score", "bins": 10, "title": "Scores"})
    assert_real_image(out, "histogram")
    fig = kernel_json(
        kernel,
        "{'x': ax.get_xlabel(), 'y': ax.get_ylabel(), 'title': ax.get_title(),"
        " 'heights': [p.get_height() for p in ax.patches],"
        " 'edges': [p.get_x() for p in ax.patches]}",
    )
    assert (fig["x"], fig["y"], fig["title"]) == ("score", "Count", "Scores")
    counts, edges = np.histogram(loaded["score"].dropna(), bins=10)
    assert fig["heights"] == counts.tolist()  # 10 bars holding every value of the column
    assert fig["edges"] == pytest.approx(edges[:-1].tolist())


def test_box_plot_has_one_box_per_group(kernel, builtins, loaded):
    out = run(kernel, builtins, "box-plot", {"value": "score", "group": "cond", "title": "By cond"})
    assert_real_image(out, "box-plot")
    fig = kernel_json(
        kernel,
        "{'x': ax.get_xlabel(), 'y': ax.get_ylabel(), 'title': ax.get_title(),"
        " 'ticks': [t.get_text() for t in ax.get_xticklabels()],"
        " 'flat': [list(map(float, l.get_ydata())) for l in ax.lines"
        "          if len(l.get_ydata()) == 2 and l.get_ydata()[0] == l.get_ydata()[1]]}",
    )
    assert (fig["x"], fig["y"], fig["title"]) == ("cond", "score", "By cond")
    assert fig["ticks"] == ["A", "B", "C"]
    flat = [ys[0] for ys in fig["flat"]]  # caps and medians are horizontal lines
    for group, values in loaded.groupby("cond")["score"]:
        assert any(y == pytest.approx(values.median()) for y in flat), (group, values.median())


def test_scatter_plot_has_every_point_and_the_trend_line(kernel, builtins, loaded):
    out = run(kernel, builtins, "scatter-plot", {"x": "age", "y": "income", "trend_line": True})
    assert_real_image(out, "scatter-plot")
    fig = kernel_json(
        kernel,
        "{'x': ax.get_xlabel(), 'y': ax.get_ylabel(),"
        " 'points': ax.collections[0].get_offsets().tolist(),"
        " 'lines': [[l.get_xdata().tolist(), l.get_ydata().tolist()] for l in ax.lines]}",
    )
    assert (fig["x"], fig["y"]) == ("age", "income")
    xy = loaded[["age", "income"]].dropna()
    assert sorted(map(tuple, fig["points"])) == sorted(zip(xy.age, xy.income, strict=True))
    assert len(fig["lines"]) == 1
    slope, intercept = np.polyfit(xy.age, xy.income, 1)
    lx, ly = fig["lines"][0]
    assert ly == pytest.approx([intercept + slope * x for x in lx])
    run(kernel, builtins, "scatter-plot", {"x": "age", "y": "income", "trend_line": False})
    assert kernel_json(kernel, "len(ax.lines)") == 0


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
    assert f"Welch's t({t.df:.2f}) = {t.statistic:.2f}, p = " in out.stdout
    assert re.search(rf"A\s+{len(a)}\s+{a.mean():.3f}", out.stdout), out.stdout
    assert re.search(rf"B\s+{len(b)}\s+{b.mean():.3f}", out.stdout), out.stdout


def test_anova_matches_scipy(kernel, builtins, loaded):
    out = run(kernel, builtins, "anova", {"outcome": "score", "group": "cond"})
    groups = [g["score"].to_numpy() for _, g in loaded.groupby("cond")]
    f = stats.f_oneway(*groups)
    # the table pingouin shows, rounded to 3 decimals, p with 3 significant digits
    table = out.results[-1]["text/plain"].splitlines()
    header = [h.replace("-", "_") for h in table[0].split()]  # p-unc (older) or p_unc
    assert header == ["Source", "SS", "DF", "MS", "F", "p_unc", "np2"], table
    row = table[1].split()
    assert row[1] == "cond", table
    ss, df, ms, f_value, p_value, np2 = map(float, row[2:])
    half_unit = 0.5e-3 + 1e-12  # what rounding to 3 decimals may change
    assert f_value == pytest.approx(f.statistic, abs=half_unit)
    assert p_value == pytest.approx(f.pvalue, rel=5e-3)
    assert df == len(groups) - 1
    grand = loaded["score"].mean()
    ss_between = sum(len(g) * (g.mean() - grand) ** 2 for g in groups)
    ss_total = ((loaded["score"] - grand) ** 2).sum()
    assert ss == pytest.approx(ss_between, abs=half_unit)
    assert ms == pytest.approx(ss_between / df, abs=half_unit)
    assert np2 == pytest.approx(ss_between / ss_total, abs=half_unit)
    # the group table printed above the ANOVA
    assert re.search(rf"A\s+{N // 3}\s+{groups[0].mean().round(3)}", out.stdout), out.stdout


def test_chi_square_matches_scipy(kernel, builtins, loaded):
    out = run(kernel, builtins, "chi-square", {"rows": "cond", "columns": "smoker"})
    r = stats.chi2_contingency(pd.crosstab(loaded.cond, loaded.smoker))
    assert r.pvalue > 0.999  # the table is balanced: APA writes such a p as "p > .999"
    assert f"χ²({r.dof}, N = {N}) = {r.statistic:.2f}, p > .999, Cramér's V = .00" in out.stdout


@pytest.fixture(scope="module")
def two_groups(kernel):
    """Two groups of unequal size and spread (so Welch, Student and every wrong pooling differ),
    and a 2 x 2 table where Yates' correction changes chi-square; loaded in the kernel as ``two``
    and ``table``."""
    rng = np.random.default_rng(11)
    a = np.round(rng.normal(54, 4, 9), 2)
    b = np.round(rng.normal(50, 11, 17), 2)
    two = pd.DataFrame({"score": np.r_[a, b], "arm": ["treated"] * 9 + ["control"] * 17})
    two.to_csv(kernel.cwd / "two.csv", index=False)
    counts = {("yes", "ill"): 15, ("yes", "well"): 5, ("no", "ill"): 6, ("no", "well"): 14}
    rows = [(e, o) for (e, o), k in counts.items() for _ in range(k)]
    table = pd.DataFrame(rows, columns=["exposed", "outcome"])
    table.to_csv(kernel.cwd / "table.csv", index=False)
    out = kernel.run(
        "import pandas as pd\ntwo = pd.read_csv('two.csv')\ntable = pd.read_csv('table.csv')"
    )
    assert out.error is None, out.error
    return a, b, counts


def _t_line(stdout: str) -> tuple[float, float, float, float]:
    """(df, t, p, d) from the APA line (t and d to 2 decimals) and the table (p to 3 digits)."""
    m = re.search(r"t\(([\d.]+)\) = (-?[\d.]+), p [<=>] [\d.]+, d = (-?[\d.]+), 95% CI", stdout)
    assert m, stdout
    lines = stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if "alternative" in line.split())
    header, row = lines[at], lines[at + 1]
    p = row.split()[header.split().index("p") + 1]  # "Welch's t" is two words in the row
    return float(m[1]), float(m[2]), float(p), float(m[3])


@pytest.mark.parametrize("equal_variances", [False, True])
@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_t_test_and_cohens_d_match_the_textbook_formulas(
    kernel, builtins, two_groups, equal_variances, alternative
):
    """t, df, p and Cohen's d (pooled SD) computed by hand with numpy; the p value from the t
    distribution's tail (the formula needs it), not from the test function the template calls."""
    a, b, _ = two_groups
    out = run(
        kernel,
        builtins,
        "t-test",
        {
            "data": "two",
            "outcome": "score",
            "group": "arm",
            "group_a": "treated",
            "group_b": "control",
            "equal_variances": equal_variances,
            "alternative": alternative,
        },
    )
    df_shown, t_shown, p_shown, d_shown = _t_line(out.stdout)
    na, nb = len(a), len(b)
    va, vb = a.var(ddof=1), b.var(ddof=1)
    diff = a.mean() - b.mean()
    pooled_sd = np.sqrt(((na - 1) * va + (nb - 1) * vb) / (na + nb - 2))
    if equal_variances:
        t = diff / (pooled_sd * np.sqrt(1 / na + 1 / nb))
        df = na + nb - 2
    else:
        se2a, se2b = va / na, vb / nb
        t = diff / np.sqrt(se2a + se2b)
        df = (se2a + se2b) ** 2 / (se2a**2 / (na - 1) + se2b**2 / (nb - 1))
    upper = stats.t.sf(t, df)
    p = {"two-sided": 2 * stats.t.sf(abs(t), df), "greater": upper, "less": 1 - upper}[alternative]
    assert df_shown == (df if equal_variances else round(df, 2))
    assert t_shown == pytest.approx(t, abs=5e-3 + 1e-9)
    assert p_shown == pytest.approx(p, rel=5e-3)
    assert d_shown == pytest.approx(diff / pooled_sd, abs=5e-3 + 1e-9)
    # the data make the options matter: a wrong choice could not give the same line
    assert abs(diff / np.sqrt((va + vb) / 2) - diff / pooled_sd) > 0.01  # unpooled d
    assert abs(diff / np.sqrt((na * a.var() + nb * b.var()) / (na + nb)) - d_shown) > 0.01


@pytest.mark.parametrize("correction", [True, False])
def test_chi_square_2x2_matches_the_formula_with_and_without_yates(
    kernel, builtins, two_groups, correction
):
    """Chi-square of a 2 x 2 table by hand: sum((|O - E| - 0.5)^2 / E) with Yates' correction,
    sum((O - E)^2 / E) without; p for 1 degree of freedom is erfc(sqrt(chi2 / 2))."""
    import math

    _, _, counts = two_groups
    out = run(
        kernel,
        builtins,
        "chi-square",
        {"data": "table", "rows": "exposed", "columns": "outcome", "correction": correction},
    )
    observed = np.array(
        [
            [counts["no", "ill"], counts["no", "well"]],
            [counts["yes", "ill"], counts["yes", "well"]],
        ],
        dtype=float,
    )
    n = observed.sum()
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / n
    gap = np.abs(observed - expected) - (0.5 if correction else 0.0)
    chi2 = float((gap**2 / expected).sum())
    p = math.erfc(math.sqrt(chi2 / 2))
    m = re.search(
        r"χ²\((\d+), N = (\d+)\) = ([\d.]+), p = (\.\d+), Cramér's V = (\.\d+)", out.stdout
    )
    assert m, out.stdout
    assert int(m[1]) == 1 and int(m[2]) == n
    assert float(m[3]) == pytest.approx(chi2, abs=5e-3 + 1e-9)
    assert float(m[4]) == pytest.approx(p, abs=5e-4 + 1e-9)
    assert ("(with Yates' correction)" in out.stdout) is correction
    uncorrected = float(((observed - expected) ** 2 / expected).sum())
    corrected = float(((np.abs(observed - expected) - 0.5) ** 2 / expected).sum())
    assert uncorrected - corrected > 1  # the correction visibly changes the statistic here


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


def test_every_builtin_was_executed(request):
    """Runs last in this module: every built-in must have been run by one of the tests above
    (a new built-in without a kernel test fails here)."""
    from datadive_server_ext.templates import builtin_templates

    here = {
        item.name.split("[")[0]
        for item in request.session.items
        if item.module is request.module and item.name != request.node.name
    }
    defined = {
        name
        for name, obj in vars(request.module).items()
        if name.startswith("test_") and callable(obj)
    } - {request.node.name}
    if here != defined:
        pytest.skip("only part of this module was selected; run it whole to check the library")
    missing = set(builtin_templates()) - EXECUTED
    assert not missing, (
        f"built-ins never run in the kernel (a test failed or is missing): {missing}"
    )
