"""The codebook of a dataset: per column its question text, level, value labels in order,
missing codes, block and whether it identifies respondents; JSON in and out, schema-checked."""

from __future__ import annotations

import functools
import json
import numbers
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

LEVELS = ("nominal", "ordinal", "scale", "identifier", "text")
FORMATS = ("qualtrics", "spss", "csv", "excel")
SUFFIX = ".codebook.json"
SCHEMA_PATH = Path(__file__).with_name("codebook.schema.json")


class SurveyError(ValueError):
    """A data file that cannot be read as survey data; the message says what to do."""


class CodebookInvalid(SurveyError):
    """A codebook document that does not fit the schema; ``field`` names where (e.g.
    ``columns[2].level``)."""

    def __init__(self, field: str, message: str, file: str | None = None):
        self.field, self.message, self.file = field, message, file
        text = f"{field}: {message}" if field else message
        super().__init__(f"{file}: {text}" if file else text)


@dataclass
class ValueLabel:
    value: float | int | str
    label: str


@dataclass
class Column:
    name: str
    level: str = "nominal"
    question: str = ""
    values: list[ValueLabel] = field(default_factory=list)  # in their order (Likert: by code)
    missing: list[float | int | str] = field(default_factory=list)
    missing_ranges: list[tuple[float, float]] = field(default_factory=list)
    block: str | None = None
    personal_data: bool = False
    kind: str | None = None  # what it was in the source: matrix, slider, embedded_data, ...
    question_id: str | None = None  # Qualtrics QID, when known

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "level": self.level, "question": self.question}
        out["values"] = [{"value": v.value, "label": v.label} for v in self.values]
        out["missing"] = list(self.missing)
        out["missing_ranges"] = [[lo, hi] for lo, hi in self.missing_ranges]
        out["block"] = self.block
        out["personal_data"] = self.personal_data
        out["kind"] = self.kind
        out["question_id"] = self.question_id
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Column:
        return cls(
            name=d["name"],
            level=d["level"],
            question=d.get("question", ""),
            values=[ValueLabel(v["value"], v["label"]) for v in d.get("values", [])],
            missing=list(d.get("missing", [])),
            missing_ranges=[(lo, hi) for lo, hi in d.get("missing_ranges", [])],
            block=d.get("block"),
            personal_data=bool(d.get("personal_data", False)),
            kind=d.get("kind"),
            question_id=d.get("question_id"),
        )

    def is_missing_code(self, value: Any) -> bool:
        """Whether ``value`` is one of this column's missing codes or inside a missing range."""
        if self.missing and code_key(value) in {code_key(c) for c in self.missing}:
            return True
        if self.missing_ranges and isinstance(value, numbers.Real) and not isinstance(value, bool):
            number = float(value)
            return any(lo <= number <= hi for lo, hi in self.missing_ranges)
        return False


def code_key(value: Any) -> str:
    """One spelling for a code whether it arrives as 3, 3.0 or "3" (labels stay themselves)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value).strip()
    return str(int(number)) if number.is_integer() else repr(number)


@dataclass
class Codebook:
    columns: list[Column] = field(default_factory=list)
    source: dict[str, Any] = field(default_factory=dict)
    version: int = 1

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def names(self, *levels: str) -> list[str]:
        """Column names, only those of the given levels when any are named."""
        return [c.name for c in self.columns if not levels or c.level in levels]

    def personal_data(self) -> list[str]:
        return [c.name for c in self.columns if c.personal_data]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "source": dict(self.source),
            "columns": [c.to_json() for c in self.columns],
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, doc: Any) -> Codebook:
        """A codebook from its JSON document; :class:`CodebookInvalid` naming the field when it
        does not fit the schema (or names a column twice)."""
        validate(doc)
        seen: set[str] = set()
        for i, c in enumerate(doc["columns"]):
            if c["name"] in seen:
                raise CodebookInvalid(
                    f"columns[{i}].name", f"{c['name']!r} is listed twice; each column once"
                )
            seen.add(c["name"])
            for lo, hi in c.get("missing_ranges", []):
                if lo > hi:
                    raise CodebookInvalid(
                        f"columns[{i}].missing_ranges",
                        f"range [{lo}, {hi}] starts above its end; write [low, high]",
                    )
        return cls(
            columns=[Column.from_json(c) for c in doc["columns"]],
            source=dict(doc.get("source", {})),
            version=doc["version"],
        )

    @classmethod
    def loads(cls, text: str | bytes) -> Codebook:
        try:
            if isinstance(text, bytes):
                text = text.decode("utf-8")
            doc = json.loads(text.lstrip("\ufeff"))  # an editor may have added a BOM
        except (ValueError, UnicodeDecodeError, RecursionError) as e:
            raise CodebookInvalid("", f"the codebook is not valid JSON ({e})") from None
        return cls.from_json(doc)


@functools.cache
def schema() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return doc


@functools.cache
def _validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema())


def validate(doc: Any) -> None:
    """Raise :class:`CodebookInvalid` for the first problem (the deepest, most specific one)."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(doc))
    if error is None:
        return
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    raise CodebookInvalid(where.lstrip(".") or "(top level)", error.message)


def codebook_path(data_path: str | Path) -> str:
    """Where the codebook of a data file lives: beside it, ``<file>.codebook.json``."""
    return str(data_path) + SUFFIX
