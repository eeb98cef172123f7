"""Qualtrics: the CSV export (row 1 column names, row 2 question text, row 3 ``{"ImportId": ...}``)
and, when the user has it, the ``.qsf`` survey definition (question types, choices and their
recode values, blocks, embedded data, loop & merge)."""

from __future__ import annotations

import csv
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .codebook import Codebook, Column, SurveyError, ValueLabel
from .infer import infer_column

ENCODING = "utf-8-sig"  # Qualtrics writes a BOM

# the response metadata Qualtrics puts before the questions: (level, kind, personal data)
METADATA: dict[str, tuple[str, str, bool]] = {
    "StartDate": ("text", "datetime", False),
    "EndDate": ("text", "datetime", False),
    "RecordedDate": ("text", "datetime", False),
    "Status": ("nominal", "metadata", False),
    "IPAddress": ("identifier", "metadata", True),
    "Progress": ("scale", "metadata", False),
    "Duration (in seconds)": ("scale", "metadata", False),
    "Finished": ("nominal", "metadata", False),
    "ResponseId": ("identifier", "metadata", False),
    "RecipientLastName": ("text", "metadata", True),
    "RecipientFirstName": ("text", "metadata", True),
    "RecipientEmail": ("identifier", "metadata", True),
    "ExternalReference": ("identifier", "metadata", True),
    "ExternalDataReference": ("identifier", "metadata", True),
    "LocationLatitude": ("scale", "metadata", True),
    "LocationLongitude": ("scale", "metadata", True),
    "DistributionChannel": ("nominal", "metadata", False),
    "UserLanguage": ("nominal", "metadata", False),
}
_IMPORT_ID = re.compile(r"^(?:(?P<loop>\d+)_)?(?P<qid>QID\d+)(?:_(?P<rest>.+))?$")
_SINGLE = {"SAVR", "SAHR", "SACOL", "DL", "SB", "NPS"}
_MULTI = {"MAVR", "MAHR", "MACOL", "MSB"}


class QualtricsError(SurveyError):
    """A file that is not a readable Qualtrics export or survey definition."""


def is_export(path: str | Path) -> bool:
    """Whether a CSV file has Qualtrics' third header row of ``{"ImportId": ...}`` cells."""
    try:
        with open(path, encoding=ENCODING, newline="") as f:
            rows = [row for _, row in zip(range(3), csv.reader(f), strict=False)]
    except (OSError, UnicodeDecodeError, csv.Error):
        return False
    return len(rows) == 3 and any(c.startswith('{"ImportId"') for c in rows[2])


def read_export(path: str | Path) -> tuple[pd.DataFrame, list[tuple[str, str, dict[str, Any]]]]:
    """The responses (header rows 2 and 3 skipped) and per column (name, question text, import id)."""
    with open(path, encoding=ENCODING, newline="") as f:
        rows = [row for _, row in zip(range(3), csv.reader(f), strict=False)]
    if len(rows) < 3:
        raise QualtricsError(
            f"{Path(path).name} has fewer than 3 header rows; export it from Qualtrics as CSV "
            "with the default headers"
        )
    names, texts, ids = rows
    headers = []
    for i, name in enumerate(names):
        try:
            import_id = json.loads(ids[i]) if i < len(ids) and ids[i] else {}
        except ValueError:
            import_id = {}
        headers.append(
            (
                name,
                texts[i] if i < len(texts) else "",
                import_id if isinstance(import_id, dict) else {},
            )
        )
    df = pd.read_csv(path, skiprows=[1, 2], encoding=ENCODING, low_memory=False)
    return df, headers


@dataclass
class Survey:
    """What a ``.qsf`` says about the questions."""

    questions: dict[str, dict[str, Any]] = field(default_factory=dict)  # QID -> payload
    blocks: dict[str, str] = field(default_factory=dict)  # QID -> block description
    loops: dict[str, dict[str, str]] = field(default_factory=dict)  # QID -> loop no. -> label
    embedded: set[str] = field(default_factory=set)
    name: str = ""


def read_qsf(path: str | Path) -> Survey:
    try:
        doc = json.loads(Path(path).read_text(encoding=ENCODING))
        elements = doc["SurveyElements"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise QualtricsError(
            f"{Path(path).name} is not a Qualtrics survey definition (.qsf) ({e}); export it from "
            "Qualtrics with Tools > Import/Export > Export survey"
        ) from None
    survey = Survey(name=str((doc.get("SurveyEntry") or {}).get("SurveyName", "")))
    for el in elements:
        kind, payload = el.get("Element"), el.get("Payload")
        if kind == "SQ" and isinstance(payload, dict):
            survey.questions[payload.get("QuestionID") or el.get("PrimaryAttribute")] = payload
        elif kind == "BL" and payload:
            blocks = payload.values() if isinstance(payload, dict) else payload
            for b in blocks:
                if not isinstance(b, dict):
                    continue
                loops = _loop_labels(b.get("Options") or {})
                for item in b.get("BlockElements") or []:
                    if item.get("Type") == "Question":
                        survey.blocks[item["QuestionID"]] = b.get("Description", "")
                        if loops:
                            survey.loops[item["QuestionID"]] = loops
        elif kind == "FL" and isinstance(payload, dict):
            _embedded_fields(payload.get("Flow") or [], survey.embedded)
    return survey


def _loop_labels(options: dict[str, Any]) -> dict[str, str]:
    if not options.get("Looping") or options.get("Looping") == "None":
        return {}
    static = (options.get("LoopingOptions") or {}).get("Static") or {}
    return {
        str(n): str(next(iter(fields.values()), n)) if isinstance(fields, dict) else str(n)
        for n, fields in static.items()
    }


def _embedded_fields(flow: list[Any], out: set[str]) -> None:
    for item in flow:
        if not isinstance(item, dict):
            continue
        if item.get("Type") == "EmbeddedData":
            out.update(f["Field"] for f in item.get("EmbeddedData") or [] if f.get("Field"))
        _embedded_fields(item.get("Flow") or [], out)


def plain(text: Any) -> str:
    """Question text without its HTML."""
    text = re.sub(r"<br\s*/?>", " ", str(text or ""), flags=re.I)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", text))).strip()


def _code(raw: Any) -> float | int | str:
    try:
        number = float(raw)
    except (TypeError, ValueError):
        return str(raw)
    return int(number) if number.is_integer() else number


def _as_dict(value: Any) -> dict[str, Any]:
    """Choices, answers and recodes keyed by their id as text (a .qsf may hold a list)."""
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, list):
        return {str(i + 1): v for i, v in enumerate(value) if v not in (None, "")}
    return {}


def _labels(
    choices: dict[str, Any], recodes: dict[str, Any], order: list[Any] | None
) -> list[ValueLabel]:
    ids = [str(i) for i in (order or choices)]
    return [
        ValueLabel(_code(recodes.get(i, i)), plain(_display(choices[i])))
        for i in ids
        if i in choices
    ]


def _display(choice: Any) -> Any:
    return choice.get("Display", "") if isinstance(choice, dict) else choice


def _question_column(
    name: str, text: str, m: re.Match[str], survey: Survey, s: pd.Series
) -> Column:
    qid, rest, loop = m["qid"], m["rest"] or "", m["loop"]
    q = survey.questions[qid]
    qtype, selector = q.get("QuestionType"), q.get("Selector")
    question = plain(q.get("QuestionText")) or text
    if loop and qid in survey.loops:
        label = survey.loops[qid].get(loop, loop)
        question = re.sub(r"\$\{lm://Field/1\}", label, question)
        question = f"[{label}] {question}"
    choices = _as_dict(q.get("Choices"))
    recodes = _as_dict(q.get("RecodeValues"))
    col = Column(name=name, question=question, block=survey.blocks.get(qid), question_id=qid)
    part = rest.split("_")[0] if rest else ""
    if qtype == "TE":
        col.kind = "text_entry"
        content = ((q.get("Validation") or {}).get("Settings") or {}).get("ContentType")
        col.level = "scale" if content == "ValidNumber" else "text"
        if selector == "FORM" and part in choices:
            col.question = f"{question} - {plain(_display(choices[part]))}"
        return col
    if rest.endswith("TEXT"):
        col.level, col.kind = "text", "text_entry"
        if part in choices:
            col.question = f"{question} - {plain(_display(choices[part]))} (text)"
        return col
    if qtype == "MC":
        col.kind = "multiple_choice"
        if selector in _MULTI and part in choices:
            col.level = "nominal"
            col.question = f"{question} - {plain(_display(choices[part]))}"
            col.values = [
                ValueLabel(_code(recodes.get(part, part)), plain(_display(choices[part])))
            ]
        elif selector in _MULTI:  # all answers in one column, "1,3": the labels for reference
            col.level = "text"
            col.values = _labels(choices, recodes, q.get("ChoiceOrder"))
        else:
            col.level = "nominal"
            col.values = _labels(choices, recodes, q.get("ChoiceOrder"))
        return col
    if qtype == "Matrix":
        col.kind = "matrix"
        answers = _as_dict(q.get("Answers"))
        values = _labels(answers, recodes, q.get("AnswerOrder"))
        likert = q.get("SubSelector") in ("SingleAnswer", "DL", None) and selector in (
            "Likert",
            "Bipolar",
            "RO",
        )
        if likert and all(isinstance(v.value, int | float) for v in values):
            values.sort(key=lambda v: v.value)  # Likert: in the order of the recode values
            col.level = "ordinal"
        else:
            col.level = "nominal"
        col.values = values
        if part in choices:
            col.question = f"{question} - {plain(_display(choices[part]))}"
        return col
    if qtype == "Slider":
        col.level, col.kind = "scale", "slider"
        if part in choices:
            col.question = f"{question} - {plain(_display(choices[part]))}"
        return col
    inferred = infer_column(name, s)
    col.level, col.values, col.kind = inferred.level, inferred.values, str(qtype or "").lower()
    return col


def codebook_from_export(
    df: pd.DataFrame,
    headers: list[tuple[str, str, dict[str, Any]]],
    survey: Survey | None = None,
    source: dict[str, Any] | None = None,
) -> Codebook:
    """The codebook of a Qualtrics export; with the survey definition, question types decide."""
    columns = []
    for (header, text, import_id), key in zip(headers, df.columns, strict=False):
        name = str(key)  # as pandas named it (a repeated header gets a ".1" suffix)
        iid = str(import_id.get("ImportId", ""))
        m = _IMPORT_ID.match(iid)
        if header in METADATA:
            level, kind, personal = METADATA[header]
            col = Column(name=name, question=text, level=level, kind=kind, personal_data=personal)
        elif m and survey is not None and m["qid"] in survey.questions:
            col = _question_column(name, text, m, survey, df[key])
        else:
            col = infer_column(name, df[key])
            col.question = text
            if m:
                col.question_id = m["qid"]
                col.kind = "text_entry" if (m["rest"] or "").endswith("TEXT") else None
                if col.kind == "text_entry":
                    col.level = "text"
                if survey is not None:
                    col.block = survey.blocks.get(m["qid"])
            elif survey is None or name in survey.embedded or iid == name:
                col.kind = "embedded_data"
        columns.append(col)
    return Codebook(columns=columns, source={"format": "qualtrics", **(source or {})})


def find_qsf(data_path: str | Path) -> Path | None:
    """The survey definition beside an export: ``<stem>.qsf``, else the folder's only ``.qsf``."""
    p = Path(data_path)
    same = p.with_suffix(".qsf")
    if same.is_file():
        return same
    found = sorted(p.parent.glob("*.qsf"))
    return found[0] if len(found) == 1 else None


def read(path: str | Path, qsf: str | Path | None = None) -> tuple[pd.DataFrame, Codebook]:
    df, headers = read_export(path)
    qsf = qsf if qsf is not None else find_qsf(path)
    survey = read_qsf(qsf) if qsf else None
    source = {
        "file": Path(path).name,
        "definition": Path(qsf).name if qsf else None,
        "read_options": {"skiprows": [1, 2], "encoding": ENCODING},
    }
    return df, codebook_from_export(df, headers, survey, source)
