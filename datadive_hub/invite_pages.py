"""``<service prefix>/invite/<token>`` and ``guest/login``, ``guest/logout``: the guests' pages.

Opening an invitation shows a form: choose a display name and password and become a guest of
the invited project, or accept it as the guest or hub user already signed in in this browser
("I have an account on this hub" signs in through the hub first). Accepting marks the invitation
used in one conditional UPDATE, so a link works once, however many times it is sent. An unknown,
used, expired or revoked token (or one of a deleted project) gets the same 404 page.

The forms carry tornado's XSRF token; their posts are rate-limited per client address. Pages are
sent with no referrer (the token stays out of other sites' logs), ``no-store`` and a content
security policy without scripts.
"""

from __future__ import annotations

import asyncio
import html
import json
from typing import Any, cast
from urllib.parse import urlencode

from datadive_contents.folders import label
from jupyterhub.utils import url_path_join
from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from tornado import web

from . import guest_servers, guests
from .api.links import token_hash
from .identity import Identified
from .models import Guest, Invitation, Membership, PrincipalKind, Project, Role, utcnow
from .public import client_address

NOT_FOUND = (
    "This invitation link does not exist, has expired, was already used or was withdrawn. "
    "Ask the person who invited you for a new one."
)
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
}
TITLES = {
    400: "Please check the form",
    401: "Not signed in",
    403: "Not allowed",
    404: "This link does not work",
    429: "Too many attempts",
}
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f5f5f5;
margin:0;color:#222}
header{background:#fff;border-bottom:1px solid #e0e0e0;padding:10px 24px;font-weight:600}
header span{color:#b85200}
main{max-width:420px;margin:48px auto;background:#fff;border:1px solid #e0e0e0;
border-radius:4px;padding:24px 28px}
h1{font-size:1.3rem;margin-top:0}label{display:block;margin:14px 0 4px;font-weight:500}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:8px;
border:1px solid #bbb;border-radius:3px;font-size:1rem}
button{margin-top:18px;background:#b85200;color:#fff;border:0;border-radius:3px;
padding:9px 18px;font-size:1rem;cursor:pointer}
button.secondary{background:#fff;color:#b85200;border:1px solid #b85200}
.error{background:#fdecea;border:1px solid #f5c2c0;padding:8px 12px;border-radius:3px}
.note{color:#555;font-size:.92rem}hr{border:0;border-top:1px solid #eee;margin:22px 0}
"""


def page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} · Datadive</title><style>{STYLE}</style></head>"
        f"<body><header><span>Datadive</span> · guest access</header><main>{body}</main>"
        "</body></html>"
    )


class GuestPage(Identified, web.RequestHandler):
    """Base of the guests' pages: HTML errors, security headers, the guest cookie."""

    @property
    def prefix(self) -> str:
        prefix: str = self.service.service_prefix
        return prefix

    def set_default_headers(self) -> None:
        for name, value in HEADERS.items():
            self.set_header(name, value)

    _retry_after = 0

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None))[1]
        message = getattr(exc, "log_message", None) or self._reason
        if self._retry_after:
            self.set_header("Retry-After", str(self._retry_after))
        self.set_header("Content-Type", "text/html; charset=utf-8")
        title = TITLES.get(status_code, self._reason)
        body = f'<h1>{html.escape(title)}</h1><p class="error">{html.escape(message)}</p>'
        self.finish(page(title, body))

    def render_form(self, title: str, body: str, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(page(title, body))

    def limit_posts(self) -> None:
        wait = self.service.guest_form_limiter.allow(client_address(self.request))
        if wait:
            self._retry_after = int(wait) + 1
            raise web.HTTPError(429, f"Too many attempts; try again in {int(wait) + 1} s")

    def check_form(self) -> None:
        """The rate limit (every post counts, wrong passwords included), then the XSRF token."""
        self.limit_posts()
        self.check_xsrf_cookie()

    def guests_on(self) -> None:
        if not self.service.allow_guests:
            raise web.HTTPError(
                403,
                "Guest access is turned off on this hub (DatadiveService.allow_guests). Ask the "
                "person who invited you to add you once you have an account on the hub.",
            )

    def signed_in_guest(self, db: Session) -> Guest | None:
        return guests.cookie_guest(self, db)

    def sign_in(self, guest: Guest) -> None:
        self.set_signed_cookie(
            guests.COOKIE,
            guest.id,
            expires_days=self.service.guest_session_hours / 24,
            path=self.prefix,
            httponly=True,
            samesite="Lax",
            secure=self.request.protocol == "https",
        )

    def project_url(self, project_id: str) -> str:
        url: str = url_path_join(self.prefix, "projects", project_id)
        return url

    def field(self, name: str) -> str:
        return self.get_body_argument(name, "", strip=False)


class InvitePage(GuestPage):
    """Open (GET) and accept (POST) an invitation."""

    def _invitation(self, db: Session, token: str) -> tuple[Invitation, str]:
        """The open invitation of ``token`` and its project's name, or the 404."""
        row = db.execute(
            select(Invitation, Project.name)
            .join(Project, Project.id == Invitation.project_id)
            .where(
                Invitation.token_hash == token_hash(token),
                Project.deleted_at.is_(None),
                Invitation.used_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
        ).first()
        if row is None:
            raise web.HTTPError(404, NOT_FOUND)
        return row[0], row[1]

    async def hub_user(self) -> str | None:
        model = await self.hub_auth.get_user(self, sync=False)
        return model["name"] if model and model.get("kind", "user") == "user" else None

    async def get(self, token: str) -> None:
        self.guests_on()
        hub_user = await self.hub_user()
        with self.settings["session_factory"]() as db:
            inv, project_name = self._invitation(db, token)
            guest = self.signed_in_guest(db)
            guest_name = guest.display_name if guest else None
        if self.get_query_argument("hub", "") and hub_user is None:
            self.redirect(self.get_login_url())  # through the hub's sign-in, back here
            return
        self.render_form("Invitation", self._form(inv, project_name, hub_user, guest_name))

    def _form(
        self,
        inv: Invitation,
        project_name: str,
        hub_user: str | None,
        guest_name: str | None,
        error: str = "",
        typed: str = "",
    ) -> str:
        xsrf = self.xsrf_form_html()
        e = html.escape
        parts = [
            f"<h1>You are invited to {e(project_name)}</h1>",
            f"<p>{e(inv.created_by)} invites you as <b>{e(inv.role)}</b> of the project "
            f"<b>{e(project_name)}</b> (until {inv.expires_at:%Y-%m-%d %H:%M} UTC).</p>",
        ]
        if error:
            parts.append(f'<p class="error" role="alert">{e(error)}</p>')
        for action, who in (("hub", hub_user), ("guest", guest_name)):
            if who:
                label = "hub user" if action == "hub" else "guest"
                parts.append(
                    f'<form method="post">{xsrf}<input type="hidden" name="action" '
                    f'value="{action}"><button type="submit">Accept as {label} {e(who)}'
                    "</button></form><hr>"
                )
        parts.append(
            f'<form method="post">{xsrf}<input type="hidden" name="action" value="new">'
            f"<p>{'Or join as a new guest' if hub_user or guest_name else 'Join as a guest'}: "
            "choose the name the project's members will see and a password to come back "
            "with.</p>"
            '<label for="display_name">Display name</label>'
            f'<input type="text" id="display_name" name="display_name" maxlength="64" '
            f'required autocomplete="username" value="{e(typed)}">'
            '<label for="password">Password</label>'
            f'<input type="password" id="password" name="password" minlength="'
            f'{guests.MIN_PASSWORD}" required autocomplete="new-password">'
            f'<p class="note">At least {guests.MIN_PASSWORD} characters.</p>'
            '<button type="submit">Join as guest</button></form>'
        )
        if not hub_user:
            parts.append(
                '<hr><p class="note">Have an account on this hub? '
                '<a href="?hub=1">Sign in to the hub</a> and accept with it instead.</p>'
            )
        return "".join(parts)

    async def post(self, token: str) -> None:
        self.check_form()
        self.guests_on()
        action = self.field("action")
        if action == "hub":
            await self._accept_as_hub_user(token)
        elif action == "guest":
            self._accept_as_guest(token)
        elif action == "new":
            await self._accept_as_new_guest(token)
        else:
            raise web.HTTPError(400, "Unknown action; reload the invitation page and try again")

    @staticmethod
    def _claim(db: Session, inv: Invitation, **accepted: str) -> None:
        """Mark ``inv`` used, if nobody did in the meantime (single use), else the 404."""
        now = utcnow()
        claim = (
            update(Invitation)
            .where(
                Invitation.id == inv.id,
                Invitation.used_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > now,
            )
            .values(used_at=now, **accepted)
        )
        # Session.execute is typed as returning Result; an UPDATE's is a CursorResult (rowcount)
        done = cast(CursorResult[Any], db.execute(claim))
        if done.rowcount != 1:
            db.rollback()
            raise web.HTTPError(404, NOT_FOUND)

    def _accepted(self, inv: Invitation, actor: str) -> None:
        self.service.audit.record(
            inv.project_id, actor, "invitation accepted", f"as {inv.role} (invitation {inv.id})"
        )
        self.redirect(self.project_url(inv.project_id))

    async def _accept_as_new_guest(self, token: str) -> None:
        typed = self.field("display_name")
        password = self.field("password")
        try:
            name = guests.check_display_name(typed)
            guests.check_new_password(password)
        except ValueError as e:
            return self._again(token, str(e), typed)
        hashed = await asyncio.to_thread(guests.hash_password, password)  # ~50 ms of scrypt
        with self.settings["session_factory"]() as db:
            inv, _ = self._invitation(db, token)
            guest = Guest(display_name=name, name_key=guests.name_key(name), password_hash=hashed)
            db.add(guest)
            try:
                db.flush()
            except IntegrityError:
                db.rollback()
                return self._again(
                    token, f"The name {name!r} is taken; choose another display name", typed
                )
            self._claim(db, inv, guest_id=guest.id)
            db.commit()
        self.sign_in(guest)
        self._accepted(inv, guests.principal_name(guest))

    def _again(self, token: str, error: str, typed: str) -> None:
        with self.settings["session_factory"]() as db:
            inv, project_name = self._invitation(db, token)
            guest = self.signed_in_guest(db)
        guest_name = guest.display_name if guest else None
        body = self._form(inv, project_name, None, guest_name, error, typed)
        self.render_form("Invitation", body, status=400)

    def _accept_as_guest(self, token: str) -> None:
        with self.settings["session_factory"]() as db:
            inv, _ = self._invitation(db, token)
            guest = self.signed_in_guest(db)
            if guest is None:
                raise web.HTTPError(
                    401, "You are not signed in as a guest any more; reload the invitation page"
                )
            self._claim(db, inv, guest_id=guest.id)
            db.commit()
        self._accepted(inv, guests.principal_name(guest))

    async def _accept_as_hub_user(self, token: str) -> None:
        name = await self.hub_user()
        if name is None:
            raise web.HTTPError(
                401, "You are not signed in to the hub; reload the invitation page and sign in"
            )
        with self.settings["session_factory"]() as db:
            inv, _ = self._invitation(db, token)
            self._claim(db, inv, accepted_by=name)
            add_member(db.get(Project, inv.project_id), name, Role[inv.role])
            db.commit()
        self._accepted(inv, name)


def add_member(project: Project, name: str, role: Role) -> None:
    """``name`` becomes a user member with ``role``, or keeps a higher role they already have."""
    for m in project.members:
        if m.kind == PrincipalKind.user and m.name == name:
            m.role = max(m.role, role)
            return
    project.members.append(Membership(kind=PrincipalKind.user, name=name, role=role))


class LoginPage(GuestPage):
    """A returning guest signs in with display name and password."""

    def get(self) -> None:
        self.guests_on()
        self.render_form("Guest sign-in", self._form())

    def _form(self, error: str = "", typed: str = "") -> str:
        e = html.escape
        return (
            "<h1>Sign in as a guest</h1>"
            + (f'<p class="error" role="alert">{e(error)}</p>' if error else "")
            + f'<form method="post">{self.xsrf_form_html()}'
            '<label for="display_name">Display name</label>'
            f'<input type="text" id="display_name" name="display_name" required '
            f'autocomplete="username" value="{e(typed)}">'
            '<label for="password">Password</label>'
            '<input type="password" id="password" name="password" required '
            'autocomplete="current-password"><button type="submit">Sign in</button></form>'
            '<p class="note">Guests were invited to a project by its owner. People with an '
            "account on this hub sign in to the hub instead.</p>"
        )

    async def post(self) -> None:
        self.check_form()
        self.guests_on()
        typed, password = self.field("display_name"), self.field("password")
        with self.settings["session_factory"]() as db:
            guest = db.scalar(select(Guest).where(Guest.name_key == guests.name_key(typed.strip())))
        stored = guest.password_hash if guest else guests.DUMMY_HASH  # same time either way
        ok = await asyncio.to_thread(guests.check_password, password, stored)
        if guest is None or not ok:
            self.render_form(
                "Guest sign-in", self._form("Wrong display name or password", typed), status=401
            )
            return
        with self.settings["session_factory"]() as db:
            projects = sorted(
                {
                    inv.project_id
                    for inv in db.scalars(select(Invitation).where(Invitation.guest_id == guest.id))
                    if guests.is_live(inv)
                }
            )
        if not projects:
            with self.settings["session_factory"]() as db:
                ended = list(db.scalars(select(Invitation).where(Invitation.guest_id == guest.id)))
            raise web.HTTPError(401, guests.ended_message(ended))
        self.sign_in(guest)
        # the service's project pages: the one project, or the list (the service's root page)
        target = self.project_url(projects[0]) if len(projects) == 1 else self.prefix
        self.redirect(target)


class LogoutPage(GuestPage):
    def get(self) -> None:
        self.render_form(
            "Sign out",
            f'<h1>Sign out</h1><form method="post">{self.xsrf_form_html()}'
            '<button type="submit">Sign out of guest access</button></form>',
        )

    def post(self) -> None:
        self.check_xsrf_cookie()
        self.clear_cookie(guests.COOKIE, path=self.prefix)
        self.render_form(
            "Signed out",
            "<h1>Signed out</h1><p>You are signed out of guest access. "
            f'<a href="{html.escape(url_path_join(self.prefix, "guest/login"))}">Sign in again'
            "</a></p>",
        )


class GuestServerPage(GuestPage):
    """``guest/server/<project id>``: an editor guest opens the project in JupyterLab (guest
    servers, :mod:`datadive_hub.guest_servers`): a ticket, and on to the hub's guest sign-in."""

    async def post(self, project_id: str) -> None:
        self.check_form()
        with self.settings["session_factory"]() as db:
            guest = self.signed_in_guest(db)
            invitations = guests.invitations_of(db, guest.id) if guest else []
            project = db.get(Project, project_id)
        if guest is None:
            raise web.HTTPError(
                401, "Sign in as a guest first (guest/login), then open the project again"
            )
        user = guests.guest_user(self.service, guest, invitations)
        if project is None or project.deleted_at is not None or project_id not in user.guest_roles:
            raise web.HTTPError(404, "No such project among the ones you were invited to")
        why = guest_servers.refusal(self.service, user.guest_roles, project_id)
        if why:
            raise web.HTTPError(403, why)
        path = self.get_body_argument("path", "") or self.get_query_argument("path", "")
        tree = url_path_join("lab/tree", label({"id": project.id, "name": project.name}), path)
        ticket, nonce = self.service.guest_tickets.issue(guest.id, tree)
        login = url_path_join(self.hub_auth.hub_prefix, "datadive-guest-login")
        self.set_cookie(
            guest_servers.NONCE_COOKIE,
            nonce,
            path=login,  # sent to the hub's guest sign-in only
            expires_days=guest_servers.TICKET_SECONDS / 86400,
            httponly=True,
            samesite="Lax",
            secure=self.request.protocol == "https",
        )
        self.redirect(login + "?" + urlencode({"ticket": ticket}))


class TicketHandler(web.RequestHandler):
    """``guest/ticket`` (POST ``{"ticket", "nonce"}``, from the hub): which hub user a ticket
    signs in and where it goes. The ticket is the credential (256 bits, single use, 60 s), valid
    only with the nonce of the browser it was given to."""

    def post(self) -> None:
        try:
            body = json.loads(self.request.body or b"{}")
            ticket, nonce = body.get("ticket"), body.get("nonce")
        except (ValueError, AttributeError):
            ticket = nonce = None
        if not isinstance(ticket, str) or not ticket or not isinstance(nonce, str):
            raise web.HTTPError(400, 'Send {"ticket": "...", "nonce": "..."}')
        service = self.settings["datadive"]
        redeemed = service.guest_tickets.redeem(ticket, nonce)
        if redeemed is None:
            raise web.HTTPError(404, "Unknown, used or expired ticket")
        guest_id, tree = redeemed
        with self.settings["session_factory"]() as db:
            user = guests.guest_user(
                service, db.get(Guest, guest_id), guests.invitations_of(db, guest_id)
            )
        why = guest_servers.refusal(service, user.guest_roles)
        if why:
            raise web.HTTPError(403, why)
        self.finish({"name": guest_servers.hub_name(guest_id), "next": tree})

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None))[1]
        self.finish({"message": getattr(exc, "log_message", None) or self._reason})


routes = [
    (r"invite/([^/]+)", InvitePage),
    (r"guest/login", LoginPage),
    (r"guest/logout", LogoutPage),
    (r"guest/server/([^/]+)", GuestServerPage),
    (r"guest/ticket", TicketHandler),
]
