"""``datadive/api/templates`` (list, get), ``datadive/api/render`` and ``datadive/api/source-hash``.

Templates come from the hub service (cached; the list is revalidated with ETags, published
versions are immutable and cached for good). When the service is unreachable, does not answer
within ``DatadiveExtension.templates_timeout`` seconds, or this server is not connected to it,
the last list fetched or else the built-in library is used, and the answer says so
(``"offline": true`` and a ``note``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import quote

from datadive_contents.serviceclient import ServiceClient, ServiceError, ServiceResponse
from jupyter_server.auth.decorator import authorized
from tornado import web

from ..templates import (
    RenderError,
    Template,
    TemplateInvalid,
    ValuesInvalid,
    builtin_templates,
    render_cells,
    source_hash,
    template_from_document,
)
from ..templates.model import sort_key
from ..templates.search import matches
from .base import DatadiveHandler

log = logging.getLogger("datadive.templates")


class TemplateSource:
    """Where this server gets templates from: the hub service, else the built-in library."""

    def __init__(self, service: ServiceClient, timeout: float = 5.0):
        self.service = service
        self.timeout = timeout  # seconds to wait for the service before falling back
        self._etag: str | None = None
        self._listing: list[dict[str, Any]] | None = None
        self._versions: dict[tuple[str, str], Template] = {}

    @staticmethod
    def _builtin_note(why: str) -> str:
        return f"Showing the built-in templates only: {why}"

    async def _fetch(
        self, path: str, headers: dict[str, str] | None = None
    ) -> tuple[ServiceResponse, None] | tuple[None, str]:
        """(response, None) or (None, why the service could not be used)."""
        try:
            resp = await self.service.fetch("GET", path, headers=headers, timeout=self.timeout)
        except ServiceError as e:
            return None, e.message
        if resp.status >= 500:
            return None, f"the template service is unavailable ({resp.status}); try again later"
        return resp, None

    async def listing(self) -> tuple[list[dict[str, Any]], str, str | None]:
        """``(summaries, source, note)``; source is ``"service"``, ``"cache"`` (service unreachable,
        last list fetched) or ``"builtin"`` (never reached it)."""
        headers = (
            {"If-None-Match": self._etag} if self._etag and self._listing is not None else None
        )
        resp, why = await self._fetch("templates", headers)
        if resp is not None and resp.status == 304 and self._listing is not None:
            return self._listing, "service", None
        if resp is not None and resp.status == 200:
            self._listing = json.loads(resp.body)["templates"]
            self._etag = resp.headers.get("Etag")
            return self._listing, "service", None
        if resp is not None:
            why = f"the template service answered {resp.status} ({resp.message})"
        if self._listing is not None and resp is None:
            log.warning("Template service unreachable (%s); serving the cached list", why)
            return (
                self._listing,
                "cache",
                f"Showing the template list as last fetched from the service: {why}",
            )
        return (
            [t.summary() | {"builtin": True} for t in builtin_templates().values()],
            "builtin",
            self._builtin_note(why or "unknown"),
        )

    async def get(self, template_id: str, version: str | None = None) -> Template:
        """A template version (latest when ``version`` is None); 404 names the ids/versions that exist."""
        if version and (template_id, version) in self._versions:
            return self._versions[(template_id, version)]
        path = f"templates/{quote(template_id, safe='')}"
        if version:
            path += f"/versions/{quote(version, safe='')}"
        resp, why = await self._fetch(path)
        if resp is not None and resp.status == 200:
            try:
                doc = json.loads(resp.body)
                # validating a template is CPU work on data from elsewhere: off the event loop
                t = await asyncio.to_thread(
                    template_from_document, doc["document"], f"{template_id}@{doc['version']}"
                )
            except (ValueError, KeyError, TypeError, RecursionError) as e:
                raise web.HTTPError(
                    502, f"The service sent a template that is not JSON: {e}"
                ) from None
            except TemplateInvalid as e:
                raise web.HTTPError(502, f"The service sent an invalid template: {e}") from None
            self._versions[(t.id, t.version)] = t
            return t
        if resp is not None and resp.status == 404:
            raise web.HTTPError(404, resp.message)
        if resp is not None:
            why = f"the template service answered {resp.status} ({resp.message})"
        elif version is None and self._listing is not None:
            # unreachable: the latest version we know of, if we fetched it before
            known = next((t["version"] for t in self._listing if t["id"] == template_id), None)
            if known and (template_id, known) in self._versions:
                return self._versions[(template_id, known)]
        builtins = builtin_templates()
        found = builtins.get(template_id)
        if found is None:
            raise web.HTTPError(
                404,
                f"No template {template_id!r}; built-in templates that exist: {', '.join(sorted(builtins))} "
                f"(published templates are unavailable: {why})",
            )
        if version and version != found.version:
            raise web.HTTPError(
                404,
                f"Template {template_id!r} has no version {version!r} among the built-ins; versions "
                f"that exist: {found.version} (published versions are unavailable: {why})",
            )
        return found


class TemplatesMixin:
    """Shared by template and cell handlers: the template source and error answers."""

    settings: dict[str, Any]

    @property
    def templates(self) -> TemplateSource:
        src = self.settings.get("datadive_template_source")
        if src is None:
            src = self.settings["datadive_template_source"] = TemplateSource(
                self.service,  # type: ignore[attr-defined]
                timeout=self.settings.get("datadive_templates_timeout", 5.0),
            )
        return src

    def write_values_error(self, e: ValuesInvalid) -> None:
        self.set_status(422)  # type: ignore[attr-defined]
        self.finish(  # type: ignore[attr-defined]
            json.dumps(
                {
                    "status": 422,
                    "message": "Some values do not fit the template: "
                    + "; ".join(f"{k}: {v}" for k, v in e.errors.items()),
                    "errors": e.errors,
                }
            )
        )

    async def render_from(self, body: dict[str, Any]) -> tuple[Any, list[Any]] | None:
        """The template a request body names and its rendered cells; None after answering 422."""
        tid, version = _template_ref(body)
        t = await self.templates.get(tid, version)
        try:
            return t, render_cells(t, body.get("values"))
        except ValuesInvalid as e:
            self.write_values_error(e)
            return None
        except RenderError as e:
            raise web.HTTPError(422, str(e)) from None

    def body(self) -> dict[str, Any]:
        """The request body as a JSON object nested at most MAX_BODY_DEPTH levels, else 400."""
        try:
            data = json.loads(self.request.body or b"{}")  # type: ignore[attr-defined]
        except RecursionError:
            data = None  # nested deeper than the parser goes: reported below
        except (ValueError, UnicodeDecodeError) as e:
            raise web.HTTPError(
                400, f"The request body is not valid JSON ({e}); send a JSON object"
            ) from None
        if data is None or nesting_depth(data, MAX_BODY_DEPTH) > MAX_BODY_DEPTH:
            raise web.HTTPError(
                400,
                f"The request body is nested more than {MAX_BODY_DEPTH} levels deep; template "
                "values are text, numbers, true/false or lists of those",
            )
        if not isinstance(data, dict):
            raise web.HTTPError(400, "The request body must be a JSON object")
        return data


#: deepest JSON nesting a request body may have ({"values": {"x": [..]}} is 3 levels)
MAX_BODY_DEPTH = 32


def nesting_depth(value: Any, stop: int) -> int:
    """How deeply ``value`` nests lists/dicts (1 for a flat one), counted without recursion and
    giving up once past ``stop``."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            if deepest > stop:
                return deepest
            items = node.values() if isinstance(node, dict) else node
            stack.extend((v, depth + 1) for v in items if isinstance(v, dict | list))
    return deepest


def _template_ref(body: dict[str, Any]) -> tuple[str, str | None]:
    tid, version = body.get("template"), body.get("version")
    if not isinstance(tid, str) or not tid:
        raise web.HTTPError(400, 'Name the template: {"template": "t-test", "values": {...}}')
    if version is not None and not isinstance(version, str):
        raise web.HTTPError(
            400, 'version must be text such as "1.0.0" (or leave it out for the latest)'
        )
    return tid, version


class TemplatesListHandler(TemplatesMixin, DatadiveHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        items, source, note = await self.templates.listing()
        q = self.get_argument("q", None)
        category = self.get_argument("category", None)
        tag = self.get_argument("tag", None)
        # categories in the order of an analysis (Load, Clean, Explore, Test, Plot)
        items = sorted((t for t in items if matches(t, q, category, tag)), key=sort_key)
        self.finish(
            json.dumps(
                {
                    "templates": items,
                    "source": source,
                    # the panel says the list may be out of date (cache) or built-in only
                    "offline": source != "service",
                    "note": note,
                }
            )
        )


class TemplateGetHandler(TemplatesMixin, DatadiveHandler):
    @web.authenticated
    @authorized
    async def get(self, template_id: str, version: str | None = None) -> None:
        version = version or self.get_argument("version", None) or None
        t = await self.templates.get(template_id, version)
        self.finish(json.dumps({**t.summary(), "document": t.to_document()}))


class RenderHandler(TemplatesMixin, DatadiveHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.body()
        rendered = await self.render_from(body)
        if rendered is None:
            return
        t, cells = rendered
        self.finish(json.dumps({"template": t.id, "version": t.version, "cells": cells}))


class SourceHashHandler(TemplatesMixin, DatadiveHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        """The hash a generated cell records of its source (the panel's fallback where the page
        has no Web Crypto: plain HTTP on a host other than localhost)."""
        source = self.body().get("source")
        if not isinstance(source, str):
            raise web.HTTPError(400, "source must be the cell's text")
        self.finish(json.dumps({"hash": source_hash(source)}))


TID = r"(?P<template_id>[a-z0-9][a-z0-9._-]*)"
routes = [
    (r"api/templates/?", TemplatesListHandler),
    (rf"api/templates/{TID}/?", TemplateGetHandler),
    (rf"api/templates/{TID}/versions/(?P<version>[0-9A-Za-z.+-]+)/?", TemplateGetHandler),
    (r"api/render/?", RenderHandler),
    (r"api/source-hash/?", SourceHashHandler),
]
