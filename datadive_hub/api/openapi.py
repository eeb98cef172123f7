"""The OpenAPI 3.1 document, merged from ``openapi/*.yaml`` (one file per area)."""

import copy
import functools
from pathlib import Path
from typing import Any, cast

import yaml

from .base import APIHandler

HERE = Path(__file__).parent / "openapi"


@functools.cache
def _merged() -> dict[str, Any]:
    doc = yaml.safe_load((HERE / "base.yaml").read_text())
    doc.setdefault("paths", {})
    doc.setdefault("components", {}).setdefault("schemas", {})
    for part in sorted(HERE.glob("*.yaml")):
        if part.name == "base.yaml":
            continue
        area = yaml.safe_load(part.read_text()) or {}
        for path, ops in (area.get("paths") or {}).items():
            doc["paths"].setdefault(path, {}).update(ops)
        for kind, items in (area.get("components") or {}).items():
            doc["components"].setdefault(kind, {}).update(items)
    return cast(dict[str, Any], doc)


def openapi_document(server_url: str | None = None) -> dict[str, Any]:
    """The document; ``server_url`` (the API root) fills ``servers``."""
    doc = copy.deepcopy(_merged())
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc


class OpenAPIHandler(APIHandler):
    guests_allowed = True

    def get(self) -> None:
        self.write_json(openapi_document(self.settings["api_prefix"].rstrip("/")))


routes = [(r"openapi.json", OpenAPIHandler)]


if __name__ == "__main__":  # the labextension's `npm run gen:api` reads it from here
    import json

    print(json.dumps(openapi_document(), indent=1, sort_keys=True))
