"""``datadive/api/hub/<path>``: the panel's way to the hub service, with this server's token."""

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import DatadiveHandler

FORWARDED_HEADERS = (
    "Content-Type",
    "ETag",
    "Last-Modified",
    "Content-Range",
    "Location",
    "Content-Disposition",
    "Accept-Ranges",
)


class HubProxyHandler(DatadiveHandler):
    """Forwards GET/POST/PATCH/PUT/DELETE to ``<service>/api/v1/<path>`` and relays the answer."""

    async def _forward(self, path: str) -> None:
        query = {k: self.get_argument(k) for k in self.request.query_arguments}
        headers = {
            k: v
            for k, v in self.request.headers.items()
            if k in ("Content-Type", "If-Match", "If-None-Match", "Range")
        }
        body = self.request.body if self.request.method in ("POST", "PUT", "PATCH") else None
        resp = await self.service.fetch(
            self.request.method, path, body=body, query=query, headers=headers
        )
        self.set_status(resp.status)
        for name in FORWARDED_HEADERS:
            if name in resp.headers:
                self.set_header(name, resp.headers[name])
        if resp.status != 204 and resp.body:
            self.write(resp.body)
        self.finish()

    @web.authenticated
    @authorized
    async def get(self, path: str) -> None:
        await self._forward(path)

    @web.authenticated
    @authorized
    async def post(self, path: str) -> None:
        await self._forward(path)

    @web.authenticated
    @authorized
    async def patch(self, path: str) -> None:
        await self._forward(path)

    @web.authenticated
    @authorized
    async def put(self, path: str) -> None:
        await self._forward(path)

    @web.authenticated
    @authorized
    async def delete(self, path: str) -> None:
        await self._forward(path)


routes = [(r"api/hub/(?P<path>.*)", HubProxyHandler)]
