"""An SPSS file written with pyreadstat (labels, measures, a missing range): the assistant reads
it, treats a labelled Likert item as ordinal, drops missing codes, and its cell agrees."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from datadive_server_ext.assistant import assist_file


@pytest.fixture(scope="module")
def sav(data_dir):
    rng = np.random.default_rng(5)
    n = 80
    group = np.repeat([1.0, 2.0], n // 2)
    likert = np.clip(np.round(rng.normal(3 + (group - 1) * 0.8, 1.0)), 1, 5)
    likert[:4] = 9  # "no answer", a user-missing code
    score = rng.normal(100 + (group - 1) * 5, 15, n)
    df = pd.DataFrame({"group": group, "agree": likert, "score": score})
    path = data_dir / "survey.sav"
    pyreadstat.write_sav(
        df,
        str(path),
        variable_value_labels={
            "group": {1: "control", 2: "treatment"},
            "agree": {
                1: "strongly disagree",
                2: "disagree",
                3: "neutral",
                4: "agree",
                5: "strongly agree",
                9: "no answer",
            },
        },
        missing_ranges={"agree": [9]},
        variable_measure={"group": "nominal", "agree": "ordinal", "score": "scale"},
    )
    return path


def test_a_likert_item_is_ordinal_and_missing_codes_are_left_out(sav, clean_kernel):
    out = assist_file(sav, {"outcome": "agree", "group": "group"}, shown_path="survey.sav")
    assert out["test"] == "mann_whitney" and "ordinal" in out["why"]
    run = clean_kernel.run(out["cell"]["source"])
    assert run.error is None, run.error
    assert run.stdout.strip().splitlines()[-1] == out["apa"]
    n = clean_kernel.run("print(len(df))").stdout.strip()
    assert n == "76"  # the four 'no answer' codes are missing, not a sixth category


def test_labelled_groups_compare_a_scale_outcome(sav, clean_kernel):
    out = assist_file(sav, {"outcome": "score", "group": "group"}, shown_path="survey.sav")
    assert out["test"] in ("t_test_ind", "welch_t")
    assert "'control'" in out["code"] and "'treatment'" in out["code"]
    run = clean_kernel.run(out["cell"]["source"])
    assert run.error is None and run.stdout.strip().splitlines()[-1] == out["apa"]
