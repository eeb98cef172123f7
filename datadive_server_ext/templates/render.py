"""Render a template with values into nbformat v4 cells — values enter code only as literals.

Security argument (see docs/templates.md): the code body was checked at load time so that each
``{{ name }}`` stands alone where an expression (or, for variable inputs, a name) goes. Rendering
replaces it with either a Python literal built recursively from ``repr`` of str/int/float/bool/None
and list/dict displays of those, or a checked identifier. Neither can add a statement or change
the structure of the code around it.
"""

from __future__ import annotations

import hashlib
import html
import math
import uuid
from typing import Any

import jsonschema

from .model import VARIABLE_MSG, Template, deep_error, friendly_error, is_variable_name


class ValuesInvalid(ValueError):
    """Values do not match a template's inputs; ``errors`` maps each field to one message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class RenderError(ValueError):
    """The template cannot be rendered (e.g. a language without a renderer)."""


# ---------------------------------------------------------------- literals


def python_literal(value: Any) -> str:
    """A Python literal for a JSON-like value; ``ast.literal_eval`` gives the value back."""
    if value is None or value is True or value is False:
        return repr(value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, int):
        text = repr(int(value))
        return f"({text})" if value < 0 else text
    if isinstance(value, float):
        if not math.isfinite(value):
            raise RenderError("numbers must be finite")
        text = repr(float(value))
        return f"({text})" if math.copysign(1.0, value) < 0 else text
    if isinstance(value, list | tuple):
        return "[" + ", ".join(python_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            if not isinstance(k, str):
                raise RenderError("dictionary keys must be strings")
            items.append(f"{python_literal(k)}: {python_literal(v)}")
        return "{" + ", ".join(items) + "}"
    raise RenderError(f"cannot write a {type(value).__name__} as a literal")


#: characters that make markdown structure (links, images, emphasis, code, math, tables,
#: headings); a value's are backslash-escaped so they show as typed (CommonMark allows
#: escaping any ASCII punctuation)
_MARKDOWN_ACTIVE = set("\\`*_[]()!$~|#{}")


def _markdown_text(value: Any, in_code: bool = False) -> str:
    """A value as inert markdown text: it shows as typed and cannot form a link, an image, raw
    HTML or a new block (newlines are collapsed). Inside a code span (``in_code``) markdown is
    literal already, so only backticks are replaced there (a value cannot close the span)."""
    if value is None:
        return "—"
    if value is True or value is False:
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_markdown_text(v, in_code) for v in value)
    text = " ".join(str(value).split())  # no newlines: cannot start a new markdown block
    if in_code:
        return text.replace("`", "'")
    return "".join(
        html.escape(c, quote=False) if c in "<>&" else ("\\" + c if c in _MARKDOWN_ACTIVE else c)
        for c in text
    )


# ---------------------------------------------------------------- values


def _validator(template: Template) -> jsonschema.Draft202012Validator:
    v = template.__dict__.get("_values_validator")
    if v is None:
        v = jsonschema.Draft202012Validator(
            template.values_schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
        template.__dict__["_values_validator"] = v
    return v


def check_values(template: Template, values: Any) -> dict[str, Any]:
    """Validate ``values``; return them completed with defaults, or raise :class:`ValuesInvalid`."""
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ValuesInvalid({"values": "must be a JSON object mapping input names to values"})
    errors: dict[str, str] = {}
    known = [i.name for i in template.inputs]
    for key in values:
        if key not in known:
            errors[str(key)] = (
                f"unknown input; this template's inputs are: {', '.join(known) or 'none'}"
            )
    out: dict[str, Any] = {}
    for inp in template.inputs:
        if inp.name in values and values[inp.name] is not None:
            out[inp.name] = values[inp.name]
        elif inp.has_default:
            out[inp.name] = inp.default
        elif inp.required:
            errors[inp.name] = "required: give a value"
        else:
            out[inp.name] = [] if inp.multiple else None
    present = {k: v for k, v in out.items() if v is not None}
    for err in _validator(template).iter_errors(present):
        name = err.path[0] if err.path else None
        if isinstance(name, str) and name not in errors:
            errors[name] = friendly_error(err, template.input(name))
    for inp in template.inputs:
        if inp.name in errors or inp.name not in out:
            continue
        v = out[inp.name]
        if inp.type == "variable" and not is_variable_name(v):
            errors[inp.name] = VARIABLE_MSG
        elif v is not None:
            deep = deep_error(v)
            if deep:
                errors[inp.name] = deep
    if errors:
        raise ValuesInvalid(errors)
    return out


# ---------------------------------------------------------------- rendering


def source_hash(source: str) -> str:
    """Hash of a cell's source, stored in metadata to detect hand edits."""
    return "sha256:" + hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()


def render_code(template: Template, values: dict[str, Any]) -> str:
    """The code body with each placeholder replaced (values must come from :func:`check_values`)."""
    if template.language != "python":
        raise RenderError(
            f"rendering {template.language} templates is not supported yet; use python"
        )
    kinds = {i.name: i.type for i in template.inputs}
    out = []
    for condition, parts in template.code_lines:
        if condition is not None and is_empty(values.get(condition)):
            continue  # '# datadive: if NAME' and NAME is empty: the line is left out
        for part in parts:
            if isinstance(part, str):
                out.append(part)
            else:
                name = part[0]
                value = values[name]
                if kinds[name] == "variable":
                    if not is_variable_name(value):  # defence in depth: check_values did this
                        raise ValuesInvalid({name: VARIABLE_MSG})
                    out.append(value)
                else:
                    out.append(python_literal(value))
    return "".join(out).rstrip("\n")  # a left-out last line leaves no trailing newline


def is_empty(value: Any) -> bool:
    """What '# datadive: if NAME' leaves out: no value, false, blank text or an empty list."""
    if value is None or value is False:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | dict):
        return len(value) == 0
    return False


def render_markdown(template: Template, values: dict[str, Any]) -> str | None:
    if template.markdown is None:
        return None
    out = []
    ticks = 0  # backticks so far: odd means the placeholder stands inside a code span
    for p in template.markdown_parts:
        if isinstance(p, str):
            ticks += p.count("`")
            out.append(p)
        else:
            out.append(_markdown_text(values[p[0]], in_code=ticks % 2 == 1))
    return "".join(out)


def _cell_id() -> str:
    return uuid.uuid4().hex[:8]


def render_cells(template: Template, values: Any) -> list[dict[str, Any]]:
    """nbformat v4 cells (optional markdown, then code) for ``values``; raises ValuesInvalid."""
    checked = check_values(template, values)
    code = render_code(template, checked)
    meta = {
        "template": template.id,
        "version": template.version,
        "values": checked,
        "source_hash": source_hash(code),
    }
    cells: list[dict[str, Any]] = []
    md = render_markdown(template, checked)
    if md is not None:
        cells.append(
            {
                "cell_type": "markdown",
                "id": _cell_id(),
                "metadata": {
                    "datadive": {
                        "template": template.id,
                        "version": template.version,
                        "role": "markdown",
                        "source_hash": source_hash(md),
                    }
                },
                "source": md,
            }
        )
    cells.append(
        {
            "cell_type": "code",
            "id": _cell_id(),
            "execution_count": None,
            "metadata": {"datadive": meta},
            "outputs": [],
            "source": code,
        }
    )
    return cells


def is_hand_edited(cell: dict[str, Any]) -> bool:
    """True when a generated cell's source no longer matches the hash recorded at generation."""
    meta = (cell.get("metadata") or {}).get("datadive") or {}
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(source)
    return meta.get("source_hash") != source_hash(source)
