"""Survey files the tests write: a Qualtrics .qsf and its CSV export, an SPSS .sav."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd

LIKERT = ["Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree"]
# answers as Qualtrics shows them (Strongly agree first) with their recode values
_ANSWERS = {str(i + 1): label for i, label in enumerate(reversed(LIKERT))}
_RECODES = {str(i + 1): str(5 - i) for i in range(5)}


def _mc(qid, tag, text, selector, choices, recodes=None, text_entry=None):
    return {
        "QuestionID": qid,
        "DataExportTag": tag,
        "QuestionText": text,
        "QuestionType": "MC",
        "Selector": selector,
        "SubSelector": "TX",
        "Choices": {
            k: ({"Display": v, "TextEntry": "true"} if k == text_entry else {"Display": v})
            for k, v in choices.items()
        },
        "ChoiceOrder": [int(k) for k in choices],
        "RecodeValues": recodes or {k: k for k in choices},
    }


def qsf() -> dict:
    questions = [
        _mc(
            "QID1",
            "Q1",
            "<div>What is your gender?</div>",
            "SAVR",
            {"1": "Male", "2": "Female", "3": "Non-binary", "4": "Other"},
            text_entry="4",
        ),
        {
            "QuestionID": "QID2",
            "DataExportTag": "Q2",
            "QuestionText": "How old are you?",
            "QuestionType": "TE",
            "Selector": "SL",
            "Validation": {"Settings": {"ContentType": "ValidNumber"}},
        },
        {
            "QuestionID": "QID3",
            "DataExportTag": "Q3",
            "QuestionText": "<b>How much do you agree?</b>",
            "QuestionType": "Matrix",
            "Selector": "Likert",
            "SubSelector": "SingleAnswer",
            "Choices": {
                "1": {"Display": "Datadive is easy"},
                "2": {"Display": "I would recommend it"},
                "3": {"Display": "Statistics &amp; me"},
            },
            "ChoiceOrder": [1, 2, 3],
            "Answers": {k: {"Display": v} for k, v in _ANSWERS.items()},
            "AnswerOrder": [1, 2, 3, 4, 5],
            "RecodeValues": _RECODES,
        },
        {
            "QuestionID": "QID4",
            "DataExportTag": "Q4",
            "QuestionText": "Move the sliders",
            "QuestionType": "Slider",
            "Selector": "HSLIDER",
            "Choices": {"1": {"Display": "Satisfaction"}, "2": {"Display": "Trust"}},
            "Configuration": {"CSSliderMin": 0, "CSSliderMax": 100},
        },
        {
            "QuestionID": "QID5",
            "DataExportTag": "Q5",
            "QuestionText": "Any comments?",
            "QuestionType": "TE",
            "Selector": "ML",
        },
        _mc("QID6", "Q6", "Which devices do you use?", "MAVR", {"1": "Phone", "2": "Laptop"}),
        _mc(
            "QID7",
            "Q7",
            "How often do you drink ${lm://Field/1}?",
            "SAVR",
            {"1": "Never", "2": "Sometimes", "3": "Daily"},
        ),
        {
            "QuestionID": "QID8",
            "DataExportTag": "Q8",
            "QuestionText": "Thank you!",
            "QuestionType": "DB",
            "Selector": "TB",
        },
    ]
    blocks = {
        "1": {
            "Type": "Default",
            "Description": "Demographics",
            "ID": "BL_1",
            "BlockElements": [
                {"Type": "Question", "QuestionID": "QID1"},
                {"Type": "Question", "QuestionID": "QID2"},
            ],
        },
        "2": {
            "Type": "Standard",
            "Description": "Attitudes",
            "ID": "BL_2",
            "BlockElements": [
                {"Type": "Question", "QuestionID": q} for q in ("QID3", "QID4", "QID5", "QID6")
            ],
        },
        "3": {
            "Type": "Standard",
            "Description": "Drinks",
            "ID": "BL_3",
            "BlockElements": [
                {"Type": "Question", "QuestionID": "QID7"},
                {"Type": "Page Break"},
                {"Type": "Question", "QuestionID": "QID8"},
            ],
            "Options": {
                "Looping": "Static",
                "LoopingOptions": {"Static": {"1": {"1": "Coffee"}, "2": {"1": "Tea"}}},
            },
        },
    }
    flow = {
        "Flow": [
            {
                "Type": "EmbeddedData",
                "FlowID": "FL_1",
                "EmbeddedData": [
                    {"Description": "condition", "Type": "Custom", "Field": "condition"},
                    {"Description": "panel_id", "Type": "Recipient", "Field": "panel_id"},
                ],
            },
            {
                "Type": "Randomizer",
                "Flow": [{"Type": "Block", "ID": "BL_1"}, {"Type": "Block", "ID": "BL_2"}],
            },
            {"Type": "Block", "ID": "BL_3"},
        ]
    }
    return {
        "SurveyEntry": {"SurveyID": "SV_test", "SurveyName": "Datadive test survey"},
        "SurveyElements": [
            {
                "SurveyID": "SV_test",
                "Element": "BL",
                "PrimaryAttribute": "Survey Blocks",
                "Payload": blocks,
            },
            {
                "SurveyID": "SV_test",
                "Element": "FL",
                "PrimaryAttribute": "Survey Flow",
                "Payload": flow,
            },
            *(
                {
                    "SurveyID": "SV_test",
                    "Element": "SQ",
                    "PrimaryAttribute": q["QuestionID"],
                    "SecondaryAttribute": q["QuestionText"],
                    "Payload": q,
                }
                for q in questions
            ),
        ],
    }


# (column name, question text row, ImportId) of the export, then 8 responses
HEADERS = [
    ("StartDate", "Start Date", {"ImportId": "startDate", "timeZone": "Europe/Berlin"}),
    ("EndDate", "End Date", {"ImportId": "endDate", "timeZone": "Europe/Berlin"}),
    ("Status", "Response Type", {"ImportId": "status"}),
    ("IPAddress", "IP Address", {"ImportId": "ipAddress"}),
    ("Progress", "Progress", {"ImportId": "progress"}),
    ("Duration (in seconds)", "Duration (in seconds)", {"ImportId": "duration"}),
    ("Finished", "Finished", {"ImportId": "finished"}),
    ("RecordedDate", "Recorded Date", {"ImportId": "recordedDate", "timeZone": "Europe/Berlin"}),
    ("ResponseId", "Response ID", {"ImportId": "_recordId"}),
    ("RecipientLastName", "Recipient Last Name", {"ImportId": "recipientLastName"}),
    ("RecipientFirstName", "Recipient First Name", {"ImportId": "recipientFirstName"}),
    ("RecipientEmail", "Recipient Email", {"ImportId": "recipientEmail"}),
    ("ExternalReference", "External Data Reference", {"ImportId": "externalDataReference"}),
    ("LocationLatitude", "Location Latitude", {"ImportId": "locationLatitude"}),
    ("LocationLongitude", "Location Longitude", {"ImportId": "locationLongitude"}),
    ("DistributionChannel", "Distribution Channel", {"ImportId": "distributionChannel"}),
    ("UserLanguage", "User Language", {"ImportId": "userLanguage"}),
    ("Q1", "What is your gender?", {"ImportId": "QID1"}),
    ("Q1_4_TEXT", "What is your gender? - Other - Text", {"ImportId": "QID1_4_TEXT"}),
    ("Q2", "How old are you?", {"ImportId": "QID2_TEXT"}),
    ("Q3_1", "How much do you agree? - Datadive is easy", {"ImportId": "QID3_1"}),
    ("Q3_2", "How much do you agree? - I would recommend it", {"ImportId": "QID3_2"}),
    ("Q3_3", "How much do you agree? - Statistics & me", {"ImportId": "QID3_3"}),
    ("Q4_1", "Move the sliders - Satisfaction", {"ImportId": "QID4_1"}),
    ("Q4_2", "Move the sliders - Trust", {"ImportId": "QID4_2"}),
    ("Q5", "Any comments?", {"ImportId": "QID5_TEXT"}),
    ("Q6_1", "Which devices do you use? - Phone", {"ImportId": "QID6_1"}),
    ("Q6_2", "Which devices do you use? - Laptop", {"ImportId": "QID6_2"}),
    ("1_Q7", "Coffee - How often do you drink Coffee?", {"ImportId": "1_QID7"}),
    ("2_Q7", "Tea - How often do you drink Tea?", {"ImportId": "2_QID7"}),
    ("condition", "condition", {"ImportId": "condition"}),
    ("panel_id", "panel_id", {"ImportId": "panel_id"}),
]


def _row(i: int) -> list:
    likert = [(i % 5) + 1, ((i + 2) % 5) + 1, 5 - (i % 5)]
    return [
        f"2026-01-0{i + 1} 10:00:00",
        f"2026-01-0{i + 1} 10:0{i}:00",
        0,
        f"192.0.2.{i + 10}",
        100,
        300 + 17 * i,
        1,
        f"2026-01-0{i + 1} 10:09:00",
        f"R_{'abcdefgh'[i]}1XyZ",
        f"Last{i}",
        f"First{i}",
        f"person{i}@example.org",
        f"EXT-{i:03d}",
        52.5 + i / 100,
        13.4 + i / 100,
        "anonymous",
        "EN",
        [1, 2, 3, 4][i % 4],
        "agender" if i % 4 == 3 else "",
        21 + 3 * i,
        *("" if (i == 5 and k == 1) else v for k, v in enumerate(likert)),
        round(10.5 * i, 1),
        100 - 9 * i,
        [
            "Great tool, thanks",
            "Too slow on big files",
            "",
            "Please add R",
            "ok I guess",
            "",
            "More plots please",
            "Liked the templates",
        ][i],
        1 if i % 2 else "",
        1,
        [1, 2, 3][i % 3],
        [3, 2, 1][i % 3],
        ["control", "treatment"][i % 2],
        f"P{i:03d}",
    ]


EXPORT_ROWS = [_row(i) for i in range(8)]


def write_export(path: Path, rows=EXPORT_ROWS, headers=HEADERS) -> Path:
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow([h[0] for h in headers])
        w.writerow([h[1] for h in headers])
        w.writerow([json.dumps(h[2]) for h in headers])
        w.writerows(rows)
    return path


SAV_FRAME = pd.DataFrame(
    {
        "id": [1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        "sex": [1.0, 2, 1, 2, 9, 1, 2, 1, 2, 1],
        "satisfaction": [1.0, 2, 3, 4, 5, 98, 99, 5, 4, 2],
        "income": [2100.5, 3200, -1, 2800, 4100, 3900.25, -1, 2500, 3600, 3000],
        "comment": [
            "good",
            "slow at times",
            "",
            "fine, thanks",
            "n/a please",
            "great tool",
            "",
            "meh",
            "ok for me",
            "loved it",
        ],
        "email": [f"p{i}@example.org" for i in range(10)],
    }
)


def write_sav(path: Path) -> Path:
    import pyreadstat

    pyreadstat.write_sav(
        SAV_FRAME,
        str(path),
        column_labels={
            "id": "Respondent number",
            "sex": "Sex of respondent",
            "satisfaction": "How satisfied are you?",
            "income": "Monthly income (EUR)",
            "comment": "Anything else?",
            "email": "E-mail address",
        },
        variable_value_labels={
            "sex": {1: "male", 2: "female", 9: "no answer"},
            "satisfaction": {
                5: "very satisfied",
                1: "very dissatisfied",
                2: "dissatisfied",
                3: "neutral",
                4: "satisfied",
                98: "don't know",
                99: "refused",
            },
        },
        missing_ranges={"sex": [9], "satisfaction": [{"lo": 97, "hi": 99}], "income": [-1]},
        variable_measure={
            "id": "nominal",
            "sex": "nominal",
            "satisfaction": "ordinal",
            "income": "scale",
            "comment": "nominal",
            "email": "nominal",
        },
    )
    return path
