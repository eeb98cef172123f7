"""``datadive templates validate|render|list`` through the real console entry point (offline)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]


CONSOLE_SCRIPT = Path(sys.executable).parent / "datadive"  # what pip installed for the wheel


def datadive(*args, env=None, script=False):
    """Run ``datadive templates ARGS`` (``python -m datadive_hub.cli``, or with ``script=True``
    the installed console script) against the source tree."""
    e = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'contents'}", **(env or {})}
    for key in ("DATADIVE_HUB_URL", "JUPYTERHUB_API_TOKEN"):
        if not env or key not in env:
            e.pop(key, None)
    cmd = [str(CONSOLE_SCRIPT)] if script else [sys.executable, "-m", "datadive_hub.cli"]
    return subprocess.run(
        [*cmd, "templates", *args],
        capture_output=True,
        text=True,
        env=e,
        timeout=120,
    )


def test_installed_console_script(tmp_path):
    """The ``datadive`` command authors type: the wheel's entry point, run as a program."""
    from importlib.metadata import entry_points

    (ep,) = [e for e in entry_points(group="console_scripts") if e.name == "datadive"]
    assert ep.value == "datadive_hub.cli:main"
    assert CONSOLE_SCRIPT.exists(), f"pip did not install the datadive script in {CONSOLE_SCRIPT}"
    library = ROOT / "datadive_server_ext/templates/library"
    r = datadive("validate", "-q", str(library), script=True)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    r = datadive("validate", "-q", str(bad), script=True)
    assert r.returncode == 1 and len(r.stdout.splitlines()) == 2
    r = datadive("render", "describe", "--values", "{}", script=True)
    assert r.returncode == 0 and json.loads(r.stdout)[-1]["metadata"]["datadive"]["template"] == (
        "describe"
    )
    r = datadive("render", "histogram", "--values", '{"bins": 0}', script=True)
    assert r.returncode == 2 and r.stderr.splitlines() == [
        "column: required: give a value",
        "bins: must be at least 1",
    ]


BAD = """\
id: bad
version: 1.0.0
title: Bad
language: python
inputs:
  - name: n
    type: slider
code: |
  print({{ n }})
  print({{ m }})
"""

# one file with a problem of every kind: schema, YAML duplicate, input fields, defaults,
# datasets, placeholders, and the Python body — all must be reported in the same run
MANY = """\
id: Many Problems
version: "1.0"
title: Many
title: Again
language: python
colour: red
inputs:
  - name: data
    type: variable
  - name: n
    type: slider
  - name: k
    type: integer
    minimum: 5
    maximum: 1
    default: 30
  - name: col
    type: column
    dataset: frame
  - name: flag
    type: boolean
    options: [a]
markdown: "{{ col }} and {{ nope }}"
code: |
  {{ k }} = {{ data }}[{{ col }}]
  print('{{ flag }}')
  print({{ dat }})
  print({{ a b }})
"""


def test_validate_reports_every_problem_with_file_line_field(tmp_path):
    f = tmp_path / "many.yaml"
    f.write_text(MANY)
    r = datadive("validate", str(f))
    assert r.returncode == 1, r.stderr
    inputs = "(inputs are: data, n, k, col, flag)"
    assert r.stdout.splitlines() == [
        f"{f}:1: id: 'Many Problems' is not a valid id; use lower-case letters, digits, '.', '_' "
        "and '-'",
        f"{f}:2: version: '1.0' is not a semantic version; write MAJOR.MINOR.PATCH, e.g. 1.0.0",
        f"{f}:4: title: duplicate key 'title'; the last one would silently win, keep one",
        f"{f}:6: colour: unknown field 'colour'; allowed: category, code, description, id, "
        "inputs, language, markdown, tags, title, version",
        f"{f}:8: inputs[0]: variable input 'data' must be required or have a default",
        f"{f}:11: inputs[1].type: unknown input type 'slider'; use one of: text, number, "
        "integer, boolean, choice, date, column, file, variable, level",
        f"{f}:14: inputs[2].minimum: minimum 5 is greater than maximum 1",
        f"{f}:16: inputs[2].default: default 30 is not a valid value: must be at most 1",
        f"{f}:19: inputs[3].dataset: dataset 'frame' is not an input; inputs are: data, n, k, "
        "col, flag",
        f"{f}:22: inputs[4].options: 'options' does not apply to a boolean input",
        f"{f}:23: markdown: placeholder {{{{ nope }}}} has no input; declare it under inputs "
        + inputs,
        f"{f}:25: code: {{{{ k }}}} is an integer input: it is a value, so it cannot be assigned "
        "to; use a variable input for names",
        f"{f}:26: code: placeholder {{{{ flag }}}} inside a string literal; values are inserted "
        "as literals, so write the placeholder where an expression goes, e.g. f(x={{ x }})",
        f"{f}:27: code: placeholder {{{{ dat }}}} has no input; declare it under inputs " + inputs,
        f"{f}:28: code: malformed placeholder '{{{{ a b }}}}'; write {{{{ input_name }}}}",
    ]


def test_validate_reports_file_line_field(tmp_path, builtins):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    library = ROOT / "datadive_server_ext/templates/library"
    r = datadive("validate", str(bad), str(library))
    assert r.returncode == 1
    oks = []
    for path in sorted(library.glob("*.yaml")):
        t = builtins[path.stem]
        oks.append(f"{path}: ok ({t.id} {t.version}, {len(t.inputs)} inputs)")
    assert len(oks) >= 12
    assert r.stdout.splitlines() == [
        f"{bad}:7: inputs[0].type: unknown input type 'slider'; use one of: text, number, "
        "integer, boolean, choice, date, column, file, variable, level",
        f"{bad}:10: code: placeholder {{{{ m }}}} has no input; declare it under inputs "
        "(inputs are: n)",
        *oks,
    ]


def test_validate_placeholder_without_input(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD.replace("slider", "integer"))
    r = datadive("validate", "-q", str(bad))
    assert r.returncode == 1
    assert r.stdout.strip() == (
        f"{bad}:10: code: placeholder {{{{ m }}}} has no input; declare it under inputs (inputs are: n)"
    )
    ok = tmp_path / "ok.yaml"
    ok.write_text(BAD.replace("slider", "integer").replace("  print({{ m }})\n", ""))
    r = datadive("validate", "-q", str(ok))
    assert r.returncode == 0 and r.stdout == ""


def test_render_builtin_prints_cells(tmp_path):
    r = datadive(
        "render",
        "t-test",
        "--values",
        json.dumps({"outcome": "score", "group": "cond", "group_a": "A", "group_b": "B"}),
    )
    assert r.returncode == 0, r.stderr
    cells = json.loads(r.stdout)
    nb = nbformat.v4.new_notebook(cells=[nbformat.from_dict(c) for c in cells])
    nbformat.validate(nb)
    assert cells[-1]["metadata"]["datadive"]["template"] == "t-test"


def test_render_file_and_values_errors(tmp_path):
    f = tmp_path / "ok.yaml"
    f.write_text(BAD.replace("slider", "integer").replace("  print({{ m }})\n", ""))
    r = datadive("render", str(f), "--values", '{"n": 5}')
    assert r.returncode == 0 and json.loads(r.stdout)[0]["source"] == "print(5)"
    r = datadive("render", "histogram", "--values", '{"bins": "many"}')
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        "column: required: give a value",
        "bins: must be a whole number",
    ]
    r = datadive("render", "histogram", "--values", "{oops")
    assert r.returncode == 2 and "not valid JSON" in r.stderr
    r = datadive("render", "no-such")
    assert r.returncode == 1 and "built-ins: anova" in r.stderr


def test_list(tmp_path):
    r = datadive("list", "--json")
    assert r.returncode == 0
    rows = json.loads(r.stdout)
    assert len(rows) >= 12
    assert all({"id", "version", "title", "inputs"} <= set(row) for row in rows)
    assert rows[0]["inputs"]["type"] == "object"
    r = datadive("list")
    assert "t-test" in r.stdout and "Independent-samples t test" in r.stdout
    # an unreachable hub: built-ins with a note
    r = datadive("list", "--hub-url", "http://127.0.0.1:9", "--token", "x")
    assert r.returncode == 0 and "t-test" in r.stdout and "built-in templates only" in r.stderr


def test_publish_needs_hub_and_token(tmp_path):
    r = datadive("publish", str(ROOT / "datadive_server_ext/templates/library/anova.yaml"))
    assert r.returncode == 2 and "--hub-url" in r.stderr
