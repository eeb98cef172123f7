"""Guest servers: an editor guest runs code on a Jupyter server of its own (the service's half).

Off unless a hub admin sets ``DatadiveService.guest_servers``. A guest has no account at the
institution, so the hub knows it under a name the service chooses, ``datadive-guest-<guest id>``,
in the hub group ``datadive-guests``. The steps:

1. "Open in JupyterLab" on a project page (a form) posts to ``guest/server/<project id>``: the
   service checks the guest holds a live editor invitation and sends the browser to the hub's
   ``datadive-guest-login`` with a ticket (random, single use, valid 60 seconds) and sets a
   cookie for that hub path only (``NONCE_COOKIE``) that the ticket is bound to: a ticket sent
   to someone else's browser (to sign them in as the sender: login CSRF) is refused.
2. The hub (:mod:`datadive_hub.guest_login`, added by Datadive's authenticators) redeems the
   ticket here (``guest/ticket``), makes the hub user and its group membership, signs the browser
   in and starts the server at the project's folder.
3. Before any server of such a user starts, the hub's ``pre_spawn_hook`` asks
   ``GET api/v1/guest-server`` with that server's own token whether it may run and with which
   limits (``guest_mem_limit``, ``guest_cpu_limit``).
4. Requests of that hub user (its server, its browser) are the guest's (:func:`as_guest`): the
   roles of its live invitations, looked up on every request. When it holds no live editor
   invitation any more, the service deletes the hub user, which stops its server and ends its
   hub sign-in: at once when an invitation is revoked, else within ``guest_sweep_seconds``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from typing import Any

from tornado import web

from . import guests
from .hubapi import HubUser
from .models import Guest, Role

#: the DatadiveService application (not imported: the service imports this module)
DatadiveService = Any

HUB_PREFIX = "datadive-guest-"
GROUP = "datadive-guests"
TICKET_SECONDS = 60.0
NONCE_COOKIE = "datadive-guest-ticket"


def hub_name(guest_id: str) -> str:
    """The hub user name of a guest's server."""
    return HUB_PREFIX + guest_id


def guest_id_of(user: HubUser) -> str | None:
    """The guest a hub user stands for: its name has the prefix *and* it is in the group (only
    the hub's guest sign-in and hub admins put users there; Datadive's authenticators refuse
    the prefix to people signing in)."""
    if user.kind == "user" and GROUP in user.groups and user.name.startswith(HUB_PREFIX):
        return user.name[len(HUB_PREFIX) :]
    return None


def as_guest(service: DatadiveService, user: HubUser) -> HubUser:
    """``user`` itself, or the guest it stands for with the roles of its live invitations
    (refused as the guest's own cookie would be: 403 guests off, 401 invitations ended)."""
    guest_id = guest_id_of(user)
    if guest_id is None:
        return user
    with service.session_factory() as db:
        guest = db.get(Guest, guest_id)
        invitations = guests.invitations_of(db, guest_id)
    return guests.guest_user(service, guest, invitations)


def refusal(
    service: DatadiveService, roles: dict[str, Role], project_id: str | None = None
) -> str | None:
    """Why a guest with these live roles may not run a server (None: it may). With
    ``project_id``: to work on that project."""
    if not service.allow_guests:
        return "Guest access is turned off on this hub (DatadiveService.allow_guests)"
    if not service.guest_servers:
        return (
            "Guests cannot run code on this hub (a hub admin can turn it on: "
            "DatadiveService.guest_servers); you can still read, preview and upload files on "
            "the project's pages"
        )
    wanted = [roles.get(project_id)] if project_id else list(roles.values())
    if not any(r is not None and r >= Role.editor for r in wanted):
        return (
            "Running code needs an editor invitation; you are a viewer. Ask the project's owner "
            "to invite you as an editor"
        )
    return None


def limits(service: DatadiveService) -> dict[str, int | float | None]:
    """The resource limits of a guest's server (None: none set)."""
    return {
        "mem_limit": service.guest_mem_limit or None,
        "cpu_limit": service.guest_cpu_limit or None,
    }


class Tickets:
    """Single-use sign-in tickets, kept in memory (a restart of the service voids them: the
    guest clicks again). Only the SHA-256 of a ticket is kept."""

    def __init__(self, seconds: float = TICKET_SECONDS):
        self.seconds = seconds
        self._open: dict[str, tuple[float, str, str, str]] = {}

    @staticmethod
    def _key(ticket: str) -> str:
        return hashlib.sha256(ticket.encode("utf-8", "replace")).hexdigest()

    def _forget_expired(self) -> None:
        now = time.monotonic()
        for key in [k for k, (until, *_) in self._open.items() if until < now]:
            del self._open[key]

    def issue(self, guest_id: str, next_path: str) -> tuple[str, str]:
        """A new (ticket, nonce): the nonce goes into the browser's cookie."""
        self._forget_expired()
        ticket, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(16)
        until = time.monotonic() + self.seconds
        self._open[self._key(ticket)] = (until, self._key(nonce), guest_id, next_path)
        return ticket, nonce

    def redeem(self, ticket: str, nonce: str) -> tuple[str, str] | None:
        """(guest id, where to go) once per ticket, from the browser it was issued to; None when
        unknown, used, expired or brought by another browser (the ticket is spent either way)."""
        self._forget_expired()
        entry = self._open.pop(self._key(ticket), None)
        if entry is None or not hmac.compare_digest(entry[1], self._key(nonce)):
            return None
        return entry[2], entry[3]


async def sweep(service: DatadiveService) -> list[str]:
    """Delete the hub users of guests that may no longer run a server (their server stops with
    them); returns their names. Failures are logged and retried at the next sweep."""
    try:
        members = await service.hub_users.group_members(GROUP)
    except web.HTTPError as e:
        service.log.warning("Guest servers: cannot list the hub group %s: %s", GROUP, e)
        return []
    ended = []
    for name in members:
        if not name.startswith(HUB_PREFIX):
            continue
        guest_id = name[len(HUB_PREFIX) :]
        with service.session_factory() as db:
            exists = db.get(Guest, guest_id) is not None
            roles = guests.live_roles(guests.invitations_of(db, guest_id))
        if exists and refusal(service, roles) is None:
            continue
        try:
            await service.hub_users.delete_user(name)
        except web.HTTPError as e:
            service.log.warning("Guest servers: could not remove hub user %s: %s", name, e)
            continue
        service.log.info("Guest servers: removed hub user %s (no live editor invitation)", name)
        ended.append(name)
    return ended


async def sweep_forever(service: DatadiveService) -> None:
    """:func:`sweep` every ``guest_sweep_seconds`` (and whenever :func:`sweep_soon` asks)."""
    while True:
        service.guest_sweep_wanted.clear()
        try:
            await sweep(service)
        except Exception:  # a sweep must never end the loop
            service.log.exception("Guest servers: sweep failed")
        try:
            await asyncio.wait_for(
                service.guest_sweep_wanted.wait(), timeout=service.guest_sweep_seconds
            )
        except TimeoutError:
            pass


def sweep_soon(service: DatadiveService) -> None:
    """Ask for a sweep now (an invitation was revoked)."""
    event = getattr(service, "guest_sweep_wanted", None)
    if event is not None:
        event.set()
