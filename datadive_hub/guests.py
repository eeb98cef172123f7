"""Guests: external collaborators who accepted an invitation, identified by a signed cookie.

A guest has no JupyterHub account: no groups, no admin flag, no server, no token. The service
signs its own cookie (``COOKIE``: the guest's id, tornado's signed-cookie format, httponly,
SameSite=Lax, path = the service prefix) when an invitation is accepted or a guest signs in again.
:func:`identify` turns that cookie into a :class:`HubUser` of kind ``"guest"`` whose
``guest_roles`` hold the role of each *live* invitation (accepted, neither expired nor revoked),
looked up again on every request: access ends at the next request after an invitation ends.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session
from tornado import web

from .auth.scrypt import scrypt_hex
from .hubapi import HubUser
from .models import Guest, Invitation, Role, utcnow


class GuestRequest(Protocol):
    """What guest identification needs of a request handler (identity.Identified is one; not
    imported: identity and guest_servers import this module)."""

    settings: dict[str, Any]

    @property
    def service(self) -> Any: ...

    def get_signed_cookie(
        self,
        name: str,
        value: str | None = None,
        max_age_days: float = 31,
        min_version: int | None = None,
    ) -> bytes | None: ...


COOKIE = "datadive-guest"
GUEST_PREFIX = "guest:"
MIN_PASSWORD = 10
MAX_NAME = 64


def hash_password(password: str) -> str:
    """``scrypt$<salt hex>$<hash hex>`` (the same scrypt parameters as local hub passwords)."""
    salt = secrets.token_bytes(16)
    return f"scrypt${salt.hex()}${scrypt_hex(password, salt)}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    return scheme == "scrypt" and hmac.compare_digest(
        scrypt_hex(password, bytes.fromhex(salt)), digest
    )


def cookie_secret(api_token: str) -> bytes:
    """The key of the service's signed cookies: derived from its JupyterHub API token (so guests
    stay signed in across restarts of the service), random when it has none."""
    if not api_token:
        return secrets.token_bytes(32)
    return hmac.new(api_token.encode(), b"datadive signed cookies", hashlib.sha256).digest()


def check_display_name(raw: str) -> str:
    """A display name as typed, trimmed; ValueError saying what is wrong."""
    name = unicodedata.normalize("NFC", raw or "").strip()
    if not name:
        raise ValueError("Choose a display name (the name the project's members will see)")
    if len(name) > MAX_NAME:
        raise ValueError(f"A display name has at most {MAX_NAME} characters")
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise ValueError("A display name cannot contain control characters")
    return name


def name_key(name: str) -> str:
    return name.casefold()


def check_new_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise ValueError(f"Choose a password of at least {MIN_PASSWORD} characters")


def principal_name(guest: Guest) -> str:
    """How a guest appears in audit logs and ``created_by`` fields: ``guest:<display name>``."""
    return GUEST_PREFIX + guest.display_name


def is_live(inv: Invitation, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return inv.revoked_at is None and inv.expires_at > now


def ended_message(invitations: list[Invitation]) -> str:
    """What a guest whose invitations all ended is told: that, and whom to ask."""
    inviters = sorted({inv.created_by for inv in invitations})
    who = ", ".join(inviters) if inviters else "the person who invited you"
    return (
        "Your guest invitation has ended (it expired or was withdrawn), so you no longer have "
        f"access; ask {who} for a new invitation"
    )


def cookie_guest(handler: GuestRequest, db: Session) -> Guest | None:
    """The guest the request's signed cookie names (None: no cookie, a forged or outdated one)."""
    max_age = handler.service.guest_session_hours / 24
    raw = handler.get_signed_cookie(COOKIE, max_age_days=max_age)
    return db.get(Guest, raw.decode("ascii", "replace")) if raw else None


def invitations_of(db: Session, guest_id: str) -> list[Invitation]:
    return list(db.scalars(select(Invitation).where(Invitation.guest_id == guest_id)))


def live_roles(invitations: list[Invitation], now: datetime | None = None) -> dict[str, Role]:
    """A guest's role per project id, from its live invitations (the highest where several)."""
    now = now or utcnow()
    roles: dict[str, Role] = {}
    for inv in invitations:
        if is_live(inv, now):
            role = Role[inv.role]
            roles[inv.project_id] = max(role, roles.get(inv.project_id, role))
    return roles


def identify(handler: GuestRequest) -> HubUser | None:
    """The guest a request's signed cookie names, with its live invitations' roles; None without
    a (valid) cookie; 403 when guests are turned off, 401 when its invitations all ended."""
    with handler.settings["session_factory"]() as db:
        guest = cookie_guest(handler, db)
        if guest is None:
            return None
        invitations = invitations_of(db, guest.id)
    return guest_user(handler.service, guest, invitations)


def guest_user(service: Any, guest: Guest | None, invitations: list[Invitation]) -> HubUser:
    """The caller a guest is (403 when guests are turned off, 401 when its invitations all
    ended or the guest is gone)."""
    if not service.allow_guests:
        raise web.HTTPError(
            403,
            "Guest access is turned off on this hub (DatadiveService.allow_guests); ask the "
            "person who invited you to add you once you have an account on the hub",
        )
    roles = live_roles(invitations)
    if guest is None or not roles:
        raise web.HTTPError(401, ended_message(invitations))
    return HubUser(name=principal_name(guest), kind="guest", guest_roles=roles)


def guest_route_refusal(handler: web.RequestHandler) -> web.HTTPError | None:
    """Guests reach their projects' routes (``project_id`` in the path) and the routes whose
    handler sets ``guests_allowed`` (True, or the HTTP methods allowed); anything else is
    refused here, before the handler runs."""
    allowed = getattr(handler, "guests_allowed", False)
    if (
        "project_id" in handler.path_kwargs
        or allowed is True
        or (allowed and handler.request.method in allowed)
    ):
        return None
    return web.HTTPError(
        403,
        "Guests can use only the projects they were invited to (GET projects lists them); "
        "this needs a hub account",
    )


def check_xsrf(handler: web.RequestHandler) -> None:
    """A guest's cookie rides along with any request its browser makes, so a request that
    changes something must also carry the ``_xsrf`` cookie's value in ``X-XSRFToken`` (as
    tornado's own forms do); SameSite=Lax already keeps other sites' forms out."""
    if handler.request.method in ("GET", "HEAD", "OPTIONS"):
        return
    try:
        handler.check_xsrf_cookie()
    except web.HTTPError:
        raise web.HTTPError(
            403,
            "A guest's request that changes something must send the _xsrf cookie's value in "
            "the X-XSRFToken header; reload the page and try again",
        ) from None


#: compared against when a sign-in names no guest, so that it takes as long as a wrong password
DUMMY_HASH = "scrypt$" + "00" * 16 + "$" + "00" * 32
