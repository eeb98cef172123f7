"""``datadive assist``: the JSON keys are the contract; bad input exits 2 with a message."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from datadive_server_ext.assistant import ANSWER_KEYS


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "datadive_hub.cli", "assist", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_json_has_exactly_the_contract_keys(data_dir):
    r = run(
        data_dir / "anova.csv", "--outcome", "Pain threshold", "--group", "Hair color", "--json"
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert list(out) == list(ANSWER_KEYS)
    assert out["test"] == "one_way_anova" and out["dof"] == [3, 15]
    assert out["statistic"] == pytest.approx(6.791407, rel=1e-6)
    assert {tuple(sorted(c)) for c in out["checks"]} == {
        ("detail", "name", "p", "passed", "statistic")
    }
    assert out["code"].startswith("# One-way ANOVA")


def test_every_design_flag(data_dir):
    cases = [
        (["rm_anova_wide.csv", "--within-columns", "Before", "1 week", "2 week"], "rm_anova"),
        (
            ["cochran.csv", "--outcome", "Energetic", "--within", "Time", "--subject", "Subject"],
            "cochran_q",
        ),
        (["tips.csv", "--x", "total_bill", "--y", "tip"], "spearman"),
        (
            ["ancova.csv", "--outcome", "Scores", "--covariate", "Income", "--group", "Method"],
            "ancova",
        ),
        (["anova2.csv", "--outcome", "Yield", "--groups", "Blend", "Crop"], "two_way_anova"),
        (["blandaltman.csv", "--outcome", "A", "--paired-with", "B"], "t_test_paired"),
        (
            ["anova.csv", "--outcome", "Pain threshold", "--mu", "40", "--alpha", "0.01"],
            "one_sample_t",
        ),
        (
            ["chi2_independence.csv", "--x", "sex", "--y", "target", "--filter", "age < 45"],
            "fisher_exact",
        ),
    ]
    for (name, *flags), test in cases:
        r = run(data_dir / name, *flags, "--json")
        assert r.returncode == 0, (flags, r.stderr)
        assert json.loads(r.stdout)["test"] == test


def test_human_output(data_dir):
    r = run(data_dir / "anova.csv", "--outcome", "Pain threshold", "--mu", "40")
    assert r.returncode == 0
    assert r.stdout.startswith("One-sample t-test: t(18) = 2.98, p = .008")
    assert "[ok] Normality of 'Pain threshold'" in r.stdout


@pytest.mark.parametrize(
    "args, says",
    [
        (
            ["anova.csv", "--outcome", "pain threshold", "--group", "Hair color"],
            "did you mean 'Pain threshold'?",
        ),
        (["nope.csv", "--outcome", "x"], "No data file"),
        (["anova.csv", "--group", "Hair color"], "Pick the outcome"),
        (
            [
                "anova.csv",
                "--outcome",
                "Pain threshold",
                "--group",
                "Hair color",
                "--filter",
                "Subject < 8",
            ],
            "only 2 observation(s)",
        ),
    ],
)
def test_bad_input_exits_2_with_the_message(data_dir, args, says):
    name, *flags = args
    r = run(data_dir / name, *flags, "--json")
    assert r.returncode == 2
    assert r.stdout == "" and says in r.stderr and "Traceback" not in r.stderr


def test_two_designs_at_once_is_a_usage_error(data_dir):
    r = run(data_dir / "anova.csv", "--outcome", "a", "--group", "b", "--x", "c")
    assert r.returncode == 2 and "not allowed with argument" in r.stderr


def test_the_cli_does_not_import_pandas_at_start_up():
    r = subprocess.run(
        [sys.executable, "-c", "import sys, datadive_hub.cli; print('pandas' in sys.modules)"],
        capture_output=True,
        text=True,
    )
    assert r.stdout.strip() == "False"
