"""guest-server: what the hub asks before it starts a guest's server (guest servers,
:mod:`datadive_hub.guest_servers`): may it, and with which limits. Called with that server's own
token, which the service identifies as the guest."""

from tornado import web

from .. import guest_servers
from .base import APIHandler


class GuestServerHandler(APIHandler):
    guests_allowed = True  # the point: only a guest gets an answer other than 403

    def get(self) -> None:
        if self.user.kind != "guest":
            raise web.HTTPError(
                403, "Only guests ask this: a hub user's server needs no permission from Datadive"
            )
        why = guest_servers.refusal(self.service, self.user.guest_roles)
        if why:
            raise web.HTTPError(403, why)
        self.write_json(guest_servers.limits(self.service))


routes = [(r"guest-server", GuestServerHandler)]
