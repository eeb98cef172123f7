"""Rendering is injection-proof: property tests over arbitrary hostile values (hypothesis)."""

from __future__ import annotations

import ast
import math
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from datadive_server_ext.templates import (
    RenderError,
    ValuesInvalid,
    check_values,
    is_hand_edited,
    parse_template,
    python_literal,
    render_cells,
    render_code,
    source_hash,
)

PROBE = parse_template(
    """\
id: probe
version: 0.1.0
title: Every input type
language: python
inputs:
  - {name: data, type: variable, default: df}
  - {name: text, type: text}
  - {name: texts, type: text, multiple: true}
  - {name: number, type: number}
  - {name: count, type: integer}
  - {name: flag, type: boolean}
  - {name: day, type: date}
  - {name: col, type: column, dataset: data}
  - {name: cols, type: column, dataset: data, multiple: true}
  - {name: path, type: file}
  - {name: out, type: variable, default: result}
  - name: pick
    type: choice
    options:
      - "'); import os; ('"
      - {value: "\\x22\\x22\\x22", label: Triple quotes}
      - "a\\\\b\\nc"
      - "\\u2028{{ text }}"
      - -1.5
      - 0
      - true
  - name: picks
    type: choice
    multiple: true
    options: ["'", '"', "\\x00", "}}", -7, 2.5, false]
markdown: "Analysis of {{ col }} with {{ text }} and {{ pick }}"
code: |
  import pandas as pd
  {{ out }} = {{ data }}[{{ col }}]
  label = {{ text }}
  labels = {{ texts }}
  if {{ flag }}:
      weight = {{ number }} * 2
  subset = {{ data }}[{{ cols }}].head({{ count }})
  when = pd.Timestamp({{ day }})
  source = {{ path }}
  chosen = {{ pick }} if {{ picks }} else None
"""
)
LITERAL_INPUTS = [
    "text",
    "texts",
    "number",
    "count",
    "flag",
    "day",
    "col",
    "cols",
    "path",
    "pick",
    "picks",
]
PICK_OPTIONS = [o.value for o in PROBE.input("pick").options]
PICKS_OPTIONS = [o.value for o in PROBE.input("picks").options]

HOSTILE = [
    "'); import os; ('",
    '"""',
    "'''",
    "\\",
    "\\'",
    "\x00",
    "\u2028",
    "\u2029",
    "\n",
    "\r\n",
    "{{ text }}",
    "}}",
    "{{",
    "#",
    "\\N{BULLET}",
    "é",
    "\ud7ff",
    "\U0001f600",
    "\t",
    "\x0b\x0c",
    "os.system('rm -rf /')",
    "__import__('os')",
    "\"; exec('x'); \"",
    "\\x00",
    "f'{x}'",
]
hostile_text = st.one_of(
    st.text(),
    st.lists(st.sampled_from(HOSTILE) | st.text(max_size=3), max_size=8).map("".join),
)
finite = st.floats(allow_nan=False, allow_infinity=False)
variable_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True).filter(
    lambda s: s not in {"None", "True", "False"} and not __import__("keyword").iskeyword(s)
)


def _shape(tree: ast.AST) -> list[str]:
    """Statement structure: the type of every statement node, in order (literals not included)."""
    return [type(n).__name__ for n in ast.walk(tree) if isinstance(n, ast.stmt)]


def _probe_code() -> str:
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", r"__ph_\1", PROBE.code)


TEMPLATE_SHAPE = _shape(ast.parse(_probe_code()))


def _literals(code: str) -> dict[str, list[ast.AST]]:
    """Match the rendered AST against the template's (placeholders as names) node by node.

    Everything must be identical except at placeholder positions; returns the subtree found at
    each placeholder.
    """
    out: dict[str, list[ast.AST]] = {}

    def match(got: object, want: object) -> None:
        if isinstance(want, ast.Name) and want.id.startswith("__ph_"):
            out.setdefault(want.id[5:], []).append(got)  # type: ignore[arg-type]
            return
        assert type(got) is type(want), (ast.dump(got) if isinstance(got, ast.AST) else got, want)
        if isinstance(want, ast.AST):
            for f in want._fields:
                match(getattr(got, f), getattr(want, f))
        elif isinstance(want, list):
            assert len(got) == len(want)  # type: ignore[arg-type]
            for g, w in zip(got, want, strict=True):  # type: ignore[call-overload]
                match(g, w)
        else:
            assert got == want

    match(ast.parse(code), ast.parse(_probe_code()))
    return out


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=hostile_text,
    texts=st.lists(hostile_text, max_size=4, unique=True),
    number=finite,
    count=st.integers(min_value=-(10**30), max_value=10**30),
    flag=st.booleans(),
    day=st.dates().map(lambda d: d.isoformat()),
    col=hostile_text.filter(bool),
    cols=st.lists(hostile_text.filter(bool), max_size=4, unique=True),
    path=hostile_text.filter(bool),
    data=variable_names,
    out=variable_names,
    pick=st.sampled_from(PICK_OPTIONS),
    picks=st.lists(st.sampled_from(PICKS_OPTIONS), max_size=len(PICKS_OPTIONS), unique=True),
)
@example(
    text="'); import os; ('",
    texts=['"""', "\x00\u2028"],
    number=-0.0,
    count=-1,
    flag=True,
    day="2024-02-29",
    col='"""; import os; """',
    cols=["\\", "\n"],
    path="a\u2028b",
    data="df",
    out="r",
    pick="'); import os; ('",
    picks=["'", '"', "\x00", "}}", -7, 2.5, False],
)
def test_rendered_code_has_only_the_templates_statements(**values):
    cells = render_cells(PROBE, values)
    code = cells[-1]["source"]
    tree = ast.parse(code)  # 1. it parses
    assert _shape(tree) == TEMPLATE_SHAPE  # 2. no statement the template did not have
    seen = _literals(code)
    for name in LITERAL_INPUTS:  # 3. every literal evaluates back to the value given
        for node in seen[name]:
            back = ast.literal_eval(node)
            assert back == values[name] and _types(back) == _types(values[name])
    for name in ("data", "out"):
        assert {n.id for n in seen[name]} == {values[name]}
    assert cells[-1]["metadata"]["datadive"]["values"] == values
    assert not is_hand_edited(cells[-1])
    # the markdown cell cannot start new blocks or raw HTML from a value
    md = cells[0]["source"]
    assert "\n" not in md and "<" not in md.replace("&lt;", "")


def _types(value):
    """The type structure of a value (so 1 == 1.0 == True do not pass for each other)."""
    if isinstance(value, list):
        return [_types(v) for v in value]
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    return type(value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | finite | hostile_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({name: json_values for name in LITERAL_INPUTS}))
def test_nested_and_dict_values_stay_literals(nested):
    """Below check_values, the renderer itself keeps any JSON-like value — nested lists, dicts
    with hostile keys, at every placeholder — to one literal: same statements, values back."""
    values = {"data": "df", "out": "result", **nested}
    code = render_code(PROBE, values)
    tree = ast.parse(code)
    assert _shape(tree) == TEMPLATE_SHAPE
    seen = _literals(code)
    for name in LITERAL_INPUTS:
        for node in seen[name]:
            back = ast.literal_eval(node)
            assert back == values[name] and _types(back) == _types(values[name])


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | finite | st.text(),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_python_literal_round_trips(value):
    text = python_literal(value)
    node = ast.parse(text, mode="eval").body
    assert not isinstance(node, ast.Call | ast.Name | ast.Attribute)
    back = ast.literal_eval(text)
    assert back == value or (value != value)  # noqa: PLR0124 (nan never appears: finite only)
    assert type(back) is type(value)


@pytest.mark.parametrize(
    "name",
    [
        "class",
        "import",
        "None",
        "1abc",
        "a b",
        "a.b",
        "os.system",
        "a;b",
        "",
        "x\n",
        "ﬁle",
        "__import__('os')",
    ],
)
def test_variable_inputs_reject_non_identifiers(name):
    with pytest.raises(ValuesInvalid) as e:
        check_values(PROBE, {"data": name})
    assert set(e.value.errors) == {"data"}
    assert "variable name" in e.value.errors["data"]


def test_values_errors_one_message_per_field():
    with pytest.raises(ValuesInvalid) as e:
        check_values(
            PROBE,
            {
                "number": "5",
                "count": 1.5,
                "flag": "yes",
                "day": "31/01/2024",
                "col": "",
                "cols": ["a", "a"],
                "nope": 1,
                "texts": "a",
            },
        )
    errs = e.value.errors
    assert errs == {
        "number": "must be a number",
        "count": "must be a whole number",
        "flag": "must be true or false",
        "day": "must be a date written YYYY-MM-DD, e.g. 2024-01-31",
        "col": "must not be empty",
        "cols": "must not list the same item twice",
        "texts": "must be a list",
        "nope": errs["nope"],
    }
    assert errs["nope"].startswith("unknown input; this template's inputs are: data, text")


def test_defaults_and_choice_messages(builtins):
    t = builtins["histogram"]
    with pytest.raises(ValuesInvalid) as e:
        check_values(t, {"bins": 0})
    assert e.value.errors == {"column": "required: give a value", "bins": "must be at least 1"}
    v = check_values(t, {"column": "x"})
    assert v == {"data": "df", "column": "x", "bins": 20, "title": None}
    with pytest.raises(ValuesInvalid) as e:
        check_values(builtins["correlation"], {"columns": ["a", "b"], "method": "magic"})
    assert e.value.errors == {"method": "must be one of: 'pearson', 'spearman', 'kendall'"}
    with pytest.raises(ValuesInvalid) as e:
        check_values(builtins["load-csv"], {"file": "data.json"})
    assert e.value.errors == {"file": "must be a file ending in .csv, .tsv, .txt"}


def test_null_for_a_required_input_is_missing(builtins):
    with pytest.raises(ValuesInvalid) as e:
        check_values(builtins["histogram"], {"column": None, "bins": None})
    assert e.value.errors == {"column": "required: give a value"}  # bins: null -> its default


def test_non_finite_and_bad_unicode_rejected():
    with pytest.raises(ValuesInvalid) as e:
        check_values(PROBE, {"number": float("inf"), "text": "\ud800"})
    assert e.value.errors == {
        "number": "must be a finite number",
        "text": "contains a character that is not valid Unicode text",
    }


def test_hand_edit_detection():
    cells = render_cells(PROBE, {"col": "a"})
    code = cells[-1]
    assert code["metadata"]["datadive"]["source_hash"] == source_hash(code["source"])
    assert not is_hand_edited(code)
    code["source"] += "\nprint('mine')"
    assert is_hand_edited(code)
    code["source"] = code["source"].splitlines(keepends=True)[:-1]  # nbformat list form
    code["source"][-1] = code["source"][-1].rstrip("\n")
    assert not is_hand_edited(code)


def test_cells_are_valid_nbformat(builtins):
    import nbformat

    for t in builtins.values():
        values = {i.name: _sample(i) for i in t.inputs if i.required}
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.from_dict(c) for c in render_cells(t, values)]
        nbformat.validate(nb)
        assert render_code(t, check_values(t, values)) == nb.cells[-1].source


def _sample(inp):
    if inp.type == "file":
        return "data" + (inp.extensions[0] if inp.extensions else ".csv")
    if inp.multiple:
        return ["a", "b"]
    return {"column": "a", "text": "x", "variable": "v"}.get(inp.type, "x")


NEGATIVE = parse_template(
    """\
id: negative
version: 0.1.0
title: Negative numbers in expression positions
language: python
inputs:
  - {name: v, type: number}
  - {name: n, type: integer}
code: |
  squared = {{ v }} ** 2
  int_squared = {{ n }} ** 2
  power = {{ n }} ** {{ n }}
  value = {{ v }}
"""
)


def _run(code: str) -> dict:
    space: dict = {}
    exec(compile(code, "<rendered>", "exec"), space)  # noqa: S102 - our own rendered literals
    return space


@settings(max_examples=200, deadline=None)
@given(
    v=st.floats(max_value=-1e-100, min_value=-1e100),
    n=st.integers(min_value=-50, max_value=-1),
)
@example(v=-3.0, n=-3)
@example(v=-2.5, n=-1)
def test_negative_numbers_keep_their_sign_in_expressions(v, n):
    """``{{ v }} ** 2`` with v = -3 runs to 9, not -9: a negative literal stays one operand."""
    space = _run(render_cells(NEGATIVE, {"v": v, "n": n})[-1]["source"])
    assert space["squared"] == v**2 and space["squared"] > 0
    assert space["int_squared"] == n**2 and space["int_squared"] > 0
    assert space["power"] == n**n
    assert space["value"] == v


def test_negative_zero_squares_to_positive_zero():
    space = _run(render_cells(NEGATIVE, {"v": -0.0, "n": -3})[-1]["source"])
    assert space["value"] == 0.0 and math.copysign(1.0, space["value"]) == -1.0
    assert math.copysign(1.0, space["squared"]) == 1.0  # (-0.0) ** 2 is +0.0; -(0.0 ** 2) is not
    assert space["int_squared"] == 9


def test_nested_lists_of_negative_numbers_run_to_the_same_values():
    nested = [[-3, -0.0], [-1.5, [-(10**20), -1e-300]], []]
    template = parse_template(
        "id: nested\nversion: 0.1.0\ntitle: Nested\nlanguage: python\n"
        "inputs:\n  - {name: v, type: number}\n"
        "code: |\n  value = {{ v }}\n  first = {{ v }}[0][0] ** 2\n"
    )
    space = _run(render_code(template, {"v": nested}))
    assert space["value"] == nested and space["first"] == 9
    assert math.copysign(1.0, space["value"][0][1]) == -1.0
    assert type(space["value"][1][1][0]) is int


def test_complex_numbers_are_refused_not_rendered():
    """JSON has no complex numbers; one reaching the renderer is refused, never written as code
    (``-1+2j`` unparenthesised would change the meaning of ``** 2``)."""
    for value in (complex(-1, 2), complex(-3, 0)):
        with pytest.raises(RenderError, match="cannot write a complex"):
            render_cells(NEGATIVE, {"v": value, "n": -1})


# --- what a form shows: markdown text and each value message ----------------------------------

FORM = parse_template(
    """\
id: form
version: 2.0.0
title: Every message
language: python
inputs:
  - {name: text, type: text, required: true, min_length: 1, max_length: 5}
  - {name: code, type: text, min_length: 3, pattern: "^[a-z]+$"}
  - {name: n, type: integer, minimum: 1, maximum: 9}
  - {name: flag, type: boolean}
  - {name: day, type: date}
  - {name: tags, type: text, multiple: true, min_items: 2, max_items: 3, max_length: 2}
  - {name: method, type: choice, options: [a, b]}
  - name: tail
    type: choice
    options: [{value: l, label: Left}, {value: r, label: Right}]
  - {name: file, type: file, extensions: [.csv]}
  - {name: out, type: variable, default: result}
markdown: "T={{ text }} N={{ n }} F={{ flag }} L={{ tags }}"
code: |
  {{ out }} = ({{ text }}, {{ n }}, {{ flag }}, {{ tags }})
"""
)


def form_errors(**values):
    with pytest.raises(ValuesInvalid) as e:
        check_values(FORM, {"text": "ok", **values})
    return e.value


def test_each_broken_rule_has_its_own_message():
    e = form_errors(
        text="toolong",
        code="ab",
        n=10,
        day="2024-13-45",
        tags=["x"],
        method="c",
        tail="m",
        file="data.xlsx",
        out="1x",
    )
    assert e.errors == {
        "text": "must be at most 5 characters",
        "code": "must be at least 3 characters",
        "n": "must be at most 9",
        "day": "must be a date written YYYY-MM-DD, e.g. 2024-01-31",
        "tags": "choose at least 2",
        "method": "must be one of: 'a', 'b'",
        "tail": "must be one of: 'l', 'r'",
        "file": "must be a file ending in .csv",
        "out": "must be a Python variable name: letters, digits and _, not starting with a "
        "digit, and not a keyword such as 'class' or 'import'",
    }
    assert str(e).startswith("text: must be at most 5 characters; code: must be at least 3")
    e = form_errors(text="", code="ABCD", n=0, tags=["a", "b", "c", "d"], flag="yes")
    assert e.errors == {
        "text": "must not be empty",
        "code": "must match the pattern ^[a-z]+$",
        "n": "must be at least 1",
        "tags": "choose at most 3",
        "flag": "must be true or false",
    }
    e = form_errors(tags=["ab", "abc"], n="3")
    assert e.errors == {
        "tags": "item 2: must be at most 2 characters",
        "n": "must be a whole number",
    }


def test_one_value_checked_alone_names_the_deepest_problem():
    from datadive_server_ext.templates.render import value_errors

    tags, n, out = FORM.input("tags"), FORM.input("n"), FORM.input("out")
    # the item's own problem comes before the list's (one item, two too few)
    assert value_errors(tags, ["abc"]) == "must be at most 2 characters"
    assert value_errors(tags, ["ab", "cd"]) is None
    assert value_errors(n, math.nan) == "must be a finite number"
    assert value_errors(FORM.input("day"), "2024-02-30") == (
        "must be a date written YYYY-MM-DD, e.g. 2024-01-31"
    )
    assert value_errors(FORM.input("tail"), "x") == "must be one of: 'l', 'r'"
    assert value_errors(out, "ok_name") is None
    assert value_errors(out, "class").startswith("must be a Python variable name")


def test_markdown_shows_values_as_plain_text():
    md = render_cells(FORM, {"text": "a*_`\\", "n": None, "flag": True, "tags": ["x", "y"]})[0]
    assert md["source"] == "T=a\\*\\_\\`\\\\ N=— F=yes L=x, y"
    md = render_cells(FORM, {"text": "<b>&", "flag": False, "tags": ['"', "'"]})[0]
    assert md["source"] == "T=&lt;b&gt;&amp; N=— F=no L=\", '"
    md = render_cells(FORM, {"text": "a\n# b", "n": 3, "tags": ["1", "2"]})[0]
    assert md["source"] == "T=a \\# b N=3 F=— L=1, 2", "no new line, so no heading; # escaped"


def test_generated_cells_record_what_regenerates_them():
    md, code = render_cells(FORM, {"text": "ok", "tags": ["a", "b"]})
    assert md["metadata"] == {
        "datadive": {
            "template": "form",
            "version": "2.0.0",
            "role": "markdown",
            "source_hash": source_hash(md["source"]),
        }
    }
    assert code["metadata"]["datadive"]["template"] == "form"
    assert code["metadata"]["datadive"]["version"] == "2.0.0"
    assert len(md["id"]) == len(code["id"]) == 8 and md["id"] != code["id"]
    assert not is_hand_edited(md) and not is_hand_edited(code)


def test_cells_generated_by_earlier_versions_are_not_taken_for_hand_edits():
    """Hashes stored in existing notebooks keep matching (the format is part of the file)."""
    stored = "sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"  # of "x"
    assert source_hash("x") == stored
    assert not is_hand_edited({"source": "x", "metadata": {"datadive": {"source_hash": stored}}})
    assert not is_hand_edited(
        {"source": ["", "x"], "metadata": {"datadive": {"source_hash": stored}}}
    )
    empty = source_hash("")
    assert not is_hand_edited({"metadata": {"datadive": {"source_hash": empty}}})
    # a cell edited to hold a lone surrogate (valid JSON) is an edit, not a crash
    assert is_hand_edited({"source": "\ud800", "metadata": {"datadive": {"source_hash": stored}}})


def test_whole_numbers_are_parenthesised_only_when_negative():
    assert [python_literal(v) for v in (0, 1, 5, -1, -5)] == ["0", "1", "5", "(-1)", "(-5)"]
    assert [python_literal(v) for v in (0.0, 2.5, -0.0)] == ["0.0", "2.5", "(-0.0)"]


def test_a_problem_only_the_deep_check_sees_is_reported_next_to_other_errors():
    e = form_errors(text="", tags=["ab", "\ud800"])
    assert e.errors == {
        "text": "must not be empty",
        "tags": "contains a character that is not valid Unicode text",
    }
    # a value with a schema problem keeps that message (the first one found)
    e = form_errors(text="\ud800 too long", tags=["a", "b"])
    assert e.errors == {"text": "must be at most 5 characters"}


def test_values_that_are_not_an_object_or_name_unknown_inputs():
    with pytest.raises(ValuesInvalid) as e:
        check_values(FORM, ["ok"])
    assert e.value.errors == {"values": "must be a JSON object mapping input names to values"}
    bare = parse_template(
        "id: bare\nversion: 0.1.0\ntitle: Bare\nlanguage: python\ninputs: []\ncode: x = 1\n"
    )
    assert check_values(bare, None) == {} and render_code(bare, check_values(bare, None)) == "x = 1"
    with pytest.raises(ValuesInvalid) as e:
        check_values(bare, {"n": 1})
    assert e.value.errors == {"n": "unknown input; this template's inputs are: none"}


def test_an_optional_list_left_empty_renders_as_an_empty_list():
    t = parse_template(
        "id: opt\nversion: 0.1.0\ntitle: Optional\nlanguage: python\ninputs:\n"
        "  - {name: cols, type: text, multiple: true}\n  - {name: note, type: text}\n"
        "code: |\n  cols = {{ cols }}\n  note = {{ note }}\n"
    )
    assert render_cells(t, {})[-1]["source"] == "cols = []\nnote = None"


def test_render_code_refuses_a_variable_name_it_is_handed_directly():
    values = check_values(FORM, {"text": "ok", "tags": ["a", "b"]})
    with pytest.raises(ValuesInvalid) as e:
        render_code(FORM, {**values, "out": "x; import os"})
    assert list(e.value.errors) == ["out"]
    assert e.value.errors["out"].startswith("must be a Python variable name")
