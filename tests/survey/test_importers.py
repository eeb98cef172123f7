"""Qualtrics (.qsf + CSV export), SPSS .sav and plain CSV / Excel become the right codebook, and
the labelled frame has ordered Likert items, missing codes as NA and personal data dropped."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from survey_files import EXPORT_ROWS, LIKERT, SAV_FRAME, write_export

from datadive_server_ext.survey import (
    Codebook,
    CodebookInvalid,
    SurveyError,
    apply_codebook,
    build_codebook,
    codebook_path,
    read_table,
)

EXPECTED_LEVELS = {
    "StartDate": "text",
    "EndDate": "text",
    "Status": "nominal",
    "IPAddress": "identifier",
    "Progress": "scale",
    "Duration (in seconds)": "scale",
    "Finished": "nominal",
    "RecordedDate": "text",
    "ResponseId": "identifier",
    "RecipientLastName": "text",
    "RecipientFirstName": "text",
    "RecipientEmail": "identifier",
    "ExternalReference": "identifier",
    "LocationLatitude": "scale",
    "LocationLongitude": "scale",
    "DistributionChannel": "nominal",
    "UserLanguage": "nominal",
    "Q1": "nominal",
    "Q1_4_TEXT": "text",
    "Q2": "scale",
    "Q3_1": "ordinal",
    "Q3_2": "ordinal",
    "Q3_3": "ordinal",
    "Q4_1": "scale",
    "Q4_2": "scale",
    "Q5": "text",
    "Q6_1": "nominal",
    "Q6_2": "nominal",
    "1_Q7": "nominal",
    "2_Q7": "nominal",
    "condition": "nominal",
    "panel_id": "identifier",
}
PERSONAL = {
    "IPAddress",
    "RecipientLastName",
    "RecipientFirstName",
    "RecipientEmail",
    "ExternalReference",
    "LocationLatitude",
    "LocationLongitude",
}


def test_qualtrics_with_qsf_types_every_column(qualtrics_files):
    _, csv_path, _ = qualtrics_files
    df, cb = build_codebook(csv_path)
    assert len(df) == 8 and list(df.columns) == list(EXPECTED_LEVELS)
    assert {c.name: c.level for c in cb.columns} == EXPECTED_LEVELS
    assert set(cb.personal_data()) == PERSONAL
    assert cb.source == {
        "format": "qualtrics",
        "file": "survey.csv",
        "definition": "survey.qsf",
        "read_options": {"skiprows": [1, 2], "encoding": "utf-8-sig"},
    }
    q3 = cb.column("Q3_1")
    # answers are shown "Strongly agree" first; the codebook orders them by recode value
    assert [(v.value, v.label) for v in q3.values] == list(enumerate(LIKERT, start=1))
    assert q3.question == "How much do you agree? - Datadive is easy"
    assert q3.block == "Attitudes" and q3.kind == "matrix" and q3.question_id == "QID3"
    assert cb.column("Q3_3").question == "How much do you agree? - Statistics & me"
    q1 = cb.column("Q1")
    assert [(v.value, v.label) for v in q1.values] == [
        (1, "Male"),
        (2, "Female"),
        (3, "Non-binary"),
        (4, "Other"),
    ]
    assert q1.question == "What is your gender?" and q1.block == "Demographics"
    assert cb.column("Q1_4_TEXT").kind == "text_entry"
    assert cb.column("Q4_1").kind == "slider"
    assert cb.column("Q4_2").question == "Move the sliders - Trust"
    assert [(v.value, v.label) for v in cb.column("Q6_2").values] == [(2, "Laptop")]
    tea = cb.column("2_Q7")
    assert tea.question == "[Tea] How often do you drink Tea?"
    assert tea.block == "Drinks" and tea.question_id == "QID7"
    assert cb.column("condition").kind == "embedded_data"
    assert cb.column("panel_id").kind == "embedded_data"
    assert cb.column("StartDate").kind == "datetime"


def test_qualtrics_labelled_frame(qualtrics_files):
    _, csv_path, _ = qualtrics_files
    df, _ = read_table(csv_path, keep_personal=False)
    assert not PERSONAL & set(df.columns)
    q3 = df["Q3_1"]
    assert isinstance(q3.dtype, pd.CategoricalDtype) and q3.dtype.ordered
    assert list(q3.cat.categories) == LIKERT
    raw = [r[20] for r in EXPORT_ROWS]
    assert list(q3) == [LIKERT[v - 1] for v in raw]
    assert q3.max() == "Strongly agree" and q3.min() == "Strongly disagree"
    assert df["Q3_1"].cat.codes.tolist() == [v - 1 for v in raw]
    assert df["Q3_2"].isna().sum() == 1  # the one unanswered item stays missing
    assert not df["Q1"].dtype.ordered and list(df["Q1"].cat.categories)[:2] == ["Male", "Female"]
    assert df["Q2"].dtype.kind in "if" and df["Q4_1"].dtype.kind == "f"
    assert df.attrs["variable_labels"]["Q3_1"] == "How much do you agree? - Datadive is easy"


def test_qualtrics_choice_text_export_gets_the_same_categories(tmp_path, qualtrics_files):
    _, _, qsf_path = qualtrics_files
    rows = [list(r) for r in EXPORT_ROWS]
    for r in rows:
        r[20] = LIKERT[r[20] - 1]  # "choice text" export of the first Likert item
    path = write_export(tmp_path / "qualtrics" / "labels.csv", rows)
    df, cb = read_table(path)
    assert cb.source["definition"] == "survey.qsf"  # the folder's only .qsf
    assert df["Q3_1"].dtype.ordered and list(df["Q3_1"].cat.categories) == LIKERT
    assert list(df["Q3_1"]) == [LIKERT[r[20] - 1] for r in EXPORT_ROWS]


def test_qualtrics_without_qsf_still_reads_headers(tmp_path):
    path = write_export(tmp_path / "export.csv")
    df, cb = build_codebook(path)
    assert cb.source["definition"] is None
    assert set(cb.personal_data()) == PERSONAL
    assert cb.column("Q3_1").question == "How much do you agree? - Datadive is easy"
    assert cb.column("Q3_1").question_id == "QID3" and cb.column("Q3_1").level == "ordinal"
    assert cb.column("Q1_4_TEXT").level == "text"
    assert cb.column("Q5").level == "text"
    assert cb.column("Q4_2").level == "scale"


def test_spss_measures_labels_and_missing(sav_path):
    df, cb = build_codebook(sav_path)
    levels = {c.name: c.level for c in cb.columns}
    assert levels == {
        "id": "identifier",  # SPSS says nominal, but every value is different and unlabelled
        "sex": "nominal",
        "satisfaction": "ordinal",
        "income": "scale",
        "comment": "text",
        "email": "identifier",
    }
    assert cb.personal_data() == ["email"]
    sat, sex, income = cb.column("satisfaction"), cb.column("sex"), cb.column("income")
    assert sat.question == "How satisfied are you?"
    assert sat.missing_ranges == [(97.0, 99.0)] and sat.missing == []
    # labels of missing codes are not categories; the rest in code order
    assert [v.label for v in sat.values] == [
        "very dissatisfied",
        "dissatisfied",
        "neutral",
        "satisfied",
        "very satisfied",
    ]
    assert sex.missing == [9] and [v.label for v in sex.values] == ["male", "female"]
    assert income.missing == [-1]
    raw = df["satisfaction"].tolist()
    assert 98 in raw and 99 in raw  # read with user_missing=True: the codes are seen

    labelled, _ = read_table(sav_path, keep_personal=False)
    assert "email" not in labelled.columns
    s = labelled["satisfaction"]
    assert s.dtype.ordered and list(s.cat.categories) == [v.label for v in sat.values]
    assert s.isna().tolist() == [v in (98, 99) for v in SAV_FRAME["satisfaction"]]
    assert labelled["sex"].isna().sum() == 1 and "no answer" not in labelled["sex"].cat.categories
    expected_income = SAV_FRAME["income"].replace(-1, np.nan)
    assert labelled["income"].mean() == pytest.approx(expected_income.mean())
    assert labelled.attrs["variable_labels"]["income"] == "Monthly income (EUR)"

    codes, _ = read_table(sav_path, labelled=False)
    assert codes["satisfaction"].max() == 5 and codes["income"].min() == 2100.5


def test_plain_csv_inference(tmp_path):
    n = 30
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "respondent": np.arange(1, n + 1),
            "group": np.tile(["a", "b", "c"], n // 3),
            "smoker": np.tile([0, 1], n // 2),
            "rating": rng.integers(1, 6, n),
            "agreement": np.tile(["Agree", "Strongly disagree", "Neither agree nor disagree"], 10),
            "weight": np.round(rng.normal(70, 8, n), 1),
            "note": [f"free text answer number {i}" for i in range(n)],
            "code": [f"X{i:04d}" for i in range(n)],
            "E-mail": [f"u{i}@example.org" for i in range(n)],
            "empty": [None] * n,
            "when": pd.date_range("2026-01-01", periods=n).strftime("%Y-%m-%d"),
        }
    )
    path = tmp_path / "plain.csv"
    frame.to_csv(path, index=False)
    df, cb = build_codebook(path)
    assert {c.name: c.level for c in cb.columns} == {
        "respondent": "identifier",
        "group": "nominal",
        "smoker": "nominal",
        "rating": "ordinal",
        "agreement": "ordinal",
        "weight": "scale",
        "note": "text",
        "code": "identifier",
        "E-mail": "identifier",
        "empty": "text",
        "when": "text",
    }
    assert cb.column("when").kind == "datetime"
    assert cb.personal_data() == ["E-mail"]
    assert [v.label for v in cb.column("agreement").values] == [
        "Strongly disagree",
        "Neither agree nor disagree",
        "Agree",
    ]
    labelled = apply_codebook(df, cb)
    assert labelled["agreement"].dtype.ordered
    assert labelled["rating"].dtype.ordered
    assert list(labelled["rating"].cat.categories) == sorted(frame["rating"].unique())
    assert "E-mail" not in labelled.columns

    xlsx = tmp_path / "plain.xlsx"
    frame.drop(columns=["when"]).to_excel(xlsx, index=False)
    _, xcb = build_codebook(xlsx)
    assert xcb.source["format"] == "excel" and xcb.column("rating").level == "ordinal"


def test_stored_codebook_wins_and_round_trips(qualtrics_files):
    _, csv_path, _ = qualtrics_files
    _, cb = build_codebook(csv_path)
    cb.column("Q6_1").personal_data = True
    cb.column("Q2").level = "ordinal"
    cb.column("Q4_1").missing = [0]
    doc = cb.to_json()
    assert Codebook.from_json(json.loads(json.dumps(doc))).to_json() == doc
    with open(codebook_path(csv_path), "w", encoding="utf-8") as f:
        f.write(cb.dumps())
    df, stored = read_table(csv_path, keep_personal=False)
    assert stored.column("Q2").level == "ordinal"
    assert "Q6_1" not in df.columns
    assert df["Q2"].dtype.ordered
    assert df["Q4_1"].isna().sum() == 1  # the slider's 0 is now a missing code


@pytest.mark.parametrize(
    "change, field, words",
    [
        (lambda d: d["columns"][2].update(level="interval"), "columns[2].level", "interval"),
        (lambda d: d["columns"][0].pop("name"), "columns[0]", "'name' is a required"),
        (lambda d: d["columns"][3].update(personal_data="yes"), "columns[3].personal_data", ""),
        (lambda d: d["columns"][4]["values"].append({"value": 1}), "columns[4].values[0]", "label"),
        (
            lambda d: d["columns"][1].update(missing_ranges=[[5, 1]]),
            "columns[1].missing_ranges",
            "[low, high]",
        ),
        (lambda d: d["columns"].append(dict(d["columns"][0])), "columns[32].name", "twice"),
        (lambda d: d.update(version=2), "version", "1"),
    ],
)
def test_invalid_codebook_names_the_field(qualtrics_files, change, field, words):
    _, csv_path, _ = qualtrics_files
    doc = build_codebook(csv_path)[1].to_json()
    change(doc)
    with pytest.raises(CodebookInvalid) as e:
        Codebook.from_json(doc)
    assert e.value.field == field
    assert words in str(e.value)


def test_unreadable_files_say_what_to_do(tmp_path, qualtrics_files):
    _, _, qsf_path = qualtrics_files
    with pytest.raises(SurveyError, match="open the CSV export"):
        build_codebook(qsf_path)
    bad = tmp_path / "broken.sav"
    bad.write_bytes(b"not spss at all")
    with pytest.raises(SurveyError, match="not a readable SPSS"):
        build_codebook(bad)
    with pytest.raises(SurveyError, match="must be a CSV"):
        build_codebook(tmp_path / "data.json")
    stored = tmp_path / "x.csv"
    stored.write_text("a,b\n1,2\n")
    (tmp_path / "x.csv.codebook.json").write_text('{"version": 1, "columns": [{"name": "a"}]}')
    with pytest.raises(CodebookInvalid, match=r"x.csv.codebook.json: .*level"):
        read_table(stored)


def test_repeated_header_names_match_the_frame(tmp_path, qualtrics_files):
    from survey_files import HEADERS

    folder, _, _ = qualtrics_files
    headers = [*HEADERS, ("Q2", "How old are you? (again)", {"ImportId": "QID2_TEXT"})]
    rows = [[*r, r[19]] for r in EXPORT_ROWS]
    df, cb = build_codebook(write_export(folder / "twice.csv", rows, headers))
    assert cb.names() == list(df.columns) and df.columns[-1] == "Q2.1"
    assert cb.column("Q2.1").level == "scale" and cb.column("Q2.1").question == "How old are you?"


def test_joined_multiple_answers_and_list_shaped_choices(tmp_path):
    """Newer exports put all answers of a multiple-answer question in one column ("1,2"); some
    .qsf files hold choices as a list."""
    from survey_files import HEADERS, qsf

    doc = qsf()
    q1 = next(e["Payload"] for e in doc["SurveyElements"] if e.get("PrimaryAttribute") == "QID1")
    q1["Choices"] = [{"Display": "Male"}, {"Display": "Female"}, {"Display": "Non-binary"}]
    q1["RecodeValues"] = ["1", "2", "3"]
    q1["ChoiceOrder"] = ["1", "2", "3"]
    folder = tmp_path / "joined"
    folder.mkdir()
    (folder / "s.qsf").write_text(json.dumps(doc))
    headers = [
        *HEADERS,
        ("Q6", "Which devices do you use? - Selected Choice", {"ImportId": "QID6"}),
    ]
    rows = [[*r, "1,2" if i % 2 else "2"] for i, r in enumerate(EXPORT_ROWS)]
    df, cb = build_codebook(write_export(folder / "s.csv", rows, headers))
    assert [v.label for v in cb.column("Q1").values] == ["Male", "Female", "Non-binary"]
    q6 = cb.column("Q6")
    assert q6.level == "text" and [v.label for v in q6.values] == ["Phone", "Laptop"]
    labelled = apply_codebook(df, cb)
    assert labelled["Q6"].tolist()[:2] == ["2", "1,2"]  # kept as given, not forced into a category


def test_codebook_text_with_a_bom_or_broken_json(qualtrics_files):
    _, csv_path, _ = qualtrics_files
    text = build_codebook(csv_path)[1].dumps()
    assert Codebook.loads("\ufeff" + text).to_json() == Codebook.loads(text.encode()).to_json()
    with pytest.raises(CodebookInvalid, match="not valid JSON"):
        Codebook.loads(text[:-5])
    with pytest.raises(CodebookInvalid, match="not valid JSON"):
        Codebook.loads(b"\xff\xfe")
