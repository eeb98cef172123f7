"""The examples in docs/templates.md are real: each shown command is run with the installed
``datadive`` console script and its output compared with the block the doc shows."""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from datadive_server_ext.templates import parse_template, render_cells

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "templates.md").read_text(encoding="utf-8")
DATADIVE = Path(sys.executable).parent / "datadive"  # the console script pip installed


def block_after(marker: str, lang: str = "") -> str:
    """The first fenced code block (of ``lang``) after ``marker`` in the doc."""
    at = DOC.index(marker)
    m = re.compile(rf"```{lang}\n(.*?)```", re.S).search(DOC, at)
    assert m, f"no ```{lang} block after {marker!r} in docs/templates.md"
    return m.group(1)


def block_starting(prefix: str) -> str:
    """The fenced block (no language) whose first line starts with ``prefix``."""
    m = re.search(r"```\n(" + re.escape(prefix) + r"[^\n]*\n.*?)```", DOC, re.S)
    assert m, f"no block starting with {prefix!r} in docs/templates.md"
    return m.group(1)


def run_shown(command_block: str, cwd: Path) -> tuple[str, subprocess.CompletedProcess]:
    """Run the ``$ datadive ...`` line of a doc block; returns (the rest of the block, result)."""
    first, _, shown = command_block.partition("\n")
    assert first.startswith("$ datadive "), first
    argv = shlex.split(first[2:])
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'contents'}"}
    for key in ("DATADIVE_HUB_URL", "JUPYTERHUB_API_TOKEN"):
        env.pop(key, None)
    r = subprocess.run(
        [str(DATADIVE), *argv[1:]], cwd=cwd, capture_output=True, text=True, env=env, timeout=120
    )
    return shown, r


@pytest.fixture(autouse=True)
def _console_script():
    assert DATADIVE.exists(), f"the datadive console script is not installed at {DATADIVE}"


def test_validation_example_is_real_output(tmp_path):
    (tmp_path / "my-test.yaml").write_text(block_after("For this `my-test.yaml`", "yaml"))
    shown, r = run_shown(block_starting("$ datadive templates validate my-test.yaml"), tmp_path)
    assert r.returncode == 1, r.stderr
    assert r.stdout == shown, f"docs/templates.md shows:\n{shown}\nreal output:\n{r.stdout}"


def test_worked_example_render_is_real_output(tmp_path):
    yaml_text = block_after("`compare-means.yaml`:", "yaml")
    (tmp_path / "compare-means.yaml").write_text(yaml_text)
    command = block_starting("$ datadive templates render compare-means.yaml ")
    _, r = run_shown(command, tmp_path)
    assert r.returncode == 0, r.stderr
    shown = block_after("prints two nbformat v4 cells", "json")
    real = json.loads(r.stdout)
    expected = json.loads(shown)
    for cell in real:
        assert re.fullmatch(r"[0-9a-f]{8}", cell["id"])
    # cell ids are random: compare everything else exactly, and the printed text too
    for got, want in zip(real, expected, strict=True):
        assert {**got, "id": want["id"]} == want
    printed = r.stdout
    for got, want in zip(real, expected, strict=True):
        printed = printed.replace(f'"id": "{got["id"]}"', f'"id": "{want["id"]}"', 1)
    assert printed == shown
    # the source as the doc shows it, line for line
    assert block_after("The code cell's `source`, as it appears", "python") == (
        real[-1]["source"] + "\n"
    )
    # and the hostile group name stayed one string literal
    tree = ast.parse(real[-1]["source"])
    lists = [n for n in ast.walk(tree) if isinstance(n, ast.List)]
    assert [ast.literal_eval(n) for n in lists] == [["A", 'B"); import os; ("']]


def test_worked_example_f_string_remark_holds():
    yaml_text = block_after("`compare-means.yaml`:", "yaml")
    from datadive_server_ext.templates import TemplateInvalid

    bad = yaml_text.replace("{_t.pvalue < _alpha}", "{_t.pvalue < {{ alpha }}}")
    assert bad != yaml_text
    with pytest.raises(TemplateInvalid, match="f-string"):
        parse_template(bad)
    t = parse_template(yaml_text)
    assert render_cells(t, {"outcome": "y", "group": "g", "groups": ["a", "b"]})
