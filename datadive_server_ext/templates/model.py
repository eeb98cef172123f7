"""The template model: parse and validate a template document, compile its inputs to JSON Schema.

A template file is YAML (see ``schema/template.schema.json`` and docs/templates.md). Every problem
found is a :class:`Problem` with file, line and field, so authors can jump straight to it.
"""

from __future__ import annotations

import ast
import bisect
import functools
import hashlib
import json
import keyword
import math
import os
import re
import unicodedata
from dataclasses import dataclass, field
from dataclasses import replace as dataclass_replace
from functools import cached_property
from importlib import resources
from typing import Any

import jsonschema

from .yamlload import MAX_DEPTH, Path, YamlProblem, line_of, load_with_lines

#: largest template accepted, as YAML text or as a JSON document (the built-ins are under 4 KiB)
MAX_TEMPLATE_BYTES = 256 * 1024

INPUT_TYPES = (
    "text",
    "number",
    "integer",
    "boolean",
    "choice",
    "date",
    "column",
    "file",
    "variable",
    "level",
)
#: template categories in the order of an analysis (the panel's gallery shows them in this order;
#: any other category comes after them)
CATEGORIES = ("Load", "Clean", "Explore", "Test", "Plot")
#: categories used by earlier built-in versions, shown where their successor is
_CATEGORY_ALIASES = {"load data": "Load", "transform": "Clean", "model": "Test"}
#: ``# datadive: WORD ...`` lines in a code body (see :func:`expand_code`)
DIRECTIVE = re.compile(r"^([ \t]*)#[ \t]*datadive:[ \t]*(\S*)[ \t]*(.*?)[ \t]*$")
_SNIPPET_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
LANGUAGES = ("python", "r")
# {{ name }}: the only template syntax. Anything between the braces must be an input name.
PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.S)
_IDENT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*$")
_SENTINEL = "__datadive_ph_{}__"
_SENTINEL_NAME = re.compile(r"__datadive_ph_(\w+?)__(?!\w)")
_MISSING: Any = object()


_TYPE_KEYS: dict[str, set[str]] = {
    "text": {
        "min_length",
        "max_length",
        "pattern",
        "multiline",
        "multiple",
        "min_items",
        "max_items",
    },
    "number": {"minimum", "maximum"},
    "integer": {"minimum", "maximum"},
    "boolean": set(),
    "choice": {"options", "multiple", "min_items", "max_items"},
    "date": set(),
    "column": {"dataset", "multiple", "min_items", "max_items"},
    "file": {"extensions", "multiple", "min_items", "max_items"},
    "variable": set(),
    "level": {"column", "dataset", "multiple", "min_items", "max_items"},
}
_COMMON_KEYS = {"name", "type", "title", "help", "required", "default", "placeholder"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a template: where it is and what to do."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "field": self.field, "message": self.message}


class TemplateInvalid(ValueError):
    """A template document has problems; ``problems`` lists each one."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class TemplateTooLarge(TemplateInvalid):
    """The template is larger than :data:`MAX_TEMPLATE_BYTES` (→ HTTP 413)."""

    def __init__(self, file: str, size: int):
        super().__init__(
            [
                Problem(
                    file,
                    None,
                    "(document)",
                    f"the template is {size} bytes; a template may be at most "
                    f"{MAX_TEMPLATE_BYTES // 1024} KiB ({MAX_TEMPLATE_BYTES} bytes). Keep data "
                    "out of templates: let an input name the file that holds it",
                )
            ]
        )


def _too_deep(doc: Any) -> bool:
    """True when ``doc`` nests lists/dicts more than MAX_DEPTH levels (checked without recursion)."""
    stack = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > MAX_DEPTH:
                return True
            items = node.values() if isinstance(node, dict) else node
            stack.extend((v, depth + 1) for v in items if isinstance(v, dict | list))
    return False


def is_variable_name(value: Any) -> bool:
    """True when ``value`` can stand as a Python variable name as written (no keyword, NFKC-stable)."""
    return (
        isinstance(value, str)
        and value.isidentifier()
        and not keyword.iskeyword(value)
        and unicodedata.normalize("NFKC", value) == value
    )


def schema() -> dict[str, Any]:
    """The JSON Schema of the template format (shipped in the package)."""
    return _format_schema()


_FORMAT_SCHEMA: dict[str, Any] | None = None


def _format_schema() -> dict[str, Any]:
    global _FORMAT_SCHEMA
    if _FORMAT_SCHEMA is None:
        text = (
            resources.files(__package__).joinpath("schema/template.schema.json").read_text("utf-8")
        )
        _FORMAT_SCHEMA = json.loads(text)
    return _FORMAT_SCHEMA


@dataclass(frozen=True)
class Option:
    value: Any
    label: str


@dataclass(frozen=True)
class Input:
    """One form input; ``json_schema()`` is what values are validated against."""

    name: str
    type: str
    title: str = ""
    help: str = ""
    required: bool = False
    default: Any = _MISSING
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    multiline: bool = False
    multiple: bool = False
    min_items: int | None = None
    max_items: int | None = None
    options: tuple[Option, ...] = ()
    dataset: str | None = None
    extensions: tuple[str, ...] = ()
    placeholder: str | None = None
    column: str | None = None

    @property
    def has_default(self) -> bool:
        return self.default is not _MISSING

    def json_schema(self) -> dict[str, Any]:
        """JSON Schema of this input's value, with ``x-datadive-input`` UI hints."""
        t = self.type
        s: dict[str, Any]
        if t == "text":
            s = {"type": "string"}
            if self.min_length is not None:
                s["minLength"] = self.min_length
            if self.max_length is not None:
                s["maxLength"] = self.max_length
            if self.pattern:
                s["pattern"] = self.pattern
        elif t in ("number", "integer"):
            s = {"type": t}
            if self.minimum is not None:
                s["minimum"] = self.minimum
            if self.maximum is not None:
                s["maximum"] = self.maximum
        elif t == "boolean":
            s = {"type": "boolean"}
        elif t == "date":
            s = {"type": "string", "format": "date"}
        elif t == "choice":
            item: dict[str, Any] = {"enum": [o.value for o in self.options]}
            if any(o.label != str(o.value) for o in self.options):
                item = {"oneOf": [{"const": o.value, "title": o.label} for o in self.options]}
            s = item
        elif t in ("column", "file"):
            s = {"type": "string", "minLength": 1}
            if t == "file" and self.extensions:
                ext = "|".join(re.escape(e) for e in self.extensions)
                s["pattern"] = f"(?i)({ext})$"
        elif t == "variable":
            s = {"type": "string", "pattern": r"^[^\W\d]\w*$"}
        elif t == "level":
            # a value of a column as the data holds it: text, a number or true/false
            s = {"type": ["string", "number", "boolean"], "minLength": 1}
        else:  # pragma: no cover - rejected by validation
            raise ValueError(f"unknown input type {t!r}")
        if self.multiple and t in ("choice", "column", "file", "text", "level"):
            s = {"type": "array", "items": s, "uniqueItems": True}
            if self.min_items is not None:
                s["minItems"] = self.min_items
            if self.max_items is not None:
                s["maxItems"] = self.max_items
        if self.title:
            s["title"] = self.title
        if self.help:
            s["description"] = self.help
        if self.has_default:
            s["default"] = self.default
        s["x-datadive-input"] = self.ui_hint()
        return s

    def ui_hint(self) -> dict[str, Any]:
        hint: dict[str, Any] = {"type": self.type}
        if self.multiple:
            hint["multiple"] = True
        if self.column:
            hint["column"] = self.column
        if self.dataset:
            hint["dataset"] = self.dataset
        if self.extensions:
            hint["extensions"] = list(self.extensions)
        if self.multiline:
            hint["multiline"] = True
        if self.placeholder:
            hint["placeholder"] = self.placeholder
        return hint

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "type": self.type}
        for key in ("title", "help", "pattern", "column", "dataset", "placeholder"):
            if getattr(self, key):
                d[key] = getattr(self, key)
        for key in ("minimum", "maximum", "min_length", "max_length", "min_items", "max_items"):
            if getattr(self, key) is not None:
                d[key] = getattr(self, key)
        for key in ("required", "multiline", "multiple"):
            if getattr(self, key):
                d[key] = True
        if self.has_default:
            d["default"] = self.default
        if self.options:
            d["options"] = [
                o.value if o.label == str(o.value) else {"value": o.value, "label": o.label}
                for o in self.options
            ]
        if self.extensions:
            d["extensions"] = list(self.extensions)
        return d


@dataclass(frozen=True)
class Template:
    """A validated template. Immutable; ``content_hash`` identifies its content."""

    id: str
    version: str
    title: str
    language: str
    code: str
    description: str = ""
    category: str = ""
    tags: tuple[str, ...] = ()
    inputs: tuple[Input, ...] = ()
    markdown: str | None = None
    file: str = field(default="<template>", compare=False)

    def input(self, name: str) -> Input:
        for i in self.inputs:
            if i.name == name:
                return i
        raise KeyError(name)

    @cached_property
    def values_schema(self) -> dict[str, Any]:
        """JSON Schema of the values object (what the form edits)."""
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {i.name: i.json_schema() for i in self.inputs},
            "required": [i.name for i in self.inputs if i.required],
        }

    def to_document(self) -> dict[str, Any]:
        """The template as a plain document (same shape as the YAML file)."""
        d: dict[str, Any] = {"id": self.id, "version": self.version, "title": self.title}
        if self.description:
            d["description"] = self.description
        if self.category:
            d["category"] = self.category
        d["tags"] = list(self.tags)
        d["language"] = self.language
        d["inputs"] = [i.to_dict() for i in self.inputs]
        if self.markdown is not None:
            d["markdown"] = self.markdown
        d["code"] = self.code
        return d

    @cached_property
    def content_hash(self) -> str:
        canon = json.dumps(self.to_document(), sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(canon.encode("utf-8")).hexdigest()

    @cached_property
    def code_parts(self) -> tuple[str | tuple[str], ...]:
        """The code (every ``# datadive: if`` line kept) split into text and ``(input_name,)``
        placeholder parts."""
        return _split(expand_code(self.code))

    @cached_property
    def code_lines(self) -> tuple[tuple[str | None, tuple[str | tuple[str], ...]], ...]:
        """The code with includes expanded, one ``(condition, parts)`` per line: ``condition`` is
        the input a ``# datadive: if NAME`` line depends on (None: always emitted), ``parts`` the
        line (with its newline) split into text and ``(input_name,)`` placeholder parts."""
        pairs = _expanded_lines(self.code)
        return tuple(
            (cond, _split(text + ("\n" if i < len(pairs) - 1 else "")))
            for i, (cond, text) in enumerate(pairs)
        )

    @property
    def category_order(self) -> int:
        return category_order(self.category)

    @cached_property
    def markdown_parts(self) -> tuple[str | tuple[str], ...]:
        return _split(self.markdown or "")

    def summary(self) -> dict[str, Any]:
        """What a list shows: metadata plus the inputs' JSON Schema."""
        return {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "description": self.description,
            "category": self.category,
            "category_order": self.category_order,
            "tags": list(self.tags),
            "language": self.language,
            "inputs": self.values_schema,
            "ui_schema": self.ui_schema,
        }

    @cached_property
    def ui_schema(self) -> dict[str, Any]:
        """A react-jsonschema-form uiSchema: field order, help, placeholders, widgets."""
        ui: dict[str, Any] = {"ui:order": [i.name for i in self.inputs]}
        for i in self.inputs:
            hint: dict[str, Any] = {}
            if i.help:
                hint["ui:help"] = i.help
            if i.placeholder:
                hint["ui:placeholder"] = i.placeholder
            if i.multiline:
                hint["ui:widget"] = "textarea"
            elif i.type == "choice" and i.multiple:
                hint["ui:widget"] = "checkboxes"
            # a boolean gets no ui:widget: react-jsonschema-form then shows its title once, as
            # the checkbox's label (naming the widget adds the title again above the box)
            if hint:
                ui[i.name] = hint
        return ui


def category_order(category: str) -> int:
    """Position of ``category`` in :data:`CATEGORIES` (case-insensitive; earlier built-in names
    such as "Load data" count as their successor); any other category sorts after them."""
    folded = (category or "").strip().casefold()
    folded = _CATEGORY_ALIASES.get(folded, folded).casefold()
    for i, name in enumerate(CATEGORIES):
        if name.casefold() == folded:
            return i
    return len(CATEGORIES)


def sort_key(summary: dict[str, Any]) -> tuple[Any, ...]:
    """Order of a template list: by category (analysis order), then title, then id."""
    order = summary.get("category_order")
    if not isinstance(order, int):
        order = category_order(summary.get("category") or "")
    return (order, (summary.get("title") or "").casefold(), summary.get("id") or "")


@functools.cache
def snippet(name: str) -> str:
    """The text of ``library/snippets/NAME.py`` (KeyError when there is no such snippet)."""
    if not _SNIPPET_NAME.match(name):
        raise KeyError(name)
    entry = resources.files(__package__).joinpath("library", "snippets", f"{name}.py")
    if not entry.is_file():
        raise KeyError(name)
    return entry.read_text("utf-8").rstrip("\n") + "\n"


def snippet_names() -> list[str]:
    folder = resources.files(__package__).joinpath("library", "snippets")
    return sorted(
        e.name[:-3]
        for e in folder.iterdir()
        if e.name.endswith(".py") and _SNIPPET_NAME.match(e.name[:-3])
    )


def _expanded_lines(code: str) -> list[tuple[str | None, str]]:
    """``(condition, line)`` for each line of the code with its directives applied (the code was
    validated, so each one is well formed): ``# datadive: include NAME`` becomes the snippet's
    lines; ``# datadive: if NAME CODE`` becomes ``CODE`` at the directive's indentation, with
    condition ``NAME`` (None for every other line)."""
    out: list[tuple[str | None, str]] = []
    for line in code.split("\n"):
        m = DIRECTIVE.match(line)
        if m is None:
            out.append((None, line))
        elif m.group(2) == "include":
            out.extend((None, inc) for inc in snippet(m.group(3)).rstrip("\n").split("\n"))
        else:  # if NAME CODE
            name, _, rest = m.group(3).partition(" ")
            out.append((name, m.group(1) + rest.strip()))
    return out


def expand_code(code: str) -> str:
    """The code with includes expanded and every ``# datadive: if`` line kept."""
    return "\n".join(text for _, text in _expanded_lines(code))


def _directive_problems(code: str, kinds: dict[str, str | None]) -> list[tuple[int, str]]:
    """(line in the body, message) for each malformed ``# datadive:`` directive."""
    out = []
    for lineno, line in enumerate(code.split("\n"), 1):
        m = DIRECTIVE.match(line)
        if m is None:
            continue
        indent, word, rest = m.groups()
        if word == "include":
            if indent:
                out.append((lineno, "'# datadive: include' must start at the beginning of a line"))
            elif not _SNIPPET_NAME.match(rest) or rest not in snippet_names():
                out.append(
                    (
                        lineno,
                        f"no snippet {rest!r} to include; snippets are: "
                        f"{', '.join(snippet_names()) or 'none'}",
                    )
                )
        elif word == "if":
            name, _, body = rest.partition(" ")
            if not body.strip() or not _IDENT.match(name):
                out.append(
                    (
                        lineno,
                        "write '# datadive: if INPUT_NAME code...': the line of code goes on "
                        "the directive's line, after the input's name",
                    )
                )
            elif name not in kinds:
                declared = ", ".join(kinds) or "none"
                out.append(
                    (lineno, f"'# datadive: if {name}' names no input; inputs are: {declared}")
                )
        else:
            out.append(
                (
                    lineno,
                    f"unknown directive '# datadive: {word}'; use '# datadive: include SNIPPET' "
                    "or '# datadive: if INPUT_NAME code...'",
                )
            )
    return out


def _for_checking(code: str) -> str:
    """The code as checked: every ``if`` line kept, each include a ``pass`` (same line numbers;
    snippets are plain Python shipped with the package)."""
    lines = []
    for line in code.split("\n"):
        m = DIRECTIVE.match(line)
        if m is None:
            lines.append(line)
        elif m.group(2) == "include":
            lines.append(m.group(1) + "pass")
        else:
            lines.append(m.group(1) + m.group(3).partition(" ")[2].strip())
    return "\n".join(lines)


def _without_conditional_lines(code: str) -> tuple[str, list[int]]:
    """The code as rendered when every ``# datadive: if`` input is empty, and the body line
    number of each line kept (an include stays a comment: snippets are complete on their own)."""
    lines, numbers = [], []
    for lineno, line in enumerate(code.split("\n"), 1):
        m = DIRECTIVE.match(line)
        if m is not None and m.group(2) == "if":
            continue
        lines.append(line)
        numbers.append(lineno)
    return "\n".join(lines), numbers or [1]


def _split(body: str) -> tuple[str | tuple[str], ...]:
    parts: list[str | tuple[str]] = []
    pos = 0
    for m in PLACEHOLDER.finditer(body):
        parts.append(body[pos : m.start()])
        parts.append((m.group(1).strip(),))
        pos = m.end()
    parts.append(body[pos:])
    return tuple(p for p in parts if p != "")


# ---------------------------------------------------------------- parsing + validation


def load_file(path: str) -> Template:
    """Read and validate one template file; raises :class:`TemplateInvalid`."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read(MAX_TEMPLATE_BYTES + 1)  # never more than the limit (+1 to tell)
            if len(text) > MAX_TEMPLATE_BYTES:
                raise TemplateTooLarge(path, os.fstat(f.fileno()).st_size)
    except OSError as e:
        raise TemplateInvalid(
            [Problem(path, None, "(file)", f"cannot read: {e.strerror}")]
        ) from None
    except UnicodeDecodeError:
        raise TemplateInvalid([Problem(path, None, "(file)", "not UTF-8 text")]) from None
    return parse_template(text, file=path)


def parse_template(text: str, file: str = "<template>") -> Template:
    """Parse YAML text into a validated :class:`Template`.

    Text over :data:`MAX_TEMPLATE_BYTES` raises :class:`TemplateTooLarge` before it is parsed;
    anchors, aliases and deep nesting are refused by the loader (see ``yamlload``).
    """
    if len(text) > MAX_TEMPLATE_BYTES or len(text.encode("utf-8", "surrogatepass")) > (
        MAX_TEMPLATE_BYTES
    ):
        raise TemplateTooLarge(file, len(text.encode("utf-8", "surrogatepass")))
    try:
        data, lines, duplicates = load_with_lines(text)
    except YamlProblem as e:
        raise TemplateInvalid([Problem(file, e.line, "(document)", e.message)]) from None
    earlier = [Problem(file, d.line, _field(d.path), d.message) for d in duplicates]
    return template_from_document(data, file=file, lines=lines, earlier=earlier)


def template_from_document(
    doc: Any,
    file: str = "<template>",
    lines: dict[Path, int] | None = None,
    earlier: list[Problem] | None = None,
) -> Template:
    """Validate a template document (dict) and build the :class:`Template`.

    Every problem is reported in one :class:`TemplateInvalid`: checks go on after schema errors
    wherever the part they look at is usable (an input with a bad field still declares its name,
    the code is still checked when an input is wrong). ``earlier`` holds problems found before
    (e.g. duplicate YAML keys) to report with these.
    """
    lines = lines or {}
    problems: list[Problem] = list(earlier or [])

    def add(path: Path, message: str, line: int | None = None) -> None:
        problems.append(
            Problem(file, line or (line_of(lines, path) if lines else None), _field(path), message)
        )

    if not isinstance(doc, dict):
        add((), "a template must be a mapping with id, version, title, language and code")
        raise TemplateInvalid(problems)
    if _too_deep(doc):
        add((), f"nested more than {MAX_DEPTH} levels deep; templates need only a few levels")
        raise TemplateInvalid(problems)
    size = len(json.dumps(doc, default=str, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    if size > MAX_TEMPLATE_BYTES:
        raise TemplateTooLarge(file, size)

    broken: set[Path] = set()  # paths with schema errors: not looked at again
    for err in sorted(
        jsonschema.Draft202012Validator(_format_schema()).iter_errors(doc),
        key=lambda e: list(map(str, e.path)),
    ):
        path = tuple(err.path)
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            # one problem per unknown key, on that key's own line
            allowed = sorted(err.schema.get("properties", {}))
            kind = err.instance.get("type") if path[:1] == ("inputs",) else None
            what = "allowed"
            if kind in _TYPE_KEYS:  # an input: name what applies to its type
                allowed, what = sorted(_COMMON_KEYS | _TYPE_KEYS[kind]), f"a {kind} input takes"
            for key in sorted(set(err.instance) - set(err.schema.get("properties", {})), key=str):
                add((*path, key), f"unknown field {key!r}; {what}: {', '.join(allowed)}")
            continue
        broken.add(path)
        add(path, _schema_message(err, doc))

    def usable(path: Path) -> bool:
        """No schema error at ``path`` or inside it."""
        return not any(b[: len(path)] == path for b in broken)

    inputs: list[Input] = []
    # every declared input name -> its type (None when the type itself is wrong), so that
    # placeholders and datasets naming an input with a bad field are not reported twice
    kinds: dict[str, str | None] = {}
    names: dict[str, int] = {}
    raw_inputs = doc.get("inputs")
    if not isinstance(raw_inputs, list):
        raw_inputs = []
    for idx, raw in enumerate(raw_inputs):
        p: Path = ("inputs", idx)
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            continue
        name = raw["name"]
        if name in names:
            add((*p, "name"), f"duplicate input name {name!r} (also inputs[{names[name]}])")
        elif _IDENT.match(name):
            names[name] = idx
            kinds[name] = raw.get("type") if raw.get("type") in INPUT_TYPES else None
        if name.startswith("__"):
            add((*p, "name"), "input names must not start with '__'")
        if not usable(p):
            continue
        inp, msgs = _build_input(raw)
        for sub, msg in msgs:
            add((*p, *sub), msg)
        inputs.append(inp)

    declared = ", ".join(kinds) or "none"
    for inp in inputs:
        p = ("inputs", names.get(inp.name, 0))
        if inp.type == "column":
            if not inp.dataset:
                add(
                    p,
                    f"column input {inp.name!r} needs 'dataset': the name of the input holding the data",
                )
            elif inp.dataset not in kinds:
                add(
                    (*p, "dataset"),
                    f"dataset {inp.dataset!r} is not an input; inputs are: {declared}",
                )
            elif kinds[inp.dataset] not in ("variable", "file", None):
                add((*p, "dataset"), f"dataset {inp.dataset!r} must be a variable or file input")
        if inp.type == "level":
            target = next((i for i in inputs if i.name == inp.column), None)
            if not inp.column:
                add(
                    p,
                    f"level input {inp.name!r} needs 'column': the name of the column input "
                    "whose values it offers",
                )
            elif inp.column not in kinds:
                add(
                    (*p, "column"), f"column {inp.column!r} is not an input; inputs are: {declared}"
                )
            elif target is not None and (target.type != "column" or target.multiple):
                add(
                    (*p, "column"),
                    f"column {inp.column!r} must be a column input that picks one column",
                )
            elif target is not None and inp.dataset and inp.dataset != target.dataset:
                add(
                    (*p, "dataset"),
                    f"dataset {inp.dataset!r} differs from the dataset of column "
                    f"{inp.column!r} ({target.dataset!r}); leave it out or make them equal",
                )
            elif target is not None and not inp.dataset:
                inputs[inputs.index(inp)] = inp = dataclass_replace(inp, dataset=target.dataset)
        if inp.type == "variable" and not inp.required and not inp.has_default:
            add(p, f"variable input {inp.name!r} must be required or have a default")
        if inp.has_default:
            err = _default_error(inp)
            if err:
                add((*p, "default"), err)

    bodies: dict[str, str | None] = {}
    for key in ("code", "markdown"):
        body = doc.get(key)
        bodies[key] = body.rstrip() if isinstance(body, str) and usable((key,)) else None
    for key, body in bodies.items():
        if body is None:
            continue
        for m in PLACEHOLDER.finditer(body):
            ident = _IDENT.match(m.group(1))
            lineno = _body_line(lines, key, body, m.start())
            if not ident:
                add(
                    (key,),
                    f"malformed placeholder {m.group(0)!r}; write {{{{ input_name }}}}",
                    lineno,
                )
            elif ident.group(1) not in kinds:
                add(
                    (key,),
                    f"placeholder {{{{ {ident.group(1)} }}}} has no input; declare it under inputs "
                    f"(inputs are: {declared})",
                    lineno,
                )
    if bodies["markdown"] is not None:
        md = bodies["markdown"]
        for offset, msg in _markdown_problems(md):
            add(("markdown",), msg, _body_line(lines, "markdown", md, offset))
    code = bodies["code"]
    if code is not None and doc.get("language") == "python":
        first = _body_line(lines, "code", code, 0)
        directive_problems = _directive_problems(code, kinds)
        for lineno, msg in directive_problems:
            add(("code",), msg, first + lineno - 1 if first is not None else None)
        if not directive_problems:
            for lineno, msg in _check_python_body(_for_checking(code), kinds):
                add(("code",), msg, first + lineno - 1 if first is not None else None)
            if not problems and any(DIRECTIVE.match(x) for x in code.split("\n")):
                kept, numbers = _without_conditional_lines(code)
                try:
                    ast.parse(PLACEHOLDER.sub("x", kept))
                except SyntaxError as e:
                    at = numbers[min(max((e.lineno or 1) - 1, 0), len(numbers) - 1)]
                    add(
                        ("code",),
                        "without its '# datadive: if' lines (left out when their input is "
                        f"empty) the code is not valid Python: {e.msg}; keep a statement in "
                        "every block",
                        first + at - 1 if first is not None else None,
                    )

    if problems:
        problems.sort(key=lambda p: p.line or 0)  # stable: in file order where lines are known
        raise TemplateInvalid(problems)
    assert code is not None  # a schema error otherwise
    return Template(
        id=doc["id"],
        version=doc["version"],
        title=doc["title"],
        language=doc["language"],
        code=code,
        description=doc.get("description", ""),
        category=doc.get("category", ""),
        tags=tuple(doc.get("tags") or ()),
        inputs=tuple(inputs),
        markdown=bodies["markdown"],
        file=file,
    )


def _field(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def _schema_message(err: jsonschema.ValidationError, doc: Any) -> str:
    path = tuple(err.path)
    if err.validator == "enum" and path[-1:] == ("type",) and path[:1] == ("inputs",):
        return f"unknown input type {err.instance!r}; use one of: {', '.join(INPUT_TYPES)}"
    if err.validator == "enum" and path == ("language",):
        return f"unknown language {err.instance!r}; use one of: {', '.join(LANGUAGES)}"
    if err.validator == "required":
        missing = [k for k in err.validator_value if k not in (err.instance or {})]
        return f"missing required field(s): {', '.join(missing)}"
    if err.validator == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        extra = sorted(set(err.instance) - set(allowed))
        return f"unknown field(s) {', '.join(map(repr, extra))}; allowed: {', '.join(allowed)}"
    if path == ("version",):
        return f"{err.instance!r} is not a semantic version; write MAJOR.MINOR.PATCH, e.g. 1.0.0"
    if err.validator == "pattern" and path == ("id",):
        return (
            f"{err.instance!r} is not a valid id; use lower-case letters, digits, '.', '_' and '-'"
        )
    if err.validator == "pattern" and path[-1:] == ("name",):
        return f"{err.instance!r} is not a valid input name; use letters, digits and _ (no leading digit)"
    return str(err.message)


def _build_input(raw: dict[str, Any]) -> tuple[Input, list[tuple[Path, str]]]:
    msgs: list[tuple[Path, str]] = []
    t = raw["type"]
    allowed = _TYPE_KEYS[t]
    known = _format_schema()["$defs"]["input"]["properties"]  # other keys: a schema problem
    for key in raw:
        if key in known and key not in _COMMON_KEYS and key not in allowed:
            msgs.append(((key,), f"'{key}' does not apply to a {t} input"))
    options: tuple[Option, ...] = ()
    if t == "choice":
        if not raw.get("options"):
            msgs.append(((), "a choice input needs 'options'"))
        opts = []
        for o in raw.get("options") or []:
            if isinstance(o, dict):
                opts.append(Option(o["value"], o.get("label", str(o["value"]))))
            else:
                opts.append(Option(o, str(o)))
        options = tuple(opts)
        values = [json.dumps(o.value) for o in options]
        if len(set(values)) != len(values):
            msgs.append((("options",), "options must be different from each other"))
    lo, hi = raw.get("minimum"), raw.get("maximum")
    if lo is not None and hi is not None and lo > hi:
        msgs.append((("minimum",), f"minimum {lo} is greater than maximum {hi}"))
    if t == "integer":
        for k in ("minimum", "maximum"):
            if raw.get(k) is not None and not float(raw[k]).is_integer():
                msgs.append(((k,), f"{k} of an integer input must be a whole number"))
    if raw.get("pattern"):
        try:
            re.compile(raw["pattern"])
        except re.error as e:
            msgs.append((("pattern",), f"not a valid regular expression: {e}"))
    inp = Input(
        name=raw["name"],
        type=t,
        title=raw.get("title", ""),
        help=raw.get("help", ""),
        required=bool(raw.get("required", False)),
        default=raw["default"] if "default" in raw else _MISSING,
        minimum=lo,
        maximum=hi,
        min_length=raw.get("min_length"),
        max_length=raw.get("max_length"),
        pattern=raw.get("pattern"),
        multiline=bool(raw.get("multiline", False)),
        multiple=bool(raw.get("multiple", False)),
        min_items=raw.get("min_items"),
        max_items=raw.get("max_items"),
        options=options,
        dataset=raw.get("dataset"),
        extensions=tuple(raw.get("extensions") or ()),
        placeholder=raw.get("placeholder"),
        column=raw.get("column"),
    )
    return inp, msgs


# ---------------------------------------------------------------- values

_TYPE_WORDS = {
    "integer": "a whole number",
    "number": "a number",
    "string": "text",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
}


def friendly_error(err: jsonschema.ValidationError, inp: Input) -> str:
    """The sentence a user reads for the schema error ``err`` on input ``inp``."""
    v, val = err.validator, err.validator_value
    prefix = (
        f"item {err.path[1] + 1}: " if len(err.path) > 1 and isinstance(err.path[1], int) else ""
    )
    if v == "type":
        kinds = val if isinstance(val, list) else [val]
        msg = "must be " + " or ".join(_TYPE_WORDS.get(str(k), str(k)) for k in kinds)
    elif v == "minimum":
        msg = f"must be at least {val}"
    elif v == "maximum":
        msg = f"must be at most {val}"
    elif v in ("enum", "oneOf", "const"):
        msg = "must be one of: " + ", ".join(repr(o.value) for o in inp.options)
    elif v == "format" and val == "date":
        msg = "must be a date written YYYY-MM-DD, e.g. 2024-01-31"
    elif v == "minLength":
        msg = "must not be empty" if val == 1 else f"must be at least {val} characters"
    elif v == "maxLength":
        msg = f"must be at most {val} characters"
    elif v == "pattern" and inp.type == "variable":
        msg = VARIABLE_MSG
    elif v == "pattern" and inp.type == "file":
        msg = "must be a file ending in " + ", ".join(inp.extensions)
    elif v == "pattern":
        msg = f"must match the pattern {val}"
    elif v == "uniqueItems":
        msg = "must not list the same item twice"
    elif v == "minItems":
        msg = f"choose at least {val}"
    elif v == "maxItems":
        msg = f"choose at most {val}"
    else:
        msg = err.message
    return prefix + msg


#: what a value of a ``variable`` input must be
VARIABLE_MSG = (
    "must be a Python variable name: letters, digits and _, not starting with a digit, "
    "and not a keyword such as 'class' or 'import'"
)


def deep_error(value: Any) -> str | None:
    """Problems JSON Schema cannot see: non-finite numbers, lone surrogates."""
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "contains a character that is not valid Unicode text"
    if isinstance(value, list):
        for v in value:
            e = deep_error(v)
            if e:
                return e
    return None


def value_errors(inp: Input, value: Any) -> str | None:
    """The message for one input's value, or None when it is valid."""
    if inp.type == "variable":
        return None if is_variable_name(value) else VARIABLE_MSG
    deep = deep_error(value)
    if deep:
        return deep
    validator = jsonschema.Draft202012Validator(
        inp.json_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errs = sorted(validator.iter_errors(value), key=lambda e: len(e.path), reverse=True)
    return friendly_error(errs[0], inp) if errs else None


def _default_error(inp: Input) -> str | None:
    if inp.default is None and not inp.required and inp.type != "variable":
        return None
    msg = value_errors(inp, inp.default)
    return f"default {inp.default!r} is not a valid value: {msg}" if msg else None


def _body_line(lines: dict[Path, int], key: str, body: str, offset: int) -> int | None:
    if not lines:
        return None
    start = lines.get((key, "<content>"))
    if start is None:
        return lines.get((key,))
    return start + _newlines_before(body, offset)


def _newlines_before(body: str, offset: int) -> int:
    """``body.count("\\n", 0, offset)`` in O(log n): a body may hold thousands of placeholders,
    and counting from the start for each made checking a large template quadratic."""
    ends = _newline_offsets(body)
    return bisect.bisect_left(ends, offset)


@functools.lru_cache(maxsize=8)
def _newline_offsets(body: str) -> list[int]:
    return [m.start() for m in re.finditer("\n", body)]


_URL_START = r"(?:\]\(\s*<?|^\s{0,3}\[[^\]]+\]:\s*<?|<|\b(?:href|src|srcset|action|formaction|xlink:href)\s*=\s*[\"']?)\s*"
_MD_CHECKS = (
    (
        re.compile(_URL_START + r"(?:javascript|vbscript|data)\s*:", re.I | re.M),
        "links to javascript:, vbscript: or data: addresses are not allowed in markdown; link "
        "to an http(s) page or remove the link",
    ),
    (
        re.compile(
            r"!\[[^\]]*\]\(\s*<?\s*(?:https?:)?//|<img\b[^>]*\bsrc(?:set)?\s*=\s*[\"']?\s*(?:https?:)?//",
            re.I,
        ),
        "images from other servers are not allowed in markdown (they load whenever the notebook "
        "is opened and can track its readers); attach the image to the notebook instead",
    ),
    (
        re.compile(
            r"<\s*/?\s*(?:script|iframe|frame|object|embed|style|form|meta|link|base)\b"
            r"|<[a-z][^>]*?\son[a-z]+\s*=",
            re.I,
        ),
        "raw HTML <script>, <iframe>, <object>, <embed>, <style>, <form>, <meta>, <link>, "
        "<base> and on... event attributes are not allowed in markdown; write markdown instead",
    ),
    (
        re.compile(_URL_START.replace("|<|", "|") + r"[^\s)\"'>]*\{\{", re.I | re.M),
        "a placeholder cannot stand in a link or image address (the value would choose where "
        "it points); put it in the link text, or write the address out",
    ),
)
_MD_REF_TO_REMOTE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?\s*(?:https?:)?//", re.I | re.M)


def _markdown_problems(body: str) -> list[tuple[int, str]]:
    """(offset, message) for each active thing in a template's markdown that could run script
    or load remote content when the generated cell is shown (values are made inert by the
    renderer; this checks what the author wrote)."""
    out = []
    for rx, msg in _MD_CHECKS:
        m = rx.search(body)
        if m:
            out.append((m.start(), msg))
    if "![" in body:
        m = _MD_REF_TO_REMOTE.search(body)
        if m:
            out.append((m.start(), _MD_CHECKS[1][1]))
    return out


def _check_python_body(code: str, kinds: dict[str, str | None]) -> list[tuple[int, str]]:
    """Placeholders must stand where an expression or a variable name goes, never inside strings.

    ``kinds`` maps each input name to its type; a placeholder whose input is unknown or has no
    valid type (reported elsewhere) gets only the checks that do not depend on the type."""
    out: list[tuple[int, str]] = []
    counts: dict[str, int] = {}

    def sub(m: re.Match[str]) -> str:
        ident = _IDENT.match(m.group(1))
        # a malformed placeholder (reported elsewhere) stands for a name of its own here, so the
        # rest of the code is still checked
        name = ident.group(1) if ident else f"_malformed{m.start()}"
        counts[name] = counts.get(name, 0) + 1
        return _SENTINEL.format(name)

    probe = PLACEHOLDER.sub(sub, code)
    try:
        tree = ast.parse(probe)
    except SyntaxError as e:
        return [
            (e.lineno or 1, f"code is not valid Python when placeholders stand for names: {e.msg}")
        ]
    seen: dict[str, int] = {}
    parents: dict[int, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and "__datadive_ph_" in node.value
        ):
            inside = _SENTINEL_NAME.findall(node.value)
            for name in inside:  # reported here, not again below
                seen[name] = seen.get(name, 0) + 1
            shown = ", ".join(
                dict.fromkeys(f"{{{{ {n} }}}}" for n in inside if not n.startswith("_malformed"))
            )
            out.append(
                (
                    node.lineno,
                    f"{'placeholder ' + shown if shown else 'a placeholder'} inside a string "
                    "literal; values are inserted as literals, "
                    "so write the placeholder where an expression goes, e.g. f(x={{ x }})",
                )
            )
        if isinstance(node, ast.Name) and node.id.startswith("__datadive_ph_"):
            name = node.id[len("__datadive_ph_") : -2]
            seen[name] = seen.get(name, 0) + 1
            kind = kinds.get(name)
            parent = parents.get(id(node))
            anc: ast.AST | None = parent
            while anc is not None:
                if isinstance(anc, ast.JoinedStr):
                    out.append(
                        (
                            node.lineno,
                            f"placeholder {{{{ {name} }}}} inside an f-string; "
                            "assign it to a variable first",
                        )
                    )
                    break
                anc = parents.get(id(anc))
            if kind not in ("variable", None) and not isinstance(node.ctx, ast.Load):
                out.append(
                    (
                        node.lineno,
                        f"{{{{ {name} }}}} is {'an' if kind[0] in 'aeiou' else 'a'} {kind} "
                        "input: it is a value, "
                        "so it cannot be assigned to; use a variable input for names",
                    )
                )
            if kind in ("number", "integer") and isinstance(parent, ast.Attribute):
                out.append(
                    (node.lineno, f"{{{{ {name} }}}} is a number: do not access attributes on it")
                )
    for name, n in counts.items():
        if seen.get(name, 0) != n and not name.startswith("_malformed"):
            first = next(m for m in PLACEHOLDER.finditer(code) if m.group(1).strip() == name)
            out.append(
                (
                    code.count("\n", 0, first.start()) + 1,
                    f"placeholder {{{{ {name} }}}} must stand where an expression or variable "
                    "name goes (not in an attribute, keyword or import name)",
                )
            )
    return out
