"""Who is calling: the one place the service identifies the person behind a request.

Both the JSON API (:class:`datadive_hub.api.base.APIHandler`) and the HTML pages
(:class:`datadive_hub.pages.base.PageHandler`) inherit :class:`Identified` and call
:meth:`Identified.identify`; what they do when nobody is identified differs (the API answers
401/403 as JSON, a page sends the browser to sign in). A new kind of caller (e.g. a guest with a
service-issued cookie) is added here, once, for both.
"""

from __future__ import annotations

from typing import Any

from jupyterhub.services.auth import HubOAuth, HubOAuthenticated, UserNotAllowed

from . import guest_servers, guests
from .guest_servers import DatadiveService
from .hubapi import HubUser
from .storage_policy import ProjectStore


class Identified(HubOAuthenticated):  # type: ignore[misc]
    """Mixin for tornado handlers: HubOAuth (browser cookie or API token) → :class:`HubUser`."""

    #: why a signed-in caller was refused (then 403 rather than "not signed in")
    _forbidden_reason: str | None = None
    #: guests may call this route although it has no project in its path (datadive_hub.guests):
    #: True, or the HTTP methods they may use
    guests_allowed: bool | tuple[str, ...] = False
    #: the caller (a hub user, a service, or a guest), set by identify()
    user: HubUser

    @property
    def hub_auth(self) -> HubOAuth:
        return self.settings["hub_auth"]

    @property
    def service(self) -> DatadiveService:
        """The DatadiveService application (configuration and shared clients)."""
        return self.settings["datadive"]

    def project_files(self, project_id: str) -> ProjectStore:
        """One project's files in the store: the one way handlers and pages reach them (every
        write is counted against the project's quotas)."""
        files: ProjectStore = self.service.storage.project_view(project_id)
        return files

    def check_hub_user(self, model: dict[str, Any]) -> dict[str, Any]:
        try:
            checked: dict[str, Any] = super().check_hub_user(model)
            return checked
        except Exception:
            self._forbidden_reason = (
                f"{model.get('kind', 'user')} {model.get('name')!r} is signed in but not allowed to "
                "use Datadive (the token lacks access:services!service=datadive); ask a hub admin "
                "to grant it"
            )
            raise

    async def identify(self) -> HubUser | None:
        """Set and return ``self.user`` (and ``self.current_user``, the hub's model), or None when
        nobody allowed is signed in (``self._forbidden_reason`` then says whether someone was
        signed in but refused)."""
        # HubAuth's awaitable form: its blocking form (get_current_user) hands every request to a
        # helper thread and waits for it, which caps the service's throughput under load
        model = await self.hub_auth.get_user(self, sync=False)
        if model is not None:
            try:
                model = self.check_hub_user(model)
            except UserNotAllowed:
                model = None
        self.current_user = model
        if model is None:
            if self._forbidden_reason:
                return None
            guest = guests.identify(self)  # no hub identity: a guest's cookie, if any
            if guest is None:
                return None
            self.current_user = {"kind": "guest", "name": guest.name}
            self.user = guest
            return guest
        # a guest's server (or its browser) signs in to the hub as the guest's hub user
        self.user = guest_servers.as_guest(
            self.service, await self.service.hub_users.resolve(model)
        )
        return self.user
