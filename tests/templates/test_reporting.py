"""Results a researcher can report: every built-in statistical template prints an APA-style line
(checked against an independent computation: a textbook formula or a second library), never
"p = 0", and stops with a message that says what to do on input that would give NaN. Also the
template features this needs: ``# datadive: include`` / ``# datadive: if`` directives, the
``level`` input type, categories in the order of an analysis."""

from __future__ import annotations

import ast
import math
import re

import jsonschema
import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats

from datadive_server_ext.templates import (
    TemplateInvalid,
    ValuesInvalid,
    check_values,
    parse_template,
    render_cells,
    render_code,
)
from datadive_server_ext.templates.model import CATEGORIES, sort_key

pytestmark = pytest.mark.slow

STATISTICAL = ["t-test", "anova", "chi-square", "correlation", "linear-regression"]
APA_LINE = {  # the line each statistical template prints, as a pattern
    "t-test": r"(Welch's|Student's) t\([\d.]+\) = -?[\d.]+, p [<=>] \.\d{3}, d = ",
    "anova": r"F\(\d+, \d+\) = [\d.]+, p [<=>] \.\d{3}, η² = \.\d\d",
    "chi-square": r"χ²\(\d+, N = \d+\) = [\d.]+, p [<=>] \.\d{3}, Cramér's V = \.\d\d",
    "correlation": r": r\(\d+\) = -?\.\d\d, p [<=>] \.\d{3}, 95% CI \[",
    "linear-regression": r"R² = \.\d\d, adjusted R² = \.\d\d, F\(\d+, \d+\) = [\d.]+, p [<=>] ",
}


# ---------------------------------------------------------------- data in the kernel


@pytest.fixture(scope="module")
def rep(kernel):
    """Data with very strong effects (every p is far below .001) plus the columns the error
    cases need; loaded in the kernel as ``rep``."""
    rng = np.random.default_rng(2024)
    n = 40
    a, b, c = rng.normal(70, 4, n), rng.normal(50, 12, n + 8), rng.normal(56, 7, n - 5)
    x = rng.normal(0, 1, 3 * n + 3)
    frame = pd.DataFrame(
        {
            "score": np.round(np.r_[a, b, c], 3),
            "group": ["Yes"] * n + ["No"] * (n + 8) + ["Maybe"] * (n - 5),
            "x": np.round(x, 4),
            "y": np.round(2 * x + rng.normal(0, 0.5, 3 * n + 3), 4),
            "exposed": (["yes"] * 45 + ["no"] * 78),
            "ill": (["ill"] * 38 + ["well"] * 7 + ["ill"] * 10 + ["well"] * 68),
            "constant": 3.0,
            "empty": np.nan,
            "text": ["low", "high", "mid"] * n + ["low", "high", "mid"],
        }
    )
    frame.loc[len(frame)] = {  # a group with a single respondent
        "score": 60.0,
        "group": "Alone",
        "x": 0.1,
        "y": 0.2,
        "exposed": "no",
        "ill": "well",
        "constant": 3.0,
        "empty": np.nan,
        "text": "low",
    }
    frame.to_csv(kernel.cwd / "rep.csv", index=False)
    out = kernel.run("import pandas as pd\nrep = pd.read_csv('rep.csv')")
    assert out.error is None, out.error
    return pd.read_csv(kernel.cwd / "rep.csv")


def run(kernel, builtins, tid, values):
    code = render_cells(builtins[tid], {"data": "rep", **values})[-1]["source"]
    out = kernel.run(code)
    assert out.error is None, f"{tid} failed:\n{out.error}"
    return out


def fails(kernel, builtins, tid, values) -> str:
    """Run ``tid`` expecting a ValueError; return its message (and check no NaN was printed)."""
    code = render_cells(builtins[tid], {"data": "rep", **values})[-1]["source"]
    out = kernel.run(code)
    assert out.error is not None, f"{tid} {values} ran without an error:\n{out.stdout}"
    first = out.error.splitlines()[0]
    assert first.startswith("ValueError: "), out.error
    assert "nan" not in out.stdout.lower(), out.stdout
    return first[len("ValueError: ") :]


def apa_line(stdout: str, tid: str) -> str:
    lines = [line for line in stdout.splitlines() if re.search(APA_LINE[tid], line)]
    assert lines, f"no APA line for {tid} in:\n{stdout}"
    return lines[0]


def no_zero_p(stdout: str):
    """Tiny p values are written "p < .001", never as zero."""
    assert not re.search(r"\bp = 0?\.0+\b|p = 0\b|\bp[-_]unc\s+0\.0\b", stdout), stdout


# ---------------------------------------------------------------- t test


@pytest.mark.parametrize("equal_variances", [False, True])
def test_t_test_apa_line_matches_pingouin(kernel, builtins, rep, equal_variances):
    out = run(
        kernel,
        builtins,
        "t-test",
        {
            "outcome": "score",
            "group": "group",
            "group_a": "Yes",
            "group_b": "No",
            "equal_variances": equal_variances,
        },
    )
    line = apa_line(out.stdout, "t-test")
    m = re.search(
        r"^(Welch's|Student's) t\(([\d.]+)\) = (-?[\d.]+), (p < \.001), d = (-?[\d.]+), "
        r"95% CI \[(-?[\d.]+), (-?[\d.]+)\]$",
        line,
    )
    assert m, line
    no_zero_p(out.stdout)
    a = rep.loc[rep.group == "Yes", "score"]
    b = rep.loc[rep.group == "No", "score"]
    ref = pg.ttest(a, b, correction=not equal_variances).iloc[0]
    assert m[1] == ("Student's" if equal_variances else "Welch's")
    assert float(m[2]) == pytest.approx(ref["dof"], abs=5e-3 if not equal_variances else 0)
    assert float(m[3]) == pytest.approx(ref["T"], abs=5e-3 + 1e-9)
    assert ref["p_val" if "p_val" in ref else "p-val"] < 1e-6
    d = ref["cohen_d" if "cohen_d" in ref else "cohen-d"]
    assert float(m[5]) == pytest.approx(d, abs=5e-3 + 1e-9)
    low, high = pg.compute_esci(stat=d, nx=len(a), ny=len(b), eftype="cohen")
    assert (float(m[6]), float(m[7])) == pytest.approx((low, high), abs=1e-2 + 1e-9)
    # the option matters on these data: Welch's and Student's t differ in the shown digits
    other = pg.ttest(a, b, correction=equal_variances).iloc[0]
    assert abs(other["T"] - ref["T"]) > 0.01 and abs(other["dof"] - ref["dof"]) > 1


def test_t_test_group_value_as_typed_in_the_wrong_case(kernel, builtins, rep):
    msg = fails(
        kernel,
        builtins,
        "t-test",
        {"outcome": "score", "group": "group", "group_a": "yes", "group_b": "No"},
    )
    assert "No row has the value 'yes' in column 'group'" in msg
    assert "Did you mean 'Yes'? Values are case-sensitive" in msg
    assert "'Yes', 'No', 'Maybe', 'Alone'" in msg


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"group_a": "Yes", "group_b": "Alone"}, "Group 'Alone' has 1 observation with a value"),
        ({"group_a": "Yes", "group_b": "Yes"}, "Both groups are 'Yes': choose two different"),
        ({"outcome": "constant"}, "The outcome 'constant' in these two groups is constant"),
        ({"outcome": "empty"}, "Column 'empty' has no values (all are missing)"),
        ({"outcome": "text"}, "Column 'text' holds text ('low', 'high', 'mid'), not numbers"),
        ({"outcome": "nope"}, "There is no column 'nope' in the data; its columns are: 'score'"),
        ({"group_a": "Never"}, "No row has the value 'Never' in column 'group'. Choose one of"),
    ],
)
def test_t_test_refuses_input_that_would_give_nan(kernel, builtins, rep, values, expected):
    base = {"outcome": "score", "group": "group", "group_a": "Yes", "group_b": "No"}
    assert expected in fails(kernel, builtins, "t-test", {**base, **values})


def test_t_test_level_may_be_a_number(kernel, builtins, rep):
    """A group column coded 1 / 2: the level is the number (a literal), found in the data."""
    out = kernel.run("rep['coded'] = rep['group'].map({'Yes': 1, 'No': 2, 'Maybe': 3, 'Alone': 4})")
    assert out.error is None, out.error
    out = run(
        kernel,
        builtins,
        "t-test",
        {"outcome": "score", "group": "coded", "group_a": 1, "group_b": 2},
    )
    a = rep.loc[rep.group == "Yes", "score"]
    b = rep.loc[rep.group == "No", "score"]
    assert f"= {stats.ttest_ind(a, b, equal_var=False).statistic:.2f}, p < .001" in out.stdout


# ---------------------------------------------------------------- ANOVA


def test_anova_tiny_p_is_reported_not_rounded_to_zero(kernel, builtins, rep):
    three = rep[rep.group != "Alone"]
    assert kernel.run("rep_three = rep[rep['group'] != 'Alone']").error is None
    out = run(
        kernel, builtins, "anova", {"data": "rep_three", "outcome": "score", "group": "group"}
    )
    f = stats.f_oneway(*[g["score"].to_numpy() for _, g in three.groupby("group")])
    assert f.pvalue < 1e-20
    line = apa_line(out.stdout, "anova")
    m = re.fullmatch(
        r"F\((\d+), (\d+)\) = ([\d.]+), p < \.001, η² = (\.\d\d), 95% CI \[(\.\d\d), (\.\d\d)\]",
        line,
    )
    assert m, line
    assert (int(m[1]), int(m[2])) == (2, len(three) - 3)
    assert float(m[3]) == pytest.approx(f.statistic, abs=5e-3 + 1e-9)
    grand = three["score"].mean()
    ss_between = sum(len(g) * (g.mean() - grand) ** 2 for _, g in three.groupby("group")["score"])
    eta2 = ss_between / ((three["score"] - grand) ** 2).sum()
    assert float(m[4]) == pytest.approx(eta2, abs=5e-3 + 1e-9)
    # the CI by another route: bisect the survival function of the noncentral F for λ
    # (P(F' > F | λ) = .025 and .975), then η² = λ / (λ + N) (Steiger, 2004)
    n, df2 = len(three), len(three) - 3

    def bound(upper_tail):
        lo, hi = 0.0, 1e4
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if stats.ncf.sf(f.statistic, 2, df2, mid) < upper_tail else (lo, mid)
        return lo / (lo + n)

    assert (float(m[5]), float(m[6])) == pytest.approx(
        (bound(0.025), bound(0.975)), abs=5e-3 + 1e-9
    )
    assert float(m[5]) < eta2 < float(m[6])
    # the full table shows p with three significant digits, not "0.0"
    table = out.results[-1]["text/plain"]
    assert f"{f.pvalue:.3g}" in table, table
    no_zero_p(out.stdout + table)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"group": "group"}, "Group 'Alone' has 1 observation with a value"),
        ({"group": "constant"}, "ANOVA compares groups, but 'constant' has 1 group(s)"),
        ({"outcome": "text"}, "Column 'text' holds text"),
        ({"outcome": "empty"}, "Column 'empty' has no values (all are missing)"),
        ({"outcome": "constant", "group": "exposed"}, "The outcome 'constant' is constant"),
    ],
)
def test_anova_refuses_input_that_would_give_nan(kernel, builtins, rep, values, expected):
    base = {"outcome": "score", "group": "group"}
    assert expected in fails(kernel, builtins, "anova", {**base, **values})


# ---------------------------------------------------------------- chi-square


@pytest.mark.parametrize("correction", [True, False])
def test_chi_square_apa_line_matches_the_formula(kernel, builtins, rep, correction):
    out = run(
        kernel,
        builtins,
        "chi-square",
        {"rows": "exposed", "columns": "ill", "correction": correction},
    )
    line = apa_line(out.stdout, "chi-square")
    m = re.match(r"χ²\(1, N = (\d+)\) = ([\d.]+), p < \.001, Cramér's V = (\.\d\d)", line)
    assert m, line
    observed = pd.crosstab(rep.exposed, rep.ill).to_numpy(dtype=float)
    n = observed.sum()
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / n
    plain = float(((observed - expected) ** 2 / expected).sum())
    yates = float(((np.abs(observed - expected) - 0.5) ** 2 / expected).sum())
    assert int(m[1]) == n
    assert float(m[2]) == pytest.approx(yates if correction else plain, abs=5e-3 + 1e-9)
    assert abs(plain - yates) > 0.5  # the option visibly matters on this table
    assert float(m[3]) == pytest.approx(math.sqrt(plain / n), abs=5e-3 + 1e-9)
    assert ("with Yates' correction" in line) is correction
    no_zero_p(out.stdout)


def test_chi_square_notes_small_expected_counts_and_refuses_constants(kernel, builtins, rep):
    out = run(kernel, builtins, "chi-square", {"rows": "group", "columns": "exposed"})
    assert "expected counts are below 5" in out.stdout  # the single 'Alone' respondent
    assert "Column 'constant' is constant (every value is 3.0)" in fails(
        kernel, builtins, "chi-square", {"rows": "constant", "columns": "exposed"}
    )
    assert "There is no column 'nope'" in fails(
        kernel, builtins, "chi-square", {"rows": "nope", "columns": "exposed"}
    )


# ---------------------------------------------------------------- correlation


def test_correlation_pearson_line_and_ci_match_scipy(kernel, builtins, rep):
    out = run(kernel, builtins, "correlation", {"columns": ["x", "y"], "method": "pearson"})
    line = apa_line(out.stdout, "correlation")
    m = re.fullmatch(
        r"x and y: r\((\d+)\) = (-?\.\d\d), p < \.001, 95% CI \[(-?\.\d\d), (-?\.\d\d)\], n = (\d+)",
        line,
    )
    assert m, line
    res = stats.pearsonr(rep.x, rep.y)
    ci = res.confidence_interval(0.95)
    assert int(m[1]) == len(rep) - 2 and int(m[5]) == len(rep)
    assert float(m[2]) == pytest.approx(res.statistic, abs=5e-3 + 1e-9)
    assert (float(m[3]), float(m[4])) == pytest.approx((ci.low, ci.high), abs=5e-3 + 1e-9)
    no_zero_p(out.stdout)


@pytest.mark.parametrize(("method", "symbol"), [("spearman", "rs"), ("kendall", "τb")])
def test_correlation_rank_methods_match_pingouin(kernel, builtins, rep, method, symbol):
    out = run(kernel, builtins, "correlation", {"columns": ["x", "y", "score"], "method": method})
    ref = pg.corr(rep.x, rep.y, method=method).iloc[0]
    m = re.search(
        rf"^x and y: {symbol}(?:\(\d+\))? = (-?\.\d\d), p < \.001, n = ", out.stdout, re.M
    )
    assert m, out.stdout
    assert float(m[1]) == pytest.approx(ref["r"], abs=5e-3 + 1e-9)
    assert "x and score:" in out.stdout and "y and score:" in out.stdout  # every pair


def test_correlation_refuses_a_constant_or_text_column(kernel, builtins, rep):
    assert "Column 'constant' is constant" in fails(
        kernel, builtins, "correlation", {"columns": ["x", "constant"]}
    )
    assert "Column 'text' holds text" in fails(
        kernel, builtins, "correlation", {"columns": ["x", "text"]}
    )
    assert "Column 'empty' has no values" in fails(
        kernel, builtins, "correlation", {"columns": ["x", "empty"]}
    )


# ---------------------------------------------------------------- linear regression


def test_linear_regression_lines_match_least_squares(kernel, builtins, rep):
    out = run(
        kernel,
        builtins,
        "linear-regression",
        {"outcome": "y", "predictors": ["x", "score"], "model": "fit"},
    )
    X = np.column_stack([np.ones(len(rep)), rep.x, rep.score])
    beta, *_ = np.linalg.lstsq(X, rep.y.to_numpy(), rcond=None)
    resid = rep.y - X @ beta
    n, k = len(rep), 2
    ss_res, ss_tot = float((resid**2).sum()), float(((rep.y - rep.y.mean()) ** 2).sum())
    r2 = 1 - ss_res / ss_tot
    f = (r2 / k) / ((1 - r2) / (n - k - 1))
    line = apa_line(out.stdout, "linear-regression")
    m = re.fullmatch(
        r"R² = (\.\d\d), adjusted R² = (\.\d\d), F\((\d+), (\d+)\) = ([\d.]+), p < \.001", line
    )
    assert m, line
    assert float(m[1]) == pytest.approx(r2, abs=5e-3 + 1e-9)
    assert float(m[2]) == pytest.approx(1 - (1 - r2) * (n - 1) / (n - k - 1), abs=5e-3 + 1e-9)
    assert (int(m[3]), int(m[4])) == (k, n - k - 1)
    assert float(m[5]) == pytest.approx(f, rel=1e-4)
    sigma2 = ss_res / (n - k - 1)
    se = np.sqrt(np.diag(sigma2 * np.linalg.inv(X.T @ X)))
    half = stats.t.ppf(0.975, n - k - 1) * se[1]
    m = re.search(
        r"^x: b = ([\d.-]+), 95% CI \[([\d.-]+), ([\d.-]+)\], t\((\d+)\) = ([\d.-]+), p < \.001$",
        out.stdout,
        re.M,
    )
    assert m, out.stdout
    assert float(m[1]) == pytest.approx(beta[1], abs=5e-3 + 1e-9)
    assert (float(m[2]), float(m[3])) == pytest.approx(
        (beta[1] - half, beta[1] + half), abs=5e-3 + 1e-9
    )
    assert float(m[5]) == pytest.approx(beta[1] / se[1], abs=5e-3 + 1e-9)
    no_zero_p(out.stdout)
    assert "0.000" not in out.stdout.split("R² =")[0].split("CI95 high")[-1]  # coefficient p


def test_linear_regression_refuses_text_and_constant_predictors(kernel, builtins, rep):
    assert "Column 'text' holds text" in fails(
        kernel, builtins, "linear-regression", {"outcome": "y", "predictors": ["text"]}
    )
    assert "Column 'constant' (rows with a value in every column) is constant" in fails(
        kernel, builtins, "linear-regression", {"outcome": "y", "predictors": ["x", "constant"]}
    )


# ---------------------------------------------------------------- every statistical template


def test_every_statistical_template_includes_the_report_snippet(builtins):
    """The shared helpers reach each cell as plain code (no Datadive import, no directive left)."""
    for tid in STATISTICAL:
        assert "# datadive: include report" in builtins[tid].code
        cells = render_cells(builtins[tid], example_values(builtins[tid]))
        source = cells[-1]["source"]
        assert "def _p(p):" in source and "# datadive:" not in source
        assert "datadive" not in " ".join(
            n.names[0].name if isinstance(n, ast.Import) else (n.module or "")
            for n in ast.walk(ast.parse(source))
            if isinstance(n, ast.Import | ast.ImportFrom)
        )


def example_values(t):
    out = {}
    for i in t.inputs:
        if i.required:
            out[i.name] = {"column": ["a", "b"] if i.multiple else "a", "level": "x"}.get(
                i.type, "x"
            )
    return out


def test_p_formatting_of_the_snippet():
    from datadive_server_ext.templates.model import snippet

    ns: dict = {}
    exec(snippet("report"), ns)
    p = ns["_p"]
    assert [p(v) for v in (0.0, 4.7e-8, 0.00099, 0.001, 0.0412, 0.5, 0.9981, 0.9996, 1.0)] == [
        "p < .001",
        "p < .001",
        "p < .001",
        "p = .001",
        "p = .041",
        "p = .500",
        "p = .998",
        "p > .999",
        "p > .999",
    ]
    with pytest.raises(ValueError, match="p value could not be computed"):
        p(float("nan"))
    assert ns["_num"](-0.456, zero=False) == "-.46" and ns["_num"](12.345) == "12.35"
    assert ns["_num"](-0.001) == "0.00"
    table = ns["_table"](pd.DataFrame({"F": [15.9587], "p-unc": [4.68e-8], "pval": [0.0]}))
    assert table.iloc[0].tolist() == [15.959, "4.68e-08", "< 1e-300"]


# ---------------------------------------------------------------- directives


def test_empty_optional_title_leaves_no_line(builtins, kernel, rep):
    for tid, column in (
        ("histogram", {"column": "score"}),
        ("box-plot", {"value": "score", "group": "group"}),
    ):
        for empty in (None, "", "   "):
            values = {**column, **({} if empty is None else {"title": empty})}
            code = render_code(builtins[tid], check_values(builtins[tid], values))
            assert "set_title" not in code and "# datadive" not in code, code
        code = render_code(
            builtins[tid], check_values(builtins[tid], {**column, "title": "Scores"})
        )
        assert code.count("ax.set_title('Scores')") == 1
    out = run(kernel, builtins, "histogram", {"column": "score"})
    assert out.error is None
    assert kernel.run("print(repr(ax.get_title()))").stdout.strip() == "''"


TEMPLATE = """\
id: d
version: 1.0.0
title: D
language: python
inputs:
  - {name: data, type: variable, default: df}
  - {name: col, type: column, dataset: data, required: true}
  - {name: lvl, type: level, column: col}
  - {name: note, type: text}
  - {name: flag, type: boolean, default: false}
code: |
"""


def test_if_directive_keeps_or_drops_its_line_and_stays_a_literal():
    t = parse_template(
        TEMPLATE
        + "  x = {{ data }}[{{ col }}]\n"
        + "  # datadive: if note print({{ note }})\n"
        + "  if True:\n"
        + "      # datadive: if flag x = x.dropna()\n"
        + "      pass\n"
        + "  # datadive: if lvl print(x == {{ lvl }})\n"
    )
    code = render_code(t, check_values(t, {"col": "a"}))
    assert code == "x = df['a']\nif True:\n    pass"
    code = render_code(
        t, check_values(t, {"col": "a", "note": "hi\n# datadive: if x", "flag": True, "lvl": 0})
    )
    assert code == (
        "x = df['a']\nprint('hi\\n# datadive: if x')\nif True:\n    x = x.dropna()\n"
        "    pass\nprint(x == 0)"
    )  # 0 is a value (only None, false, blank text and [] count as empty)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "  # datadive: include nothing\n",
            "no snippet 'nothing' to include; snippets are: report",
        ),
        ("  if True:\n      # datadive: include report\n", "must start at the beginning of a line"),
        ("  # datadive: if nope print(1)\n", "'# datadive: if nope' names no input"),
        ("  # datadive: if note\n", "the line of code goes on the directive's line"),
        ("  # datadive: unless note x = 1\n", "unknown directive '# datadive: unless'"),
        (
            "  if True:\n      # datadive: if note print({{ note }})\n",
            "without its '# datadive: if' lines",
        ),
        ("  # datadive: if note print('{{ note }}')\n", "inside a string literal"),
    ],
)
def test_malformed_directives_are_reported_with_their_line(body, message):
    with pytest.raises(TemplateInvalid) as e:
        parse_template(TEMPLATE + body, file="d.yaml")
    assert any(message in p.message for p in e.value.problems), e.value.problems
    assert all(p.line is not None and p.line >= 12 for p in e.value.problems)


# ---------------------------------------------------------------- the level input type


def test_level_inputs_name_their_column_and_dataset(builtins):
    for tid in builtins:
        jsonschema.Draft202012Validator.check_schema(builtins[tid].values_schema)
    props = builtins["t-test"].values_schema["properties"]
    for name in ("group_a", "group_b"):
        assert props[name]["x-datadive-input"] == {
            "type": "level",
            "column": "group",
            "dataset": "data",
        }
    t = parse_template(TEMPLATE + "  print({{ lvl }})\n")
    assert t.input("lvl").dataset == "data"  # taken from the column input
    assert t.summary()["inputs"]["properties"]["lvl"]["x-datadive-input"]["dataset"] == "data"
    for value, literal in (("Yes", "'Yes'"), (2, "2"), (1.5, "1.5"), (True, "True")):
        assert render_code(t, check_values(t, {"col": "a", "lvl": value})) == f"print({literal})"
    for bad, msg in (("", "must not be empty"), ({"a": 1}, "must be text or a number")):
        with pytest.raises(ValuesInvalid) as e:
            check_values(t, {"col": "a", "lvl": bad})
        assert msg in e.value.errors["lvl"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("  - {name: l2, type: level}", "level input 'l2' needs 'column'"),
        ("  - {name: l2, type: level, column: note}", "must be a column input that picks one"),
        ("  - {name: l2, type: level, column: gone}", "column 'gone' is not an input"),
        ("  - {name: l2, type: level, column: col, dataset: note}", "differs from the dataset"),
        ("  - {name: l2, type: level, column: col, extensions: [.csv]}", "does not apply"),
    ],
)
def test_level_input_problems(line, message):
    text = TEMPLATE.replace("code: |\n", line + "\ncode: |\n") + "  print(1)\n"
    with pytest.raises(TemplateInvalid) as e:
        parse_template(text)
    assert any(message in p.message for p in e.value.problems), e.value.problems


# ---------------------------------------------------------------- categories and forms


def test_categories_follow_the_order_of_an_analysis(builtins):
    assert CATEGORIES == ("Load", "Clean", "Explore", "Test", "Plot")
    summaries = sorted((t.summary() for t in builtins.values()), key=sort_key)
    assert summaries[0]["title"] == "Load a CSV file"
    orders = [s["category_order"] for s in summaries]
    assert orders == sorted(orders) and set(orders) == set(range(len(CATEGORIES)))
    for s in summaries:
        assert s["category"] == CATEGORIES[s["category_order"]], s["id"]
    for tid in STATISTICAL:
        assert builtins[tid].summary()["category"] == "Test"
    # a category of someone else's template sorts after them; old built-in names keep their place
    custom = parse_template(
        TEMPLATE.replace("language:", "category: Survey\nlanguage:") + "  x=1\n"
    )
    assert custom.summary()["category_order"] == len(CATEGORIES)
    old = parse_template(
        TEMPLATE.replace("language:", "category: Load data\nlanguage:") + "  x=1\n"
    )
    assert old.summary()["category_order"] == 0


def test_boolean_label_is_given_once(builtins):
    """react-jsonschema-form shows a boolean's title as the checkbox label; a ui:widget would
    show it a second time above the box ("Assume equal variances" twice)."""
    for t in builtins.values():
        for i in t.inputs:
            if i.type == "boolean":
                assert "ui:widget" not in t.ui_schema.get(i.name, {}), (t.id, i.name)
                assert t.values_schema["properties"][i.name]["title"] == i.title


def test_the_lines_shown_in_the_docs_are_real_output(kernel, builtins, rep):
    """docs/templates.md shows each template's APA line on this module's data (without the
    single-respondent group): they are what the templates print."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "templates.md").read_text("utf-8")
    at = doc.index("the line a paper reports")
    shown = doc[doc.index("```\n", at) + 4 : doc.index("```", doc.index("```\n", at) + 4)]
    assert kernel.run("rep_three = rep[rep['group'] != 'Alone']").error is None
    printed = []
    for tid, values in (
        ("t-test", {"outcome": "score", "group": "group", "group_a": "Yes", "group_b": "No"}),
        ("anova", {"outcome": "score", "group": "group"}),
        ("chi-square", {"rows": "exposed", "columns": "ill"}),
        ("correlation", {"columns": ["x", "y"]}),
        ("linear-regression", {"outcome": "y", "predictors": ["x", "score"]}),
    ):
        out = run(kernel, builtins, tid, {**values, "data": "rep_three"})
        printed += [ln for ln in out.stdout.splitlines() if re.search(r"p [<=>] \.\d{3}", ln)]
    assert printed == shown.splitlines()


def test_filter_rows_says_when_the_value_is_not_in_the_column(kernel, builtins, rep):
    """Filtering on "yes" where the data say "Yes" kept 0 rows without a word; now it stops and
    says which value was meant."""
    msg = fails(kernel, builtins, "filter-rows", {"column": "group", "value": "yes"})
    assert "No row has the value 'yes' in column 'group'. Did you mean 'Yes'?" in msg
    msg = fails(
        kernel, builtins, "filter-rows", {"column": "score", "value": "high", "operator": "gt"}
    )
    assert "Column 'score' holds numbers, and 'high' is not one" in msg
    out = run(kernel, builtins, "filter-rows", {"column": "group", "value": "Yes", "result": "yes"})
    assert f"{int((rep.group == 'Yes').sum())} of {len(rep)} rows kept" in out.stdout


def test_templates_with_levels_and_directives_survive_the_registry_round_trip(builtins):
    """The hub stores ``to_document()`` and parses it again: same content, same cells."""
    from datadive_server_ext.templates import template_from_document

    for tid in ("t-test", "histogram", "anova"):
        t = builtins[tid]
        again = template_from_document(t.to_document())
        assert again.content_hash == t.content_hash and again.values_schema == t.values_schema
        values = example_values(t)
        assert render_code(again, check_values(again, values)) == render_code(
            t, check_values(t, values)
        )


#: the report snippet as the built-ins' current versions were published with it
REPORT_SNIPPET_SHA256_PREFIX = "10bb1c409fedd088"


def test_a_changed_snippet_comes_with_new_template_versions(builtins):
    """Published versions never change, but a snippet reaches cells through every template that
    includes it: changing report.py changes those templates. When this fails, bump the version
    of each template that includes the snippet, then update the hash here."""
    import hashlib

    from datadive_server_ext.templates.model import snippet

    digest = hashlib.sha256(snippet("report").encode("utf-8")).hexdigest()
    users = sorted(t.id for t in builtins.values() if "# datadive: include report" in t.code)
    assert users == sorted(STATISTICAL)
    assert digest.startswith(REPORT_SNIPPET_SHA256_PREFIX), (
        f"library/snippets/report.py changed: bump the version of {', '.join(users)}, then set "
        f"REPORT_SNIPPET_SHA256_PREFIX = {digest[:16]!r}"
    )
