"""The service's REST API under ``<service prefix>/api/v1/``: one module per area."""

import importlib

from tornado import web

# Each module exports ``routes = [(pattern relative to api/v1/, Handler), ...]``.
ROUTE_MODULES = [
    "projects",
    "members",
    "notebooks",
    "files",
    "links",
    "history",
    "templates",
    "openapi",
]


def api_routes(prefix: str) -> list[tuple[str, type[web.RequestHandler]]]:
    """All API routes, anchored at ``prefix`` (e.g. ``/services/datadive/api/v1/``)."""
    routes = []
    for name in ROUTE_MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":
                raise
            continue  # an area that is not part of this build
        routes += [(prefix + pattern, handler) for pattern, handler in module.routes]
    return routes
