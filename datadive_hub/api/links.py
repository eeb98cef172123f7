"""projects/{id}/links: publish a file or notebook, pinned to one stored version, as a public link.

The link's page is served by :mod:`datadive_hub.public` without sign-in. Editors publish and
revoke; every member sees the list (the URL itself is shown once, at creation).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import secrets
from typing import Any

from datadive_contents.paths import normalize_path
from datadive_contents.stores.base import NotFound, ObjectStore, PathRejected
from jupyterhub.utils import url_path_join
from tornado import web

from .. import access
from ..models import PublicLink, Role, utcnow
from .base import APIHandler
from .files import store_errors
from .projects import ID
from .serialize import iso

#: where a data file's codebook lives (datadive_server_ext/survey/codebook.py, SUFFIX)
CODEBOOK_SUFFIX = ".codebook.json"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_json(link: PublicLink) -> dict[str, Any]:
    return {
        "id": link.id,
        "path": link.path,
        "version_id": link.version_id,
        "kind": link.kind,
        "hide_code": link.hide_code,
        "created_by": link.created_by,
        "created_at": iso(link.created_at),
        "expires_at": iso(link.expires_at),
        "expired": link.expires_at is not None and link.expires_at <= utcnow(),
    }


def parse_expiry(value: object) -> datetime.datetime | None:
    """``expires``: an ISO 8601 time in the future (no zone: UTC), or null."""
    if value is None:
        return None
    try:
        when = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise web.HTTPError(
            400, f"expires must be an ISO 8601 time such as 2027-01-31T12:00:00Z, not {value!r}"
        ) from None
    if when.tzinfo is not None:
        when = when.astimezone(datetime.UTC).replace(tzinfo=None)
    if when <= utcnow():
        raise web.HTTPError(400, "expires is in the past; give a time in the future (UTC)")
    return when


async def _personal_columns(store: ObjectStore, key: str) -> list[str]:
    """The columns the file's codebook flags as personal data (none without a codebook)."""
    try:
        raw, _ = await store.get(key + CODEBOOK_SUFFIX)
    except NotFound:
        return []
    try:
        doc = json.loads(raw)
        return [c["name"] for c in doc.get("columns", []) if c.get("personal_data")]
    except (ValueError, TypeError, KeyError, AttributeError):
        raise web.HTTPError(
            409,
            f"The codebook of {key!r} cannot be read, so it is not known which columns are "
            "personal data; fix the codebook (Assistant tab) before publishing",
        ) from None


class LinksHandler(APIHandler):
    audit_actions = {"post": "published"}

    def get(self, project_id: str) -> None:
        project = access.project_for(self, project_id, Role.viewer)
        rows = self.db.query(PublicLink).filter_by(project_id=project.id)
        links = [link_json(r) for r in rows.order_by(PublicLink.created_at.desc())]
        self.write_json({"links": links})

    async def post(self, project_id: str) -> None:
        project = access.project_for(self, project_id, Role.editor)
        pid = project.id
        self.release_db()  # not held across the store's awaits
        body = self.json_body(required=("path",))
        path, version = body["path"], body.get("version")
        if not isinstance(path, str) or not path.strip("/"):
            raise web.HTTPError(400, "path must name a file of the project, e.g. results/fig1.png")
        if version is not None and not isinstance(version, str):
            raise web.HTTPError(400, "version must be a version id from GET .../versions/<path>")
        hide_code = body.get("hide_code", False)
        if not isinstance(hide_code, bool):
            raise web.HTTPError(400, "hide_code must be true or false")
        expires = parse_expiry(body.get("expires"))
        try:
            key = normalize_path(path)
        except PathRejected as e:
            raise web.HTTPError(400, str(e)) from None
        store = self.project_files(pid)
        with store_errors(key):
            info = await store.head(key, version_id=version)
            if info is None:
                raise web.HTTPError(
                    404,
                    f"No file {key!r}"
                    + (f" in version {version!r}" if version else "")
                    + "; list the files with GET .../files and versions with GET .../versions/"
                    + key,
                )
            personal = await _personal_columns(store, key)
        if personal:
            raise web.HTTPError(
                409,
                f"The codebook of {key!r} flags {', '.join(personal)} as personal data, and a "
                "public link would show them to anyone; publish a copy without those columns "
                "(e.g. the output of the Load survey data template with personal data dropped)",
            )
        if not info.version_id:
            raise web.HTTPError(
                409,
                "This store keeps no versions, so the link could not stay pinned to what you "
                "publish; ask a hub admin to turn on bucket versioning",
            )
        token = secrets.token_urlsafe(32)
        link = PublicLink(
            project_id=pid,
            token_hash=token_hash(token),
            path=key,
            version_id=info.version_id,
            kind="notebook" if key.endswith(".ipynb") else "file",
            hide_code=hide_code,
            created_by=self.user.name,
            expires_at=expires,
        )
        access.project_for(self, pid, Role.editor)  # again, after the awaits
        self.db.add(link)
        self.commit()
        self.audit_target = f"{key} (link {link.id})"
        out = link_json(link)
        out["url"] = url_path_join(self.service.service_prefix, "public", token)
        self.write_json(out, status=201)


class LinkHandler(APIHandler):
    audit_actions = {"delete": "revoked a link"}

    def delete(self, project_id: str, link_id: str) -> None:
        project = access.project_for(self, project_id, Role.editor)
        link = self.db.get(PublicLink, link_id)
        if link is None or link.project_id != project.id:
            raise web.HTTPError(
                404, f"No link {link_id!r} in this project; list them with GET .../links"
            )
        self.db.delete(link)
        self.commit()
        self.set_status(204)
        self.finish()


routes = [
    (rf"projects/{ID}/links/?", LinksHandler),
    (rf"projects/{ID}/links/(?P<link_id>[^/]+)", LinkHandler),
]
