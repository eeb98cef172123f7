"""Guests (external collaborators): an owner invites by a single-use, expiring link; whoever opens
it becomes a guest of that one project with the invitation's role, until it expires or is revoked."""

import time
import uuid

import pytest
from guest_client import Guest, invite

pytestmark = pytest.mark.hub

CSV = b"id,score\n1,3.5\n"


@pytest.fixture(scope="module")
def team(any_platform):
    owner, editor, viewer, stranger = (any_platform.user() for _ in range(4))
    project = any_platform.project(owner)
    other = any_platform.project(owner)  # a second project of the same owner
    any_platform.share(owner, project["id"], (editor, "editor"), (viewer, "viewer"))
    r = any_platform.call("PUT", f"projects/{project['id']}/files/data.csv", owner, data=CSV)
    assert r.status_code == 201, r.text
    return {
        "owner": owner,
        "editor": editor,
        "viewer": viewer,
        "stranger": stranger,
        "project": project,
        "other": other,
    }


def test_only_owners_create_list_and_revoke_invitations(any_platform, team):
    pid = team["project"]["id"]
    for who, status in (("editor", 403), ("viewer", 403), ("stranger", 404)):
        r = any_platform.call(
            "POST", f"projects/{pid}/invitations", team[who], json={"role": "viewer"}
        )
        assert r.status_code == status, (who, r.text)
        assert any_platform.call("GET", f"projects/{pid}/invitations", team[who]).status_code == (
            status
        )
    inv = invite(any_platform, team["owner"], pid, "editor")
    assert inv["url"].startswith("/services/datadive/invite/") and inv["state"] == "pending"
    token = inv["url"].rsplit("/", 1)[-1]
    assert len(token) >= 43  # 256 bits
    listed = any_platform.call("GET", f"projects/{pid}/invitations", team["owner"])
    assert listed.status_code == 200
    assert inv["id"] in listed.text and token not in listed.text  # the link is shown once
    r = any_platform.call("DELETE", f"projects/{pid}/invitations/{inv['id']}", team["editor"])
    assert r.status_code == 403
    r = any_platform.call("DELETE", f"projects/{pid}/invitations/{inv['id']}", team["owner"])
    assert r.status_code == 204
    states = {
        i["id"]: i["state"]
        for i in any_platform.call("GET", f"projects/{pid}/invitations", team["owner"]).json()[
            "invitations"
        ]
    }
    assert states[inv["id"]] == "revoked"


@pytest.mark.parametrize(
    "body,message",
    [
        ({"role": "owner"}, "a guest cannot be an owner"),
        ({}, "Missing field"),
        ({"role": "viewer", "expires": "yesterday"}, "ISO 8601"),
        ({"role": "viewer", "expires": "2001-01-01T00:00:00Z"}, "in the past"),
        ({"role": "viewer", "expires": "2999-01-01T00:00:00Z"}, "invitation_max_days"),
    ],
)
def test_bad_invitations_are_refused_with_the_fix(any_platform, team, body, message):
    r = any_platform.call(
        "POST", f"projects/{team['project']['id']}/invitations", team["owner"], json=body
    )
    assert r.status_code == 400 and message in r.json()["message"], r.text


def test_a_viewer_guest_sees_its_one_project_and_nothing_else(any_platform, team):
    pid = team["project"]["id"]
    inv = invite(any_platform, team["owner"], pid, "viewer")
    guest = Guest(any_platform)
    page = guest.open(inv["url"])
    assert page.status_code == 200 and team["project"]["name"] in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    r = guest.accept(inv["url"])
    assert r.status_code == 302, r.text
    assert r.headers["Location"] == f"/services/datadive/projects/{pid}"
    cookie = next(c for c in guest.session.cookies if c.name == "datadive-guest")
    assert cookie.path == "/services/datadive/" and cookie.has_nonstandard_attr("HttpOnly")
    # exactly the invited project, with the invitation's role
    listed = guest.call("GET", "projects")
    assert listed.status_code == 200, listed.text
    assert [(p["id"], p["role"]) for p in listed.json()["projects"]] == [(pid, "viewer")]
    assert guest.call("GET", f"projects/{pid}/files/data.csv").content == CSV
    # a viewer cannot change anything
    r = guest.call("PUT", f"projects/{pid}/files/new.csv", data=CSV)
    assert r.status_code == 403, r.text
    # other projects, their members, publishing templates, project creation: refused, nothing
    # shown (the template library itself is readable: an editor guest's server offers it)
    other = team["other"]
    for method, path, statuses in [
        ("GET", f"projects/{other['id']}", {404}),
        ("GET", f"projects/{other['id']}/members", {404}),
        ("GET", f"projects/{other['id']}/files", {404}),
        ("POST", "templates", {403}),
        ("POST", "projects", {403}),
        ("GET", f"projects/{pid}/invitations", {403}),
    ]:
        r = guest.call(method, path, json={"name": "x"} if method == "POST" else None)
        assert r.status_code in statuses, (path, r.status_code, r.text)
        assert other["name"] not in r.text  # the id is echoed only where the path names it
        assert other["id"] in path or other["id"] not in r.text
    # no way to the hub's own API or to anyone's server with the guest cookie
    hub_users = guest.session.get(f"{any_platform.url}/hub/api/users", timeout=30)
    assert hub_users.status_code in (401, 403), hub_users.text
    assert team["owner"].name not in hub_users.text
    server = guest.session.get(
        f"{any_platform.url}/user/{team['owner'].name}/api/contents",
        allow_redirects=False,
        timeout=30,
    )
    assert server.status_code in (302, 401, 403, 404, 424, 503), server.status_code
    assert "data.csv" not in server.text


def test_an_editor_guest_writes_with_the_xsrf_header_only(any_platform, team):
    pid = team["project"]["id"]
    guest = Guest(any_platform)
    assert (
        guest.accept(invite(any_platform, team["owner"], pid, "editor")["url"]).status_code == 302
    )
    r = guest.call("PUT", f"projects/{pid}/files/by-guest.csv", data=CSV)
    assert r.status_code == 201, r.text
    # the cookie alone (what another site's form could send) changes nothing
    r = guest.call("PUT", f"projects/{pid}/files/forged.csv", data=CSV, headers={"X-XSRFToken": ""})
    assert r.status_code == 403 and "X-XSRFToken" in r.json()["message"], r.text
    names = [f["path"] for f in guest.call("GET", f"projects/{pid}/files").json()["files"]]
    assert "by-guest.csv" in names and "forged.csv" not in names
    # an editor guest still is no owner
    r = guest.call("POST", f"projects/{pid}/members", json={"name": "x", "role": "viewer"})
    assert r.status_code == 403, r.text


def test_replayed_forged_and_revoked_links_show_nothing(any_platform, team):
    pid = team["project"]["id"]
    inv = invite(any_platform, team["owner"], pid)
    assert Guest(any_platform).accept(inv["url"]).status_code == 302
    for url in (inv["url"], inv["url"][:-4] + "AAAA", "/services/datadive/invite/" + "x" * 43):
        second = Guest(any_platform)
        page = second.open(url)
        assert page.status_code == 404 and "Ask the person who invited you" in page.text
        assert team["project"]["name"] not in page.text
        r = second.accept(url)
        assert r.status_code in (403, 404), r.text  # the form is refused, no guest made
        assert second.call("GET", "projects").status_code == 401
    unused = invite(any_platform, team["owner"], pid)
    any_platform.call("DELETE", f"projects/{pid}/invitations/{unused['id']}", team["owner"])
    assert Guest(any_platform).open(unused["url"]).status_code == 404


def test_two_guests_racing_for_one_link_get_one_guest(any_platform, team):
    """Single use holds under concurrency: one conditional UPDATE marks the invitation used."""
    from concurrent.futures import ThreadPoolExecutor

    inv = invite(any_platform, team["owner"], team["project"]["id"])
    racers = [Guest(any_platform) for _ in range(4)]
    pages = [r.open(inv["url"]) for r in racers]  # everyone has the form open
    assert all(p.status_code == 200 for p in pages)

    def post(g):
        m = g.session.cookies.get("_xsrf")
        data = {"_xsrf": m, "action": "new", "display_name": g.name, "password": g.password}
        return g.session.post(
            any_platform.url + inv["url"], data=data, allow_redirects=False, timeout=60
        ).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(post, racers))
    assert sorted(statuses) == [302, 404, 404, 404], statuses


@pytest.mark.parametrize("how", ["expired", "revoked"])
def test_an_ended_invitation_refuses_the_next_request(any_platform, team, how):
    pid = team["project"]["id"]
    inv = invite(
        any_platform, team["owner"], pid, "editor", seconds=3 if how == "expired" else None
    )
    guest = Guest(any_platform)
    assert guest.accept(inv["url"]).status_code == 302
    assert guest.call("GET", f"projects/{pid}").status_code == 200
    if how == "expired":
        time.sleep(3.5)
    else:
        r = any_platform.call("DELETE", f"projects/{pid}/invitations/{inv['id']}", team["owner"])
        assert r.status_code == 204
    for method, path in (("GET", f"projects/{pid}/files/data.csv"), ("GET", "projects")):
        r = guest.call(method, path)
        assert r.status_code == 401, r.text
        message = r.json()["message"]
        assert "invitation has ended" in message and team["owner"].name in message
        assert CSV.decode() not in r.text
    # signing in again does not bring it back
    r = guest.form(
        "/services/datadive/guest/login", display_name=guest.name, password=guest.password
    )
    assert r.status_code == 401 and "invitation has ended" in r.text


def test_a_returning_guest_signs_in_and_out(any_platform, team):
    pid = team["project"]["id"]
    first = Guest(any_platform)
    assert first.accept(invite(any_platform, team["owner"], pid)["url"]).status_code == 302
    later = Guest(any_platform, name=first.name.upper(), password="wrong password!")
    r = later.form("/services/datadive/guest/login", display_name=later.name, password="nope nope!")
    assert r.status_code == 401 and "Wrong display name or password" in r.text
    r = later.form(
        "/services/datadive/guest/login", display_name=later.name, password=first.password
    )
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/projects/{pid}")
    assert [p["id"] for p in later.call("GET", "projects").json()["projects"]] == [pid]
    r = later.form("/services/datadive/guest/logout")
    assert r.status_code == 200
    assert later.call("GET", "projects").status_code == 401
    # a name is taken once
    taken = Guest(any_platform, name=first.name)
    r = taken.accept(invite(any_platform, team["owner"], pid)["url"])
    assert r.status_code == 400 and "is taken" in r.text


def test_a_signed_in_guest_accepts_a_second_project(any_platform, team):
    guest = Guest(any_platform)
    assert (
        guest.accept(invite(any_platform, team["owner"], team["project"]["id"])["url"]).status_code
        == 302
    )
    inv = invite(any_platform, team["owner"], team["other"]["id"], "editor")
    assert f"Accept as guest {guest.name}" in guest.open(inv["url"]).text
    assert guest.accept(inv["url"], action="guest").status_code == 302
    roles = {p["id"]: p["role"] for p in guest.call("GET", "projects").json()["projects"]}
    assert roles == {team["project"]["id"]: "viewer", team["other"]["id"]: "editor"}
    # signing in again with two projects lands on the list of both
    guest.session.cookies.clear()
    r = guest.form(
        "/services/datadive/guest/login", display_name=guest.name, password=guest.password
    )
    assert r.status_code == 302, r.text
    listing = guest.open(r.headers["Location"])
    assert listing.status_code == 200, listing.text
    assert team["project"]["name"] in listing.text and team["other"]["name"] in listing.text


def test_the_audit_log_records_invitations(any_platform, team):
    pid = team["project"]["id"]
    inv = invite(any_platform, team["owner"], pid)
    guest = Guest(any_platform)
    assert guest.accept(inv["url"]).status_code == 302
    any_platform.call("DELETE", f"projects/{pid}/invitations/{inv['id']}", team["owner"])
    r = any_platform.call("GET", f"projects/{pid}/audit", team["owner"], params={"limit": 200})
    assert r.status_code == 200, r.text
    events = [(e["actor"], e["action"]) for e in r.json()["events"] if inv["id"] in e["target"]]
    assert (team["owner"].name, "invited") in events
    assert (f"guest:{guest.name}", "invitation accepted") in events
    assert (team["owner"].name, "invitation revoked") in events


@pytest.fixture(scope="module")
def guests_off(tmp_path_factory):
    """A platform of its own (SQLite) whose admin turned guests off, with a low form limit."""
    from datadive_platform import start_platform, stop_platform

    tmp = tmp_path_factory.mktemp("guests-off")
    config = tmp / "service_config.py"
    config.write_text(
        "c.DatadiveService.allow_guests = False\n"
        "c.DatadiveService.guest_form_posts_per_minute = 5\n"
    )
    p = start_platform(tmp, extra_env={"DATADIVE_SERVICE_CONFIG": str(config)})
    yield p
    stop_platform(p.proc)


def test_guests_turned_off_refuses_invitations_links_and_guests(guests_off):
    owner = guests_off.user()
    pid = guests_off.project(owner)["id"]
    r = guests_off.call("POST", f"projects/{pid}/invitations", owner, json={"role": "viewer"})
    assert r.status_code == 403 and "DatadiveService.allow_guests" in r.json()["message"], r.text
    page = Guest(guests_off).open("/services/datadive/guest/login")
    assert page.status_code == 403 and "DatadiveService.allow_guests" in page.text


def test_too_many_form_posts_answer_429(guests_off):
    """Guessing passwords is bounded per client address (5 a minute on this platform)."""
    g = Guest(guests_off)
    statuses = []
    for _ in range(8):
        r = g.form(
            "/services/datadive/guest/login",
            display_name=f"nobody-{uuid.uuid4().hex[:4]}",
            password="guess guess",
        )
        statuses.append(r.status_code)
        if r.status_code == 429:
            assert int(r.headers["Retry-After"]) >= 1
            break
    assert statuses[-1] == 429 and len(statuses) == 6, statuses


def test_settings_refuse_nonsense():
    from datadive_hub.service import DatadiveService

    app = DatadiveService()
    assert app.allow_guests is True and app.guest_servers is False
    with pytest.raises(Exception, match="not a valid memory specification"):
        app.guest_mem_limit = "lots"
    for trait in ("guest_session_hours", "invitation_default_days", "invitation_max_days"):
        with pytest.raises(Exception, match=f"{trait} must be at least 1"):
            setattr(app, trait, 0)
