"""Template registry: publish (immutable versions), list/search, get, deprecate, delete.

A deleted version leaves a tombstone with its content hash: it can be published again only with
the same content (a restore), never with different content under the same version number.

Everyone signed in may read; publishing, deprecating and deleting need membership of one of the
service's ``template_author_groups`` (default ``datadive-template-authors``), the custom scope
``custom:datadive:templates:publish``, or hub admin.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from tornado import web

from datadive_server_ext.templates import (
    Template,
    TemplateInvalid,
    TemplateTooLarge,
    builtin_sources,
    builtin_templates,
    parse_template,
    template_from_document,
    version_key,
)
from datadive_server_ext.templates.model import sort_key
from datadive_server_ext.templates.search import matches

from ..models import utcnow
from ..models.templates import TemplateTombstone, TemplateVersion
from .base import APIHandler

log = logging.getLogger("datadive.templates")

PUBLISH_SCOPE = "custom:datadive:templates:publish"
TID = r"(?P<template_id>[a-z0-9][a-z0-9._-]*)"
VERSION = r"(?P<version>[0-9A-Za-z.+-]+)"


# ---------------------------------------------------------------- plain functions


def _insert(
    db: Session, t: Template, source: str | None, by: str, builtin: bool
) -> TemplateVersion:
    row = TemplateVersion(
        template_id=t.id,
        version=t.version,
        title=t.title,
        category=t.category,
        document=t.to_document(),
        source=source,
        content_hash=t.content_hash,
        builtin=builtin,
        published_by=by,
    )
    db.add(row)
    return row


def tombstone(db: Session, template_id: str, version: str) -> TemplateTombstone | None:
    return db.scalar(
        select(TemplateTombstone).where(
            TemplateTombstone.template_id == template_id, TemplateTombstone.version == version
        )
    )


def bury(db: Session, row: TemplateVersion, by: str) -> None:
    """Delete a published version, keeping a tombstone with its content hash: cells that recorded
    this version expect this content, so it may come back only unchanged."""
    if tombstone(db, row.template_id, row.version) is None:
        db.add(
            TemplateTombstone(
                template_id=row.template_id,
                version=row.version,
                content_hash=row.content_hash,
                deleted_by=by,
            )
        )
    db.delete(row)


def deleted_with_other_content(template_id: str, version: str) -> str:
    return (
        f"Template {template_id!r} version {version} was published and then deleted; notebooks "
        "may hold cells generated from it, so it can come back only with the content it had. "
        "Bump the version (e.g. the patch number) and publish again"
    )


def publish_builtins(db: Session) -> int:
    """Publish every built-in template version not yet in the registry (idempotent); returns the
    number added. A changed built-in with an unchanged version is logged and left alone."""
    existing = {
        (r.template_id, r.version): r.content_hash
        for r in db.scalars(select(TemplateVersion).where(TemplateVersion.builtin.is_(True)))
    }
    sources = builtin_sources()
    added = 0
    for t in builtin_templates().values():
        have = existing.get((t.id, t.version))
        if have is None:
            if db.scalar(
                select(TemplateVersion.pk).where(
                    TemplateVersion.template_id == t.id, TemplateVersion.version == t.version
                )
            ):
                log.warning(
                    "Built-in template %s %s clashes with a published one; kept the published",
                    t.id,
                    t.version,
                )
                continue
            grave = tombstone(db, t.id, t.version)
            if grave is not None and grave.content_hash != t.content_hash:
                log.warning(
                    "Built-in template %s %s was deleted and has changed since without a new "
                    "version; not re-adding it (give the built-in a new version)",
                    t.id,
                    t.version,
                )
                continue
            _insert(db, t, sources.get(t.id), "datadive", builtin=True)
            added += 1
        elif have != t.content_hash:
            log.warning(
                "Built-in template %s %s changed without a new version; kept the published one",
                t.id,
                t.version,
            )
    try:
        db.commit()
    except IntegrityError:
        # another service instance published them at the same moment: theirs stand
        db.rollback()
        log.info("Built-in templates were published concurrently by another instance")
        return 0
    if added:
        log.info("Published %s built-in templates", added)
    return added


def versions_of(db: Session, template_id: str) -> list[TemplateVersion]:
    rows = db.scalars(
        select(TemplateVersion).where(TemplateVersion.template_id == template_id)
    ).all()
    return sorted(rows, key=lambda r: version_key(r.version))


def latest(rows: list[TemplateVersion]) -> TemplateVersion:
    """Highest non-deprecated version; the highest overall when all are deprecated."""
    live = [r for r in rows if not r.deprecated]
    return (live or rows)[-1]


_PARSED: dict[str, Template] = {}


def as_template(row: TemplateVersion) -> Template:
    """The row's document as a Template (parsed once per content hash)."""
    t = _PARSED.get(row.content_hash)
    if t is None:
        t = template_from_document(row.document, file=f"{row.template_id}@{row.version}")
        if len(_PARSED) > 1000:
            _PARSED.clear()
        _PARSED[row.content_hash] = t
    return t


def row_json(
    row: TemplateVersion, versions: list[TemplateVersion] | None = None, document: bool = True
) -> dict[str, Any]:
    t = as_template(row)
    out = {
        **t.summary(),
        "content_hash": row.content_hash,
        "builtin": row.builtin,
        "published_by": row.published_by,
        "published_at": row.published_at.isoformat() + "Z",
        "deprecated": row.deprecated,
        "deprecation_message": row.deprecation_message,
    }
    if versions is not None:
        out["versions"] = [{"version": v.version, "deprecated": v.deprecated} for v in versions]
    if document:
        out["document"] = row.document
    return out


# ---------------------------------------------------------------- handlers


class _Base(APIHandler):
    #: the library is readable by every signed-in person, guests too (an editor guest's server
    #: offers it); publishing and deleting need a template author (require_author)
    guests_allowed = ("GET", "HEAD")

    def require_author(self) -> None:
        groups = self.service.template_author_groups
        if self.user.admin or self.user.groups & set(groups) or PUBLISH_SCOPE in self.user.scopes:
            return
        named = " or ".join(repr(g) for g in groups) or "(none configured)"
        raise web.HTTPError(
            403,
            f"Publishing, deprecating and deleting templates needs membership of the JupyterHub "
            f"group {named} (or hub admin); ask a hub admin to add you",
        )

    def rows_or_404(self, template_id: str) -> list[TemplateVersion]:
        rows = versions_of(self.db, template_id)
        if not rows:
            ids = sorted(set(self.db.scalars(select(TemplateVersion.template_id))))
            raise web.HTTPError(
                404,
                f"No template {template_id!r}; templates that exist: {', '.join(ids) or 'none'}",
            )
        return rows

    def version_or_404(self, template_id: str, version: str) -> tuple[TemplateVersion, list[Any]]:
        rows = self.rows_or_404(template_id)
        for r in rows:
            if r.version == version:
                return r, rows
        raise web.HTTPError(
            404,
            f"Template {template_id!r} has no version {version!r}; versions that exist: "
            f"{', '.join(r.version for r in rows)}",
        )


class TemplatesHandler(_Base):
    def get(self) -> None:
        q = self.get_argument("q", None)
        category = self.get_argument("category", None)
        tag = self.get_argument("tag", None)
        with_deprecated = self.get_argument("deprecated", "0") in ("1", "true")
        by_id: dict[str, list[TemplateVersion]] = {}
        for r in self.db.scalars(select(TemplateVersion)):
            by_id.setdefault(r.template_id, []).append(r)
        out = []
        for tid in sorted(by_id):
            rows = sorted(by_id[tid], key=lambda r: version_key(r.version))
            row = latest(rows)
            if row.deprecated and not with_deprecated:
                continue
            item = row_json(row, rows, document=False)
            if matches(item, q, category, tag):
                out.append(item)
        out.sort(key=sort_key)  # categories in the order of an analysis: Load, Clean, ...
        self.write_json({"templates": out})

    async def post(self) -> None:
        self.require_author()
        body = self.json_body()
        source = body.get("source")
        given = body.get("file")
        file = given if isinstance(given, str) and given else "<published>"
        try:
            # untrusted YAML: bounded by the model, and parsed off the event loop so that a
            # large template never stalls other users' requests (no database session is open
            # yet, so none is held across this await)
            if isinstance(source, str):
                t = await asyncio.to_thread(parse_template, source, file)
            elif isinstance(body.get("document"), dict):
                t = await asyncio.to_thread(template_from_document, body["document"], file)
                source = None
            else:
                raise web.HTTPError(
                    400, 'Send {"source": "<template YAML text>"} or {"document": {...}}'
                )
        except TemplateTooLarge as e:
            raise web.HTTPError(413, str(e.problems[0])) from None
        except TemplateInvalid as e:
            self.write_json(
                {
                    "status": 422,
                    "message": "The template is not valid: "
                    + "; ".join(str(p) for p in e.problems),
                    "problems": [p.to_dict() for p in e.problems],
                },
                status=422,
            )
            return
        existing = self.db.scalar(
            select(TemplateVersion).where(
                TemplateVersion.template_id == t.id, TemplateVersion.version == t.version
            )
        )
        if existing is not None:
            if existing.content_hash != t.content_hash:
                raise web.HTTPError(
                    409,
                    f"Template {t.id!r} version {t.version} is already published with different "
                    "content, and published versions never change; raise the version (e.g. "
                    "the patch number) and publish again",
                )
            self.write_json(row_json(existing, versions_of(self.db, t.id)), status=200)
            return
        grave = tombstone(self.db, t.id, t.version)
        if grave is not None and grave.content_hash != t.content_hash:
            raise web.HTTPError(409, deleted_with_other_content(t.id, t.version))
        row = _insert(self.db, t, source, self.user.name, builtin=False)
        self.commit()
        self.log.info(
            "%s %s template %s %s",
            self.user.name,
            "restored" if grave is not None else "published",
            t.id,
            t.version,
        )
        self.set_header("Location", self.request.path.rstrip("/") + f"/{t.id}/versions/{t.version}")
        self.write_json(row_json(row, versions_of(self.db, t.id)), status=201)


class TemplateHandler(_Base):
    def get(self, template_id: str) -> None:
        rows = self.rows_or_404(template_id)
        self.write_json(row_json(latest(rows), rows))

    def delete(self, template_id: str) -> None:
        self.require_author()
        rows = self.rows_or_404(template_id)
        for r in rows:
            bury(self.db, r, self.user.name)
        self.commit()
        self.log.info(
            "%s deleted template %s (%s versions)", self.user.name, template_id, len(rows)
        )
        self.set_status(204)
        self.finish()


class TemplateVersionHandler(_Base):
    def get(self, template_id: str, version: str) -> None:
        row, rows = self.version_or_404(template_id, version)
        self.write_json(row_json(row, rows))

    def patch(self, template_id: str, version: str) -> None:
        self.require_author()
        row, rows = self.version_or_404(template_id, version)
        body = self.json_body(required=("deprecated",))
        if not isinstance(body["deprecated"], bool):
            raise web.HTTPError(400, "deprecated must be true or false")
        message = body.get("message", "")
        if not isinstance(message, str) or len(message) > 2000:
            raise web.HTTPError(400, "message must be text of at most 2000 characters")
        row.deprecated = body["deprecated"]
        row.deprecation_message = message if row.deprecated else ""
        row.deprecated_at = utcnow() if row.deprecated else None
        self.commit()
        self.log.info(
            "%s set deprecated=%s on template %s %s",
            self.user.name,
            row.deprecated,
            template_id,
            version,
        )
        self.write_json(row_json(row, rows))

    def delete(self, template_id: str, version: str) -> None:
        self.require_author()
        row, _ = self.version_or_404(template_id, version)
        bury(self.db, row, self.user.name)
        self.commit()
        self.log.info("%s deleted template %s %s", self.user.name, template_id, version)
        self.set_status(204)
        self.finish()


routes = [
    (r"templates/?", TemplatesHandler),
    (rf"templates/{TID}/?", TemplateHandler),
    (rf"templates/{TID}/versions/{VERSION}/?", TemplateVersionHandler),
]
