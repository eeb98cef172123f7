"""OpenID Connect sign-in for Datadive: ``DatadiveOAuthenticator``.

Built on oauthenticator's ``GenericOAuthenticator``.  One setting, ``oidc_issuer``, is enough to
find the provider's endpoints (OpenID Connect discovery); the ``groups`` claim becomes JupyterHub
groups, kept in step at every login (``manage_groups``); ``admin_groups`` make admins and
``allowed_groups`` decide who may sign in; PKCE is always on.  Someone who is refused sees a page
that says why (which groups are allowed, which the provider reported), not a stack trace.

Entry point: ``c.JupyterHub.authenticator_class = "datadive"``.
"""

from __future__ import annotations

import contextvars
import json
import urllib.error
import urllib.request
from typing import Any

from oauthenticator.generic import GenericOAuthenticator
from oauthenticator.oauth2 import OAuthCallbackHandler
from tornado import web
from traitlets import Bool, Bunch, Dict, Float, List, Unicode, default, validate

from ..guest_login import GuestLoginMixin

__all__ = ["DatadiveOAuthenticator", "discover"]

# why check_allowed refused someone in this request (login_user only returns None); a dict set by
# the callback handler, filled in by check_allowed (which may run in a task with a copied context)
_refusal: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "datadive_refusal", default=None
)


def discover(issuer: str, timeout: float = 10.0) -> dict[str, Any]:
    """Fetch ``<issuer>/.well-known/openid-configuration`` and return it as a dict.

    Raises ``ValueError`` with a message that says what to check when the provider cannot be read.
    """
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (admin's URL)
            document: dict[str, Any] = json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise ValueError(
            f"DatadiveOAuthenticator could not read the OpenID Connect discovery document at {url}"
            f" ({e}). Check DatadiveOAuthenticator.oidc_issuer (it is the provider's issuer URL,"
            " e.g. https://login.example.org/realms/research) and that the hub can reach it;"
            " or set authorize_url, token_url and userdata_url explicitly."
        ) from e
    missing = [k for k in ("authorization_endpoint", "token_endpoint") if k not in document]
    if missing:
        raise ValueError(f"The discovery document at {url} lacks {', '.join(missing)}.")
    return document


class DatadiveCallbackHandler(OAuthCallbackHandler):  # type: ignore[misc]
    """OAuth callback that explains a refusal instead of answering a bare 403."""

    async def get(self) -> None:
        self.check_arguments()
        refusal: dict[str, Any] = {}
        _refusal.set(refusal)
        user = await self.login_user()
        if user is None:
            reason = refusal.get("reason") or self.authenticator.custom_403_message
            raise web.HTTPError(403, reason)
        self.redirect(self.get_next_url(user))


class DatadiveOAuthenticator(GuestLoginMixin, GenericOAuthenticator):  # type: ignore[misc]
    """Sign in with the institution's OpenID Connect provider; its groups become JupyterHub groups."""

    callback_handler = DatadiveCallbackHandler

    oidc_issuer = Unicode(
        "",
        config=True,
        help="""Issuer URL of the OpenID Connect provider (e.g. https://login.example.org/realms/research).
        The authorize, token and userinfo endpoints are read from its discovery document at start-up
        unless authorize_url, token_url and userdata_url are set explicitly.""",
    )

    discovery_timeout = Float(
        10.0, config=True, help="Seconds to wait for the provider's discovery document at start-up."
    )

    groups_claim = Unicode(
        "groups",
        config=True,
        help="""Name of the claim (in the userinfo response) that lists the user's groups. Its values
        become the user's JupyterHub groups at every sign-in (groups the provider no longer sends are
        removed).""",
    )

    refused_message = Unicode(
        "You signed in as {username}, but this Datadive hub is open only to members of {allowed}."
        " Your identity provider reported {groups}. Ask your hub administrator to add you to one of"
        " the allowed groups, then sign in again.",
        config=True,
        help="""Page text for a person who signed in at the provider but is not allowed on this hub.
        Placeholders: {username}, {allowed} (the allowed groups), {groups} (the groups the provider
        sent).""",
    )

    require_pkce = Bool(
        True,
        config=True,
        help="""Refuse to start with enable_pkce=False. PKCE protects the authorization code; leave this
        on unless the provider rejects the code_challenge parameter.""",
    )

    extra_claims = List(
        Unicode(),
        config=True,
        help="Additional OpenID scopes to request besides openid, profile, email and groups.",
    )

    discovered = Dict(help="The provider's discovery document (read at start-up).")

    @default("login_service")
    def _login_service_default(self) -> str:
        return "your institution"

    @default("scope")
    def _scope_default(self) -> list[str]:
        return ["openid", "profile", "email", "groups", *self.extra_claims]

    @default("username_claim")
    def _username_claim_default(self) -> str:
        return "preferred_username"

    @default("manage_groups")
    def _manage_groups_default(self) -> bool:
        return True

    @default("auth_state_groups_key")
    def _groups_key_default(self) -> str:
        return f"{self.user_auth_state_key}.{self.groups_claim}"

    @default("discovered")
    def _discovered_default(self) -> dict[str, Any]:
        if not self.oidc_issuer:
            return {}
        return discover(self.oidc_issuer, self.discovery_timeout)

    def _discovered_url(self, key: str) -> str:
        """An endpoint named in the discovery document ("" when it names none)."""
        url: str = self.discovered.get(key, "")
        return url

    @default("authorize_url")
    def _authorize_url_default(self) -> str:
        return self._discovered_url("authorization_endpoint")

    @default("token_url")
    def _token_url_default(self) -> str:
        return self._discovered_url("token_endpoint")

    @default("userdata_url")
    def _userdata_url_default(self) -> str:
        return self._discovered_url("userinfo_endpoint")

    @default("logout_redirect_url")
    def _logout_redirect_default(self) -> str:
        return self._discovered_url("end_session_endpoint")

    @validate("enable_pkce")
    def _pkce_on(self, proposal: Bunch) -> bool:
        enabled: bool = proposal.value
        if not enabled and self.require_pkce:
            raise ValueError(
                "DatadiveOAuthenticator always uses PKCE. Set DatadiveOAuthenticator.require_pkce"
                " = False as well if your provider really rejects the code_challenge parameter."
            )
        return enabled

    def check_endpoints(self) -> None:
        """Raise ``ValueError`` naming the missing setting when the provider is not configured."""
        missing = [
            n for n in ("authorize_url", "token_url", "userdata_url") if not getattr(self, n)
        ]
        if missing:
            raise ValueError(
                "DatadiveOAuthenticator needs the provider's endpoints: set"
                " DatadiveOAuthenticator.oidc_issuer (discovery), or set "
                + ", ".join(f"DatadiveOAuthenticator.{n}" for n in missing)
                + "."
            )
        if not self.client_id:
            raise ValueError(
                "DatadiveOAuthenticator.client_id is empty: register the hub as a client at your"
                " provider (redirect URI https://<hub>/hub/oauth_callback) and set client_id and"
                " client_secret (or the OAUTH_CLIENT_ID / OAUTH_CLIENT_SECRET environment variables)."
            )

    def get_handlers(self, app: Any) -> list[tuple[str, type[Any]]]:
        self.check_endpoints()
        self.log.info(
            "DatadiveOAuthenticator: provider %s, groups claim %r, allowed groups %s, admin groups %s",
            self.oidc_issuer or self.authorize_url,
            self.groups_claim,
            sorted(self.allowed_groups) or "(none)",
            sorted(self.admin_groups) or "(none)",
        )
        return super().get_handlers(app)

    async def check_allowed(self, username: str, auth_model: dict[str, Any] | None) -> bool:
        allowed: bool = await super().check_allowed(username, auth_model)
        if not allowed and auth_model is not None:
            refusal = _refusal.get()
            if refusal is not None:
                refusal["reason"] = self.refusal_reason(username, auth_model)
            self.log.warning(
                "Refused %s: groups %s, allowed groups %s",
                username,
                sorted(auth_model.get("groups") or []),
                sorted(self.allowed_groups),
            )
        return allowed

    def refusal_reason(self, username: str, auth_model: dict[str, Any]) -> str:
        """The sentence shown to someone who is not allowed (see ``refused_message``)."""
        allowed = (
            "the groups " + ", ".join(sorted(self.allowed_groups))
            if self.allowed_groups
            else "explicitly allowed users"
        )
        groups = sorted(auth_model.get("groups") or [])
        sent = "your groups as " + ", ".join(groups) if groups else "no groups for you"
        return self.refused_message.format(username=username, allowed=allowed, groups=sent)
