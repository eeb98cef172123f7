"""The contract between the panel, the server extension and the service stays one.

- every route the server extension registers is in its OpenAPI document, with the same methods,
  and the document lists nothing the extension does not serve;
- the panel's generated types (``datadive_labext/src/generated``) are what ``npm run gen:api``
  makes of the two documents today;
- the source hash the server records in a generated cell is the one the panel computes (both
  sides check ``datadive_labext/test/source_hashes.json``).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from tornado.web import RequestHandler

from datadive_server_ext.app import ROUTE_MODULES
from datadive_server_ext.templates.render import source_hash

ROOT = Path(__file__).resolve().parent.parent
LABEXT = ROOT / "datadive_labext"
METHODS = ("get", "post", "put", "patch", "delete")


def _groups(pattern: str) -> list[tuple[int, int]]:
    """(start, end) of every top-level parenthesised group of a regex."""
    out, depth, start, i = [], 0, 0, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "(":
            if depth == 0:
                start = i
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                out.append((start, i + 1))
        i += 1
    return out


def path_templates(pattern: str) -> list[str]:
    """The OpenAPI paths a tornado route pattern serves: ``(?P<name>…)`` becomes ``{name}``, an
    optional group ``(?:…)?`` gives a path with and one without it, a trailing ``/?`` goes."""
    pattern = pattern.removesuffix("/?")
    for start, end in _groups(pattern):
        group = pattern[start:end]
        m = re.match(r"\(\?P<(\w+)>", group)
        if m:
            return [
                t
                for rest in path_templates(pattern[end:])
                for t in [pattern[:start] + "{" + m.group(1) + "}" + rest]
            ]
        if group.startswith("(?:") and pattern[end : end + 1] == "?":
            head, tail = pattern[:start], pattern[end + 1 :]
            return path_templates(head + group[3:-1] + tail) + path_templates(head + tail)
    return [pattern.replace("\\", "")]


def registered_routes() -> dict[str, set[str]]:
    """OpenAPI path → methods of every route the extension registers (as ``initialize_handlers``)."""
    out: dict[str, set[str]] = {}
    for name in ROUTE_MODULES:
        module = importlib.import_module(f"datadive_server_ext.handlers.{name}")
        for pattern, handler in module.routes:
            methods = {m for m in METHODS if getattr(handler, m) is not getattr(RequestHandler, m)}
            for template in path_templates(pattern):
                out.setdefault("/" + template, set()).update(methods)
    return out


def server_document() -> dict:
    return yaml.safe_load((ROOT / "datadive_server_ext" / "openapi.yaml").read_text())


def test_route_patterns_become_paths():
    assert path_templates(r"api/templates/?") == ["api/templates"]
    assert path_templates(r"api/environments/status(?:/(?P<folder>[^/]+))?") == [
        "api/environments/status/{folder}",
        "api/environments/status",
    ]
    nb = r"api/notebooks/(?P<path>(?:[^/]+/)*[^/]+\.ipynb)/cells/(?P<cell_id>[^/]+)/?"
    assert path_templates(nb) == ["api/notebooks/{path}/cells/{cell_id}"]


def test_every_route_is_documented_and_nothing_else():
    routes = registered_routes()
    documented = {
        path: {m for m in ops if m in METHODS} for path, ops in server_document()["paths"].items()
    }
    assert routes, "no routes found"
    missing = {p: sorted(m - documented.get(p, set())) for p, m in routes.items()}
    extra = {p: sorted(m - routes.get(p, set())) for p, m in documented.items()}
    assert not {p: m for p, m in missing.items() if m}, (
        "routes the server extension serves but datadive_server_ext/openapi.yaml does not list"
    )
    assert not {p: m for p, m in extra.items() if m}, (
        "operations datadive_server_ext/openapi.yaml lists but no handler serves"
    )


@pytest.mark.skipif(
    shutil.which("node") is None or not (LABEXT / "node_modules" / "openapi-typescript").is_dir(),
    reason="needs node and datadive_labext/node_modules (npm install)",
)
def test_generated_types_match_the_documents():
    result = subprocess.run(
        ["node", "scripts/gen-api.mjs", "--check"],
        cwd=LABEXT,
        env={**os.environ, "DATADIVE_PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_source_hash_is_the_one_the_panel_computes():
    cases = json.loads((LABEXT / "test" / "source_hashes.json").read_text())
    assert len(cases) >= 4
    for case in cases:
        assert source_hash(case["source"]) == case["hash"], case["source"]
