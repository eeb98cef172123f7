"""Base handler of the server extension: jupyter_server auth, JSON errors with messages."""

import asyncio
import json
import weakref
from http.client import responses
from typing import Any

from datadive_contents.serviceclient import ServiceClient, ServiceError
from jupyter_server.base.handlers import APIHandler
from tornado import web


class DatadiveHandler(APIHandler):
    """Authenticated by jupyter_server (the hub's OAuth for this user's server)."""

    auth_resource = "contents"

    @property
    def service(self) -> ServiceClient:
        service: ServiceClient = self.settings["datadive_service"]
        return service

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = responses.get(status_code, "Error")
        if isinstance(exc, ServiceError):
            status_code, message = exc.status, exc.message
        elif isinstance(exc, web.HTTPError) and exc.log_message:
            message = exc.log_message % exc.args if exc.args else exc.log_message
        self.set_status(status_code)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"status": status_code, "message": message}))


class KeyedLocks:
    """One asyncio lock per key (a path, a project id), kept while someone holds or waits for it:
    edits of one thing run one at a time, edits of different things in parallel."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def __call__(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock
