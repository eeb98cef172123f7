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
    "invitations",
    "datasets",
    "history",
    "audit",
    "usage",
    "guest_server",
    "templates",
    "openapi",
]


def api_routes(prefix: str) -> list[tuple[str, type[web.RequestHandler]]]:
    """All API routes, anchored at ``prefix`` (e.g. ``/services/datadive/api/v1/``). A module that
    fails to import stops the service: no area may silently lose its routes."""
    routes = []
    for name in ROUTE_MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        routes += [(prefix + pattern, handler) for pattern, handler in module.routes]
    return routes
