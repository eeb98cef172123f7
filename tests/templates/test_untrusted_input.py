"""Template YAML, request bodies and markdown values are untrusted: bounded, refused with a
clear message, and never able to put active content into a generated cell."""

from __future__ import annotations

import html
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import mistune
import pytest
from untrusted import ALIAS_BOMB, big_template

from datadive_server_ext import templates
from datadive_server_ext.templates import (
    TemplateInvalid,
    parse_template,
    render_cells,
    template_from_document,
)

ROOT = Path(__file__).resolve().parents[2]


def datadive(*args: str, limit_memory: int) -> subprocess.CompletedProcess:
    """``datadive templates ARGS`` from the source tree, in at most ``limit_memory`` bytes."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'contents'}"}

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (limit_memory, limit_memory))

    return subprocess.run(
        [sys.executable, "-m", "datadive_hub.cli", "templates", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        preexec_fn=limit,
    )


def refused(text: str) -> tuple[str, float, int]:
    """(message, seconds, peak bytes allocated) of parsing ``text``, which must be refused."""
    tracemalloc.start()
    t = time.perf_counter()
    try:
        with pytest.raises(TemplateInvalid) as e:
            parse_template(text, file="t.yaml")
        return str(e.value), time.perf_counter() - t, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_alias_bomb_is_refused_at_the_first_anchor():
    message, seconds, peak = refused(ALIAS_BOMB)
    assert "t.yaml:3" in message and "anchors (&name) and aliases (*name)" in message
    assert peak < 20 << 20 and seconds < 5


def test_template_over_the_size_limit_is_refused_before_parsing():
    message, _, peak = refused(big_template(1 << 20))
    assert f"at most 256 KiB ({256 * 1024} bytes)" in message
    assert peak < 8 << 20  # not parsed: nothing but the size was looked at
    assert parse_template(big_template(templates.MAX_TEMPLATE_BYTES - 1000)).id == "big"


@pytest.mark.parametrize(
    "text",
    [
        "id: x\ninputs: " + "[" * 50000 + "]" * 50000 + "\n",
        "id: x\ninputs:\n" + "".join(" " * i + "- \n" for i in range(1, 60)),
    ],
    ids=["flow", "block"],
)
def test_deep_nesting_is_refused(text):
    message, _, _ = refused(text)
    assert "nested more than 32 levels deep" in message


def test_deep_document_is_refused():
    deep: list = []
    node = deep
    for _ in range(5000):
        node.append([])
        node = node[0]
    with pytest.raises(TemplateInvalid) as e:
        template_from_document({"id": "x", "inputs": deep})
    assert "nested more than 32 levels deep" in str(e.value)
    with pytest.raises(TemplateInvalid) as e:
        template_from_document({"id": "x", "description": "y" * (256 * 1024 + 1)})
    assert isinstance(e.value, templates.TemplateTooLarge)


def test_cli_validate_explains_the_bomb(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(ALIAS_BOMB)
    big = tmp_path / "big.yaml"
    big.write_text(big_template(1 << 20))
    # at most 2 GB of address space: a regression fails this test instead of the machine
    r = datadive("validate", str(bomb), str(big), limit_memory=2 << 30)
    assert r.returncode == 1, r.stderr
    assert f"{bomb}:3: (document): not valid YAML" not in r.stdout
    assert f"{bomb}:3: (document): anchors (&name) and aliases (*name) are not allowed" in r.stdout
    assert f"{big}: (document): the template is" in r.stdout and "256 KiB" in r.stdout


# ---------------------------------------------------------------- markdown

ATTACKS = [
    "[click me](javascript:alert(document.cookie))",
    "![pixel](https://tracker.example/p.png)",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "<iframe src=https://evil.example></iframe>",
    "[y](vbscript:msgbox(1))",
]


def html_of(cells) -> str:
    md = cells[0]
    assert md["cell_type"] == "markdown"
    return mistune.html(md["source"])


@pytest.mark.parametrize("attack", ATTACKS)
def test_values_in_markdown_cells_stay_text(builtins, attack):
    cells = render_cells(
        builtins["t-test"],
        {"data": "df", "outcome": attack, "group": "arm", "group_a": "a", "group_b": attack},
    )
    shown = html_of(cells).lower()
    assert "<a " not in shown and "<img" not in shown and "<script" not in shown
    assert "<iframe" not in shown
    # shown as typed: the reader sees exactly the value
    text = mistune.create_markdown(renderer=None)(cells[0]["source"])
    assert attack in html.unescape(_plain_text(text))


def _plain_text(tokens) -> str:
    out = []
    for t in tokens:
        if "raw" in t:
            out.append(t["raw"])
        if "children" in t:
            out.append(_plain_text(t["children"]))
    return "".join(out)


def test_values_in_code_spans_show_as_typed(builtins):
    cells = render_cells(builtins["load-csv"], {"file": "data/survey_(1)*.csv", "name": "df"})
    assert "<code>data/survey_(1)*.csv</code>" in html_of(cells)


@pytest.mark.parametrize(
    ("markdown", "says"),
    [
        ("[docs](javascript:alert(1))", "javascript:, vbscript: or data:"),
        ("[docs](data:text/html,hi)", "javascript:, vbscript: or data:"),
        ("![logo](https://cdn.example/logo.png)", "images from other servers"),
        ('<img src="http://cdn.example/logo.png">', "images from other servers"),
        ("<script>alert(1)</script>", "raw HTML <script>"),
        ('<b onmouseover="alert(1)">x</b>', "on... event attributes"),
        ("[see]({{ n }})", "a placeholder cannot stand in a link"),
    ],
)
def test_template_markdown_with_active_content_is_refused(markdown, says):
    text = (
        "id: md\nversion: 1.0.0\ntitle: M\nlanguage: python\n"
        "inputs:\n  - {name: n, type: text, default: a}\n"
        f"markdown: |\n  Intro\n  {markdown}\ncode: |\n  print({{{{ n }}}})\n"
    )
    with pytest.raises(TemplateInvalid) as e:
        parse_template(text, file="md.yaml")
    assert says in str(e.value) and "md.yaml:9: markdown:" in str(e.value)


def test_plain_markdown_links_and_local_images_are_fine():
    text = (
        "id: md\nversion: 1.0.0\ntitle: M\nlanguage: python\n"
        "inputs:\n  - {name: n, type: text, default: a}\n"
        "markdown: '[docs](https://example.org) ![plot](plot.png) {{ n }} data: yes'\n"
        "code: |\n  print({{ n }})\n"
    )
    assert parse_template(text).markdown.startswith("[docs]")
