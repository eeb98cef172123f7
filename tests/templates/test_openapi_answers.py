"""The server extension answers what its OpenAPI document (datadive_server_ext/openapi.yaml)
says, on a real jupyter server: the panel's generated types are only as true as the document."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import quote, urlencode

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOC = Path(__file__).resolve().parents[2] / "datadive_server_ext" / "openapi.yaml"


@cache
def document() -> dict:
    return yaml.safe_load(DOC.read_text())


def _resolve(node: dict) -> dict:
    while "$ref" in node:
        target = document()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def check(server, method: str, template: str, params: dict, status: int, body=None, query=None):
    """Call ``method template`` (``{name}`` filled from ``params``), assert ``status`` and that
    the document lists it and its JSON answer matches the documented schema; the answer."""
    path = template
    for name, value in params.items():
        path = path.replace("{" + name + "}", quote(value, safe="/" if name == "path" else ""))
    url = "datadive" + path + ("?" + urlencode(query) if query else "")
    code, data = server.request(method, url, body)
    assert code == status, (code, data)
    responses = document()["paths"][template][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {template} answered {status}, not documented"
    schema = _resolve(responses[str(status)])["content"]["application/json"]["schema"]
    registry = Registry().with_resource("urn:server", Resource(document(), DRAFT202012))
    errors = list(
        Draft202012Validator({**document(), **schema}, registry=registry).iter_errors(data)
    )
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    return data


def test_template_routes_answer_their_documented_shapes(jupyter_server):
    listing = check(jupyter_server, "GET", "/api/templates", {}, 200)
    assert listing["templates"]
    one = check(
        jupyter_server, "GET", "/api/templates/{template_id}", {"template_id": "t-test"}, 200
    )
    check(
        jupyter_server,
        "GET",
        "/api/templates/{template_id}/versions/{version}",
        {"template_id": "t-test", "version": one["version"]},
        200,
    )
    check(jupyter_server, "GET", "/api/templates/{template_id}", {"template_id": "nope"}, 404)
    rendered = check(
        jupyter_server,
        "POST",
        "/api/render",
        {},
        200,
        body={"template": "histogram", "values": {"column": "age", "bins": 5}},
    )
    assert rendered["cells"][-1]["metadata"]["datadive"]["source_hash"].startswith("sha256:")
    check(
        jupyter_server,
        "POST",
        "/api/render",
        {},
        422,
        body={"template": "histogram", "values": {"bins": 0}},
    )


def test_cell_routes_answer_their_documented_shapes(jupyter_server, notebook_path):
    nb = {"path": notebook_path(cells=2, name="openapi.ipynb")}
    values = {"outcome": "score", "group": "cond", "group_a": "A", "group_b": "B"}
    ins = check(
        jupyter_server,
        "POST",
        "/api/notebooks/{path}/cells",
        nb,
        201,
        body={"template": "t-test", "index": 1, "values": values},
    )
    code_id = ins["cells"][-1]["id"]
    where = {**nb, "cell_id": code_id}
    check(jupyter_server, "GET", "/api/notebooks/{path}/cells/{cell_id}", where, 200)
    check(
        jupyter_server,
        "PUT",
        "/api/notebooks/{path}/cells/{cell_id}",
        where,
        200,
        body={"values": {**values, "group_b": "C"}},
    )
    check(
        jupyter_server,
        "PATCH",
        "/api/notebooks/{path}/cells",
        nb,
        200,
        body={"cell_id": code_id, "to": 0},
    )
    check(jupyter_server, "DELETE", "/api/notebooks/{path}/cells/{cell_id}", where, 200)


def test_state_routes_answer_their_documented_shapes(jupyter_server):
    check(jupyter_server, "GET", "/api/sync", {}, 200)
    check(jupyter_server, "GET", "/api/current-project", {}, 200)


def test_source_hash_route_answers_what_a_generated_cell_records(jupyter_server):
    rendered = check(
        jupyter_server,
        "POST",
        "/api/render",
        {},
        200,
        body={"template": "histogram", "values": {"column": "age", "bins": 5}},
    )
    cell = rendered["cells"][-1]
    answer = check(
        jupyter_server, "POST", "/api/source-hash", {}, 200, body={"source": cell["source"]}
    )
    assert answer["hash"] == cell["metadata"]["datadive"]["source_hash"]
    edited = check(
        jupyter_server, "POST", "/api/source-hash", {}, 200, body={"source": cell["source"] + "#"}
    )
    assert edited["hash"] != answer["hash"]
    check(jupyter_server, "POST", "/api/source-hash", {}, 400, body={"source": 3})
