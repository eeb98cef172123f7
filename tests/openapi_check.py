"""Validate service responses against the OpenAPI document the service serves."""

import re
from functools import cache
from urllib.parse import unquote, urlparse

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

API_PREFIX = "/services/datadive/api/v1"


@cache
def document() -> dict:
    from datadive_hub.api.openapi import openapi_document

    return openapi_document()


@cache
def _registry() -> Registry:
    return Registry().with_resource("urn:datadive", Resource(document(), DRAFT202012))


def _resolve(obj: dict) -> dict:
    while "$ref" in obj:
        ref = obj["$ref"].lstrip("#/").split("/")
        node = document()
        for part in ref:
            node = node[part]
        obj = node
    return obj


@cache
def _path_regexes() -> list[tuple[re.Pattern, str]]:
    out = []
    for template in document()["paths"]:
        parts = re.split(r"(\{[^}]+\})", template)
        rx = "".join(
            (".+" if p == "{path}" else "[^/]+") if p.startswith("{") else re.escape(p)
            for p in parts
        )
        # literal paths win over templated ones (e.g. files:copy over files/{path})
        out.append((re.compile(f"^{rx}/?$"), template))
    out.sort(key=lambda item: item[1].count("{"))
    return out


def operation_for(method: str, url: str) -> tuple[str, dict]:
    """The (path template, operation) documenting ``method url``; AssertionError if none."""
    path = unquote(urlparse(url).path)
    assert path.startswith(API_PREFIX), path
    path = path[len(API_PREFIX) :] or "/"
    for rx, template in _path_regexes():
        if rx.match(path):
            op = document()["paths"][template].get(method.lower())
            if op is not None:
                return template, op
    raise AssertionError(f"{method} {path} is not in the OpenAPI document")


def validate_response(method: str, url: str, status: int, body: bytes, content_type: str) -> None:
    """AssertionError unless ``status`` is documented for the operation and the body matches."""
    template, op = operation_for(method, url)
    responses = op.get("responses", {})
    spec = (
        responses.get(str(status))
        or responses.get(f"{str(status)[0]}XX")
        or responses.get("default")
    )
    assert spec is not None, (
        f"{method} {template} answered {status}, which the OpenAPI document does not list "
        f"(documented: {sorted(responses)}); body: {body[:300]!r}"
    )
    spec = _resolve(spec)
    content = spec.get("content") or {}
    schema = (content.get("application/json") or {}).get("schema")
    if schema is None or "json" not in (content_type or ""):
        return
    import json

    instance = json.loads(body)
    root = {**document(), **schema}  # resolve #/components/... against the whole document
    errors = sorted(
        Draft202012Validator(root, registry=_registry()).iter_errors(instance),
        key=lambda e: list(e.path),
    )
    assert not errors, (
        f"{method} {template} → {status}: response does not match the OpenAPI schema: "
        + "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    )
