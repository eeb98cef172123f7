"""Template format: validation errors carry file, line and field; the schema ships in the package."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest

from datadive_server_ext.templates import (
    TemplateInvalid,
    load_file,
    parse_template,
    schema,
    template_from_document,
    version_key,
)
from datadive_server_ext.templates.versions import latest_version

GOOD = """\
id: demo
version: 1.2.0
title: Demo
category: Explore
tags: [a, b]
language: python
inputs:
  - name: data
    type: variable
    default: df
  - name: col
    type: column
    dataset: data
    required: true
  - name: n
    type: integer
    minimum: 1
    maximum: 10
    default: 3
code: |
  {{ data }}[{{ col }}].head({{ n }})
"""


def problems(text, write_template):
    path = write_template(text)
    with pytest.raises(TemplateInvalid) as e:
        load_file(path)
    return path, e.value.problems


def test_schema_ships_with_package_and_accepts_builtins(builtins):
    text = (
        resources.files("datadive_server_ext.templates")
        .joinpath("schema/template.schema.json")
        .read_text()
    )
    s = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(s)
    assert s == schema()
    for t in builtins.values():
        jsonschema.validate(t.to_document(), s)


def test_good_template_loads(write_template):
    t = load_file(write_template(GOOD))
    assert (t.id, t.version, t.tags) == ("demo", "1.2.0", ("a", "b"))
    props = t.values_schema["properties"]
    assert props["n"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 10,
        "default": 3,
        "x-datadive-input": {"type": "integer"},
    }
    assert props["col"]["x-datadive-input"] == {"type": "column", "dataset": "data"}
    assert t.values_schema["required"] == ["col"]


def test_unknown_input_type_names_file_line_and_field(write_template):
    path, ps = problems(GOOD.replace("type: integer", "type: slider"), write_template)
    assert len(ps) == 1
    assert str(ps[0]).startswith(f"{path}:16: inputs[2].type: unknown input type 'slider'")
    assert "integer" in ps[0].message  # says what to use instead


def test_placeholder_without_input_points_at_code_line(write_template):
    text = GOOD.replace("code: |\n  {{ data }}", "code: |\n  x = 1\n  {{ dat }}")
    path, ps = problems(text, write_template)
    assert [(p.line, p.field) for p in ps] == [(22, "code")]
    assert "{{ dat }} has no input" in ps[0].message and "data, col, n" in ps[0].message


@pytest.mark.parametrize(
    "change,field,words",
    [
        (("version: 1.2.0", "version: 1.2"), "version", "semantic version"),
        (("id: demo", "id: Demo Template"), "id", "not a valid id"),
        (("title: Demo\n", ""), "(document)", "missing required field(s): title"),
        (("language: python", "language: julia"), "language", "unknown language"),
        (("    minimum: 1\n", "    minimum: 20\n"), "inputs[2].minimum", "greater than maximum"),
        (("    default: 3\n", "    default: 30\n"), "inputs[2].default", "at most 10"),
        (("    dataset: data", "    dataset: frame"), "inputs[1].dataset", "not an input"),
        (("  - name: n\n", "  - name: col\n"), "inputs[2].name", "duplicate input name"),
        (
            ("    type: integer\n", "    type: integer\n    options: [1]\n"),
            "inputs[2].options",
            "does not apply",
        ),
        (("{{ n }})", "'{{ n }}')"), "code", "inside a string literal"),
        (("{{ n }})", "{{ n.x }})"), "code", "malformed placeholder"),
        (("  {{ data }}[", "  {{ col }} = {{ data }}["), "code", "cannot be assigned"),
        (("tags: [a, b]", "tags: [a, b]\ncolour: red"), "colour", "unknown field 'colour'"),
        (("    default: df\n", ""), "inputs[0]", "must be required or have a default"),
    ],
)
def test_problems_name_the_field(write_template, change, field, words):
    assert change[0] in GOOD
    _, ps = problems(GOOD.replace(*change), write_template)
    assert any(p.field == field and words in p.message and p.line for p in ps), [str(p) for p in ps]


def test_yaml_syntax_error_has_line(write_template):
    path, ps = problems(GOOD.replace("tags: [a, b]", "tags: [a, b"), write_template)
    assert ps[0].field == "(document)" and ps[0].line and "not valid YAML" in ps[0].message


def test_character_yaml_forbids_is_a_problem_not_a_crash():
    with pytest.raises(TemplateInvalid) as e:
        parse_template(GOOD.replace("title: Demo", "title: De\x00mo"), file="nul.yaml")
    (p,) = e.value.problems
    assert (p.file, p.line, p.field) == ("nul.yaml", 3, "(document)")
    assert "U+0000 is not allowed" in p.message and "escape" in p.message


def test_duplicate_key_is_an_error(write_template):
    _, ps = problems(GOOD.replace("title: Demo\n", "title: Demo\ntitle: Again\n"), write_template)
    assert ps[0].line == 4 and "duplicate key 'title'" in ps[0].message


def test_python_syntax_error_in_code(write_template):
    _, ps = problems(GOOD.replace("head({{ n }})", "head({{ n }}"), write_template)
    assert ps[0].field == "code" and "not valid Python" in ps[0].message


def test_placeholder_in_fstring_rejected(write_template):
    _, ps = problems(
        GOOD.replace(
            "  {{ data }}[{{ col }}].head({{ n }})", "  f'{ {{ n }} }'\n  {{ data }}[{{ col }}]"
        ),
        write_template,
    )
    assert "f-string" in ps[0].message


def test_r_templates_are_accepted_but_not_rendered(write_template):
    from datadive_server_ext.templates import RenderError, render_cells

    t = load_file(write_template(GOOD.replace("language: python", "language: r")))
    with pytest.raises(RenderError, match="not supported yet"):
        render_cells(t, {"col": "a"})


def test_not_a_mapping():
    with pytest.raises(TemplateInvalid, match="must be a mapping"):
        parse_template("- a\n- b\n")


def test_semver_ordering():
    assert latest_version(["1.2.0", "1.10.0", "1.9.9", "2.0.0-rc.1"]) == "2.0.0-rc.1"
    assert version_key("2.0.0-rc.1") < version_key("2.0.0") < version_key("2.0.1")
    assert version_key("1.0.0-alpha.2") < version_key("1.0.0-alpha.10") < version_key("1.0.0-beta")
    with pytest.raises(ValueError, match="semantic version"):
        version_key("1.0")


def test_document_round_trips(builtins):
    minimal = parse_template("id: m\nversion: 0.0.1\ntitle: M\nlanguage: python\ncode: print(1)\n")
    for t in [minimal, *builtins.values()]:
        again = template_from_document(t.to_document())
        assert again == t and again.content_hash == t.content_hash
