"""Sign-in end to end: a real OpenID Connect provider, a real JupyterHub, a browser-like client.

The client is a ``requests`` session: it follows redirects and fills in the provider's login and
consent forms exactly as a person would submit them.
"""

from __future__ import annotations

import asyncio
import html
import re

import pytest
import requests

pytestmark = [pytest.mark.hub, pytest.mark.slow]

FORM = re.compile(r'<form method="post" action="([^"]+)"')


def sign_in(hub_url: str, login: str, password: str) -> requests.Response:
    """Sign in at the hub through the provider; return the last response (hub page or error)."""
    s = requests.Session()
    r = s.get(hub_url + "/hub/oauth_login?next=/hub/home", timeout=30)
    for _ in range(4):  # login form, then consent form
        m = FORM.search(r.text)
        if not m or r.url.startswith(hub_url):
            break
        action = requests.compat.urljoin(r.url, html.unescape(m.group(1)))
        data = (
            {"login": login, "password": password}
            if 'name="login"' in r.text
            else {"consent": "yes"}
        )
        r = s.post(action, data=data, timeout=30)
    r.session = s
    return r


OIDC_CONFIG = """
import datadive_hub
datadive_hub.configure(
    c,
    data_dir={data_dir!r},
    service_port={service_port},
    authenticator="oidc",
    oidc_issuer={issuer!r},
    oidc_client_id={client_id!r},
    oidc_client_secret={client_secret!r},
    oidc_callback_url="http://127.0.0.1:{hub_port}/hub/oauth_callback",
    allowed_groups=["researchers"],
    admin_groups=["hub-admins"],
)
# by entry-point name, as helm-values/datadive.yaml does (hub.config.JupyterHub)
c.JupyterHub.authenticator_class = "datadive"
"""


@pytest.fixture(scope="module")
async def oidc_hub(oidc_provider, start_hub, tmp_path_factory, free_port):
    config = OIDC_CONFIG.format(
        data_dir=str(tmp_path_factory.mktemp("data")),
        service_port=free_port(),
        issuer=oidc_provider.issuer,
        client_id=oidc_provider.client_id,
        client_secret=oidc_provider.client_secret,
        hub_port=oidc_provider.hub_port,
    )
    return await start_hub(config, port=oidc_provider.hub_port)


def test_the_hub_loaded_the_authenticator_by_its_entry_point_name(oidc_hub):
    assert "Using Authenticator: datadive_hub.auth.oidc.DatadiveOAuthenticator" in oidc_hub.log()


async def test_member_signs_in_with_provider_groups(oidc_hub, oidc_provider):
    r = await asyncio.to_thread(sign_in, oidc_hub.url, "alice", "alice-pw")
    assert r.status_code == 200, r.text[:2000]
    assert r.url == oidc_hub.url + "/hub/home"
    user = oidc_hub.api("GET", "users/alice").json()
    assert user["groups"] == ["researchers"]
    assert user["admin"] is False
    groups = {g["name"]: g["users"] for g in oidc_hub.api("GET", "groups").json()}
    assert groups["researchers"] == ["alice"]


async def test_admin_group_member_is_admin(oidc_hub):
    r = await asyncio.to_thread(sign_in, oidc_hub.url, "bob", "bob-pw")
    assert r.status_code == 200, r.text[:2000]
    user = oidc_hub.api("GET", "users/bob").json()
    assert user["admin"] is True
    assert sorted(user["groups"]) == ["hub-admins", "researchers"]


async def test_groups_follow_the_provider_at_every_sign_in(oidc_hub, oidc_provider):
    assert (await asyncio.to_thread(sign_in, oidc_hub.url, "bob", "bob-pw")).status_code == 200
    assert oidc_hub.api("GET", "users/bob").json()["admin"] is True
    # the institution removes bob from the admin group and adds him to another one
    oidc_provider.set_groups("bob", ["researchers", "statistics"])
    try:
        assert (await asyncio.to_thread(sign_in, oidc_hub.url, "bob", "bob-pw")).status_code == 200
        user = oidc_hub.api("GET", "users/bob").json()
        assert sorted(user["groups"]) == ["researchers", "statistics"]
        assert user["admin"] is False
        assert "bob" not in oidc_hub.api("GET", "groups/hub-admins").json()["users"]
    finally:
        oidc_provider.set_groups("bob", ["researchers", "hub-admins"])


async def test_user_outside_allowed_groups_is_refused_with_reason(oidc_hub):
    r = await asyncio.to_thread(sign_in, oidc_hub.url, "mallory", "mallory-pw")
    assert r.status_code == 403
    text = html.unescape(re.sub(r"\s+", " ", r.text))
    assert "open only to members of the groups researchers" in text
    assert "reported your groups as students" in text
    assert "Traceback" not in r.text
    assert oidc_hub.api("GET", "users/mallory").status_code == 404


async def test_user_without_groups_is_refused(oidc_hub):
    r = await asyncio.to_thread(sign_in, oidc_hub.url, "nogroups", "nogroups-pw")
    assert r.status_code == 403
    assert "reported no groups for you" in html.unescape(r.text)


async def test_wrong_password_never_reaches_the_hub(oidc_hub):
    r = await asyncio.to_thread(sign_in, oidc_hub.url, "dave", "wrong")
    assert r.status_code == 401
    assert "Wrong login or password" in r.text
    assert oidc_hub.api("GET", "users/dave").status_code == 404


def test_provider_refuses_a_code_request_without_pkce(oidc_provider):
    """The provider requires PKCE, so every successful sign-in above used it."""
    r = requests.get(
        oidc_provider.issuer + "/auth",
        params={
            "client_id": oidc_provider.client_id,
            "response_type": "code",
            "scope": "openid",
            "redirect_uri": f"http://127.0.0.1:{oidc_provider.hub_port}/hub/oauth_callback",
            "state": "x",
        },
        allow_redirects=False,
        timeout=30,
    )
    assert r.status_code in (302, 303)
    location = requests.utils.unquote(r.headers["location"])
    assert "error=invalid_request" in location and "requires+PKCE" in location, location
