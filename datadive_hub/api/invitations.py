"""projects/{id}/invitations: owners invite external collaborators (guests) by a single-use link.

The link (``<service prefix>/invite/<token>``, :mod:`datadive_hub.invite_pages`) is shown once;
only the SHA-256 of its token is kept. A revoked invitation stays listed (``state`` "revoked")
and ends the access of the guest who accepted it at their next request.
"""

from __future__ import annotations

import datetime
import secrets
from typing import Any

from jupyterhub.utils import url_path_join
from sqlalchemy import select
from tornado import web

from .. import access, guest_servers, guests
from ..models import Guest, Invitation, Role, utcnow
from .base import APIHandler
from .links import parse_expiry, token_hash
from .projects import ID
from .serialize import iso

ROLES = ("viewer", "editor")


def state(inv: Invitation, now: datetime.datetime | None = None) -> str:
    """pending (not opened yet), accepted, expired or revoked."""
    if inv.revoked_at is not None:
        return "revoked"
    if inv.expires_at <= (now or utcnow()):
        return "expired"
    return "accepted" if inv.used_at is not None else "pending"


def invitation_json(inv: Invitation, guest_name: str | None = None) -> dict[str, Any]:
    return {
        "id": inv.id,
        "role": inv.role,
        "state": state(inv),
        "created_by": inv.created_by,
        "created_at": iso(inv.created_at),
        "expires_at": iso(inv.expires_at),
        "accepted_at": iso(inv.used_at),
        "accepted_by": guest_name or inv.accepted_by,
        "revoked_at": iso(inv.revoked_at),
    }


def guests_off() -> web.HTTPError:
    return web.HTTPError(
        403,
        "Guests are turned off on this hub (DatadiveService.allow_guests = False); add people "
        "with a hub account as members instead, or ask a hub admin to allow guests",
    )


class InvitationsHandler(APIHandler):
    audit_actions = {"post": "invited"}

    def get(self, project_id: str) -> None:
        project = access.project_for(self, project_id, Role.owner)
        rows = self.db.execute(
            select(Invitation, Guest.display_name)
            .outerjoin(Guest, Guest.id == Invitation.guest_id)
            .where(Invitation.project_id == project.id)
            .order_by(Invitation.created_at.desc(), Invitation.id)
        ).all()
        out = [invitation_json(inv, name and guests.GUEST_PREFIX + name) for inv, name in rows]
        self.write_json({"invitations": out})

    def post(self, project_id: str) -> None:
        project = access.project_for(self, project_id, Role.owner)
        if not self.service.allow_guests:
            raise guests_off()
        body = self.json_body(required=("role",))
        role = body["role"]
        if role not in ROLES:
            raise web.HTTPError(
                400,
                f"role must be 'viewer' or 'editor', not {role!r}; a guest cannot be an owner",
            )
        now = utcnow()
        most = now + datetime.timedelta(days=int(self.service.invitation_max_days))
        expires = parse_expiry(body.get("expires"))
        if expires is None:
            days = min(self.service.invitation_default_days, self.service.invitation_max_days)
            expires = now + datetime.timedelta(days=int(days))
        if expires > most:
            raise web.HTTPError(
                400,
                f"expires is more than {self.service.invitation_max_days} days away (the "
                "longest this hub allows, DatadiveService.invitation_max_days); give an "
                "earlier time",
            )
        token = secrets.token_urlsafe(32)
        inv = Invitation(
            project_id=project.id,
            role=role,
            token_hash=token_hash(token),
            created_by=self.user.name,
            created_at=now,
            expires_at=expires,
        )
        self.db.add(inv)
        self.commit()
        self.audit_target = f"a guest as {role} (invitation {inv.id})"
        out = invitation_json(inv)
        out["url"] = url_path_join(self.service.service_prefix, "invite", token)
        self.write_json(out, status=201)


class InvitationHandler(APIHandler):
    audit_actions = {"delete": "invitation revoked"}

    def delete(self, project_id: str, invitation_id: str) -> None:
        project = access.project_for(self, project_id, Role.owner)
        inv = self.db.get(Invitation, invitation_id)
        if inv is None or inv.project_id != project.id:
            raise web.HTTPError(
                404,
                f"No invitation {invitation_id!r} in this project; list them with GET "
                ".../invitations",
            )
        if inv.revoked_at is None:
            inv.revoked_at = utcnow()
            self.commit()
            guest_servers.sweep_soon(self.service)  # stops the guest's server if it was its last
        self.audit_target = f"invitation {inv.id} ({inv.role})"
        self.set_status(204)
        self.finish()


routes = [
    (rf"projects/{ID}/invitations/?", InvitationsHandler),
    (rf"projects/{ID}/invitations/(?P<invitation_id>[^/]+)", InvitationHandler),
]
