"""A guest (external collaborator) in tests: accepts an invitation link through the real HTML form
(XSRF token and all) and then calls the service API with its signed cookie."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import requests

XSRF_INPUT = re.compile(r'name="_xsrf" value="([^"]+)"')


def invite(platform, owner, project_id: str, role: str = "viewer", seconds: float | None = None):
    """POST projects/<id>/invitations as ``owner``; the invitation JSON (with its ``url``)."""
    body: dict = {"role": role}
    if seconds is not None:
        body["expires"] = (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()
    r = platform.call("POST", f"projects/{project_id}/invitations", owner, json=body)
    assert r.status_code == 201, r.text
    return r.json()


class Guest:
    def __init__(self, platform, name: str | None = None, password: str = "correct horse battery"):
        self.platform = platform
        self.name = name or f"Guest {uuid.uuid4().hex[:6]}"
        self.password = password
        self.session = requests.Session()

    def open(self, url: str) -> requests.Response:
        return self.session.get(self.platform.url + url, timeout=60)

    def form(self, url: str, **fields) -> requests.Response:
        """Open the page at ``url`` and post its form with ``fields`` (no redirects followed)."""
        page = self.open(url)
        m = XSRF_INPUT.search(page.text)
        xsrf = m.group(1) if m else ""
        return self.session.post(
            self.platform.url + url,
            data={"_xsrf": xsrf, **fields},
            allow_redirects=False,
            timeout=60,
        )

    def accept(self, url: str, action: str = "new") -> requests.Response:
        fields = {"action": action}
        if action == "new":
            fields |= {"display_name": self.name, "password": self.password}
        return self.form(url, **fields)

    @property
    def xsrf(self) -> str:
        return self.session.cookies.get("_xsrf", "")

    def call(self, method: str, path: str, **kw) -> requests.Response:
        """The service API with this guest's cookies (and its XSRF header)."""
        headers = {"X-XSRFToken": self.xsrf, **kw.pop("headers", {})}
        return self.platform.call(method, path, headers=headers, cookies=self.session.cookies, **kw)
