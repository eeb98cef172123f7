"""The assistant reads survey files through the survey package, and its cell loads them with the
survey package's own lines (``survey.read_code``: the "Load survey data" template rendered for
the file): the same labelled frame as ``survey.read_table``, a stored codebook's edits honoured."""

from __future__ import annotations

import json
import os

import pandas as pd
import pingouin as pg
import pytest
from pandas.testing import assert_frame_equal
from survey_files import SAV_FRAME, qsf, write_export, write_sav

from datadive_server_ext.assistant import assist_file
from datadive_server_ext.survey import (
    ValueLabel,
    build_codebook,
    codebook_path,
    read_code,
    read_table,
)

# a plain CSV: group codes 1 / 2, a score with 99 for "no answer", a 1..5 rating
GROUP = [1] * 20 + [2] * 20
SCORE = [10.0 + i for i in range(20)] + [13.0 + i for i in range(20)]
NO_ANSWER = [0, 7, 13, 25, 38]  # rows whose score is 99


def _write_csv(path):
    score = [99.0 if i in NO_ANSWER else s for i, s in enumerate(SCORE)]
    rating = [1 + (i * 7) % 5 for i in range(40)]
    pd.DataFrame({"group": GROUP, "score": score, "rating": rating}).to_csv(path, index=False)
    return path


def _edit_codebook(path):
    """The edits a user makes in the panel: group labelled, rating a scale, 99 missing."""
    _, cb = build_codebook(path)
    group = cb.column("group")
    group.level = "nominal"
    group.values = [ValueLabel(1, "control"), ValueLabel(2, "treatment")]
    assert cb.column("rating").level == "ordinal"  # as inferred; the edit changes it
    cb.column("rating").level = "scale"
    cb.column("score").level = "scale"
    cb.column("score").missing = [99]
    with open(codebook_path(path), "w", encoding="utf-8") as f:
        f.write(cb.dumps())


@pytest.fixture
def files(tmp_path):
    """name -> data file, each in tmp_path/data/ (the notebook is in tmp_path)."""
    data = tmp_path / "data"
    data.mkdir()
    export = write_export(data / "survey.csv")
    (data / "survey.qsf").write_text(json.dumps(qsf()), encoding="utf-8")
    sav = write_sav(data / "study.sav")
    csv = _write_csv(data / "scores.csv")
    _edit_codebook(csv)
    return {"qualtrics": export, "sav": sav, "csv": csv}


@pytest.mark.parametrize("name", ["qualtrics", "sav", "csv"])
def test_read_code_builds_the_frame_read_table_gives(files, name, tmp_path, monkeypatch):
    path = files[name]
    lines = read_code(path, shown_path=f"data/{path.name}")
    source = "\n".join(lines)
    assert "datadive" not in source.replace("Datadive", "").replace("datadive codebook", "")
    assert f"_file = 'data/{path.name}'" in source  # named as the notebook sees it
    stored = os.path.exists(codebook_path(path))
    assert ("json.load(_f)" in source) is stored  # else the codebook is written into the lines
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(source, scope)  # noqa: S102 - the lines under test
    expect, _ = read_table(path)
    assert_frame_equal(scope["df"], expect)
    assert scope["df"].attrs == expect.attrs


def test_what_the_frames_hold(files, tmp_path, monkeypatch):
    """What the equal frames show: Likert items ordered, missing codes and ranges NA, edits."""
    monkeypatch.chdir(tmp_path)
    frames = {}
    for name, path in files.items():
        scope: dict = {}
        exec("\n".join(read_code(path, shown_path=f"data/{path.name}")), scope)  # noqa: S102
        frames[name] = scope["df"]
    q3 = frames["qualtrics"]["Q3_1"]
    assert q3.cat.ordered and q3.cat.categories[0] == "Strongly disagree"
    sat = frames["sav"]["satisfaction"]
    assert sat.isna().tolist() == [v in (98, 99) for v in SAV_FRAME["satisfaction"]]
    assert sat.cat.ordered and frames["sav"]["income"].isna().sum() == 2
    csv = frames["csv"]
    assert csv["score"].isna().sum() == len(NO_ANSWER)
    assert csv["rating"].dtype.kind == "i" and list(csv["group"].cat.categories) == [
        "control",
        "treatment",
    ]


def test_the_assistant_honours_a_stored_codebook(files, tmp_path, monkeypatch):
    """The 99s the user marked as missing are not counted: the t-test is on the 35 answers."""
    out = assist_file(
        files["csv"], {"outcome": "score", "group": "group"}, shown_path="data/scores.csv"
    )
    assert "'control'" in out["code"] and "'treatment'" in out["code"]
    valid = [i for i in range(40) if i not in NO_ANSWER]
    a = [SCORE[i] for i in valid if GROUP[i] == 1]
    b = [SCORE[i] for i in valid if GROUP[i] == 2]
    assert (len(a), len(b)) == (17, 18)
    assert out["test"] == "t_test_ind"
    assert out["dof"] == len(a) + len(b) - 2
    expect = pg.ttest(a, b, correction=False)["T"].iloc[0]
    assert out["statistic"] == pytest.approx(expect, rel=1e-9)
    assert any("group 'control'" in c["name"] for c in out["checks"])
    # the cell reads the same frame: run here in the notebook's folder, same APA line
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(out["cell"]["source"], scope)  # noqa: S102
    assert scope["apa"] == out["apa"]
    assert scope["df"]["score"].notna().sum() == 35


def test_without_the_codebook_the_99s_would_count(files):
    """The contrast: the same CSV without its codebook is read as plain numbers, the 99s make
    both groups fail the normality check, and the answer is another test on all 40 rows."""
    os.unlink(codebook_path(files["csv"]))
    out = assist_file(files["csv"], {"outcome": "score", "group": "group"})
    assert out["test"] == "mann_whitney"
    assert [c["passed"] for c in out["checks"][:2]] == [False, False]
    assert "'control'" not in out["code"] and "read_csv('" in out["code"]


def test_a_sav_cell_prints_the_assistants_apa_line_in_a_kernel(clean_kernel):
    folder = clean_kernel.cwd / "surveys"
    folder.mkdir(exist_ok=True)
    sav = write_sav(folder / "study.sav")
    out = assist_file(sav, {"outcome": "income", "group": "sex"}, shown_path="surveys/study.sav")
    assert "'surveys/study.sav'" in out["code"] and "pyreadstat.read_sav" in out["code"]
    # sex 9 ("no answer") and income -1 (twice) are missing: 7 of the 10 respondents
    assert out["test"] == "t_test_ind" and out["dof"] == 5
    run = clean_kernel.run(out["cell"]["source"])
    assert run.error is None, run.error
    assert run.stdout.strip().splitlines()[-1] == out["apa"]
    assert "5 missing codes set to NA" in run.stdout
    got = clean_kernel.run("print(df['sex'].value_counts().to_dict())").stdout.strip()
    assert got == str({"male": 4, "female": 3})


def test_the_cell_names_data_in_another_folder_relative_to_the_notebook(files):
    lines = read_code(files["sav"], shown_path="../data/study.sav")
    assert "_file = '../data/study.sav'" in lines
    assert len([s for s in lines if s.startswith("_codebook = ")]) == 1


def test_read_code_on_the_survey_definition_says_what_to_open(files):
    from datadive_server_ext.survey import SurveyError

    with pytest.raises(SurveyError, match="open the CSV export"):
        read_code(files["qualtrics"].with_suffix(".qsf"))
