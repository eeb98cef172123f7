"""What the user asks: a :class:`Question` (the variables picked) and the design it implies."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


class AssistError(ValueError):
    """Bad input, with a message that says what to do (CLI exit 2, HTTP 400)."""


#: fields a question may carry (the CLI flags, the route's body keys, the cell's recorded inputs)
FIELDS = (
    "outcome",
    "group",
    "paired_with",
    "within",
    "subject",
    "within_columns",
    "x",
    "y",
    "covariate",
    "groups",
    "filter",
    "mu",
    "level",
    "levels",
    "alpha",
)


@dataclass
class Question:
    """The variables picked; ``kind`` (the design) is derived by :func:`Question.resolve`."""

    outcome: str | None = None
    group: str | None = None
    paired_with: str | None = None
    within: str | None = None
    subject: str | None = None
    within_columns: list[str] | None = None
    x: str | None = None
    y: str | None = None
    covariate: str | None = None
    groups: list[str] | None = None
    filter: str | None = None
    mu: float = 0.0
    level: Any = None  # the category of interest of a yes/no outcome
    levels: list[Any] | None = None  # the group values to compare (others are left out)
    alpha: float = 0.05
    kind: str = field(default="", compare=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Question:
        """From a JSON body / recorded inputs; unknown keys and wrong types are errors."""
        if not isinstance(data, dict):
            raise AssistError("The question must be a JSON object of variables")
        unknown = sorted(set(data) - set(FIELDS) - {"kind"})
        if unknown:
            raise AssistError(
                f"Unknown field(s) {', '.join(unknown)}; the fields are {', '.join(FIELDS)}"
            )
        kw: dict[str, Any] = {}
        for key in FIELDS:
            value = data.get(key)
            if value is None:
                continue
            if key in ("within_columns", "groups", "levels"):
                if not isinstance(value, list) or (
                    key != "levels" and not all(isinstance(v, str) for v in value)
                ):
                    raise AssistError(f"{key} must be a list of column names")
            elif key in ("mu", "alpha"):
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise AssistError(f"{key} must be a number, e.g. {key}: 0.05")
                value = float(value)
            elif key not in ("level",) and not isinstance(value, str):
                raise AssistError(f"{key} must be a column name (text)")
            if isinstance(value, str) and not value and key != "level":
                continue
            kw[key] = value
        return cls(**kw).resolve()

    def to_dict(self) -> dict[str, Any]:
        """The inputs that were used (None and defaults left out but mu/alpha kept)."""
        d = asdict(self)
        d.pop("kind")
        return {k: v for k, v in d.items() if v is not None}

    def resolve(self) -> Question:
        """Check the combination of variables and set ``kind``; errors say what to pick."""
        if not 0 < self.alpha < 1:
            raise AssistError(f"alpha must be between 0 and 1 (got {self.alpha}); 0.05 is usual")
        if self.filter is not None and ("@" in self.filter or "__" in self.filter):
            raise AssistError(
                "The filter may compare columns with values (e.g. age >= 18 and country == 'NL'); "
                "'@' and '__' are not allowed"
            )
        roles = [
            ("outcome", self.outcome),
            ("group", self.group),
            ("paired_with", self.paired_with),
            ("within", self.within),
            ("subject", self.subject),
            ("x", self.x),
            ("y", self.y),
            ("covariate", self.covariate),
            *(("groups", g) for g in self.groups or []),
            *(("within_columns", c) for c in self.within_columns or []),
        ]
        seen: dict[str, str] = {}
        for role, col in roles:
            if col is None:
                continue
            if col in seen and not (role == seen[col] and role in ("groups", "within_columns")):
                raise AssistError(
                    f"{col!r} is used as both {seen[col]} and {role}; pick different columns"
                )
            seen.setdefault(col, role)
        given = {
            "group": self.group is not None,
            "paired_with": self.paired_with is not None,
            "within": self.within is not None or self.subject is not None,
            "within_columns": bool(self.within_columns),
            "x/y": self.x is not None or self.y is not None,
            "covariate": self.covariate is not None,
            "groups": bool(self.groups),
        }
        if given["covariate"]:
            if not self.group or not self.outcome:
                raise AssistError(
                    "A covariate needs an outcome and a group: --covariate COL --group COL"
                )
            if any(v for k, v in given.items() if k not in ("covariate", "group")):
                raise AssistError("With a covariate give only --outcome, --group and --covariate")
            self.kind = "covariate"
            return self
        chosen = [k for k, v in given.items() if v]
        if len(chosen) > 1:
            raise AssistError(
                f"Choose one design, not {' and '.join(chosen)}: --group (independent groups), "
                "--paired-with (two measurements), --within with --subject or --within-columns "
                "(repeated measures), --x/--y (relationship), --covariate with --group, --groups A B"
            )
        kind = chosen[0] if chosen else None
        if kind == "x/y":
            if not (self.x and self.y):
                raise AssistError("A relationship needs two variables: --x COL --y COL")
            if self.outcome:
                raise AssistError("For a relationship give --x and --y, not --outcome")
            self.kind = "relationship"
            return self
        if kind == "within_columns":
            if self.outcome:
                raise AssistError(
                    "With --within-columns each column is one measurement; leave out --outcome"
                )
            if len(self.within_columns or []) < 2:
                raise AssistError(
                    "--within-columns needs at least two columns (one per measurement)"
                )
            if len(set(self.within_columns or [])) != len(self.within_columns or []):
                raise AssistError(
                    "--within-columns lists a column twice; give each measurement once"
                )
            self.kind = "repeated"
            return self
        if not self.outcome:
            raise AssistError("Pick the outcome: the variable you want to compare (--outcome COL)")
        if kind is None:
            self.kind = "one_sample"
        elif kind == "group":
            self.kind = "independent_groups"
        elif kind == "paired_with":
            if self.paired_with == self.outcome:
                raise AssistError("--paired-with must be a different column than --outcome")
            self.kind = "paired"
        elif kind == "within":
            if not (self.within and self.subject):
                raise AssistError(
                    "Repeated measures in long format need both --within COL (the time/condition) "
                    "and --subject COL (who was measured)"
                )
            self.kind = "repeated"
        elif kind == "groups":
            if len(self.groups or []) != 2 or len(set(self.groups or [])) != 2:
                raise AssistError("--groups takes exactly two different factor columns")
            self.kind = "two_factors"
        return self

    def columns(self) -> list[str]:
        """Every column the question uses."""
        cols = [
            self.outcome,
            self.group,
            self.paired_with,
            self.within,
            self.subject,
            self.x,
            self.y,
            self.covariate,
            *(self.within_columns or []),
            *(self.groups or []),
        ]
        return [c for c in dict.fromkeys(cols) if c is not None]
