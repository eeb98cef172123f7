"""Guest servers: an editor guest (no hub account) opens its project in JupyterLab on a server of
its own, with the memory limit the hub admin set; it sees that one project, cannot reach the
hub's users or other servers; a viewer guest gets no server; when the invitation is revoked or
expires, the guest's hub user is removed and its server stopped.

It runs on ``datadive up`` as root with guest servers on (each server runs as its own system
account, as in production); the shared platform (guest servers off) checks the refusal."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import pytest
import requests
from guest_client import XSRF_INPUT, Guest, invite
from user_server import execute

from .test_isolation import server_python  # noqa: F401 - fixture
from .test_project_binding import put

pytestmark = [pytest.mark.hub, pytest.mark.slow]

MEM_LIMIT = 768 * 1024**2
FORM = re.compile(r'<form method="post" action="([^"]*guest/server/[^"]+)"')


@pytest.fixture(scope="module")
def gs(server_python):  # noqa: F811
    """``datadive up`` as root, guest servers on (768 MB), a sweep every 2 s."""
    from datadive_platform import start_platform, stop_platform

    top = Path(tempfile.mkdtemp(prefix="datadive-gs-"))
    top.chmod(0o711)
    config = top / "service_config.py"
    config.write_text(
        "c.DatadiveService.guest_servers = True\n"
        f"c.DatadiveService.guest_mem_limit = {MEM_LIMIT}\n"
        "c.DatadiveService.guest_sweep_seconds = 2\n"
        "c.DatadiveService.guest_form_posts_per_minute = 1_000_000\n"
    )
    p = start_platform(
        top,
        extra_env={"DATADIVE_SERVER_PYTHON": server_python, "DATADIVE_SERVICE_CONFIG": str(config)},
    )
    yield p
    stop_platform(p.proc)
    for line in subprocess.run(["getent", "passwd"], capture_output=True, text=True).stdout.split(
        "\n"
    ):
        if "Datadive user datadive-guest-" in line:
            subprocess.run(["userdel", line.split(":")[0]], capture_output=True)
    shutil.rmtree(top, ignore_errors=True)


def log_about(p, name: str, lines: int = 80) -> str:
    """The platform logs' last lines that mention ``name`` or a warning (for a failure)."""
    hits = []
    for log in sorted((p.data_dir / "logs").glob("*.log")):
        for line in log.read_text(errors="replace").splitlines():
            if name in line or " W " in line or " E " in line or "404" in line:
                hits.append(f"{log.name}: {line}")
    return "\n".join(hits[-lines:])


def open_in_lab(guest: Guest, project_id: str) -> requests.Response:
    """The project page's "Open in JupyterLab" form, posted (no redirects followed)."""
    page = guest.open(f"/services/datadive/projects/{project_id}")
    assert page.status_code == 200, page.text
    form = FORM.search(page.text)
    assert form, "no Open in JupyterLab form on the guest's project page"
    xsrf = XSRF_INPUT.search(page.text[form.start() :]).group(1)
    return guest.session.post(
        guest.platform.url + form.group(1).replace("&amp;", "&"),
        data={"_xsrf": xsrf},
        allow_redirects=False,
        timeout=60,
    )


def post_without_form(guest: Guest, project_id: str) -> requests.Response:
    """A guest whose page offers no "Open in JupyterLab" posts to its route anyway."""
    page = guest.open(f"/services/datadive/projects/{project_id}")
    assert page.status_code == 200 and not FORM.search(page.text)
    return guest.session.post(
        f"{guest.platform.url}/services/datadive/guest/server/{project_id}",
        data={"_xsrf": guest.xsrf},
        allow_redirects=False,
        timeout=60,
    )


def hub_user(platform, name: str) -> dict | None:
    r = platform.hub("GET", f"users/{name}")
    return r.json() if r.status_code == 200 else None


def wait_ready(platform, name: str, timeout: float = 180) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        model = hub_user(platform, name) or {}
        server = (model.get("servers") or {}).get("")
        if server and server.get("ready"):
            return server["url"]
        time.sleep(1)
    raise AssertionError(f"{name}'s server did not become ready in {timeout}s")


def wait_gone(platform, name: str, timeout: float = 60) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if hub_user(platform, name) is None:
            return time.monotonic() - t0
        time.sleep(0.5)
    raise AssertionError(f"hub user {name} still exists {timeout}s after its invitation ended")


def test_an_editor_guest_runs_code_on_its_own_server_and_loses_it_when_revoked(gs):
    owner = gs.user()
    project = gs.project(owner, f"Shared {uuid.uuid4().hex[:4]}")
    other = gs.project(owner, f"Private {uuid.uuid4().hex[:4]}")
    pid = project["id"]
    put(gs, owner, pid, "data.csv", b"id,score\n1,3.5\n2,4.0\n")
    inv = invite(gs, owner, pid, "editor")
    guest = Guest(gs)
    assert guest.accept(inv["url"]).status_code == 302

    r = open_in_lab(guest, pid)
    assert r.status_code == 302, r.text
    login = r.headers["Location"]
    assert urlparse(login).path == "/hub/datadive-guest-login"
    # the link is bound to the browser it was given to: opened in another one (someone sent it
    # to sign a victim in as the guest), it is refused, and spent
    elsewhere = requests.get(gs.url + login, allow_redirects=False, timeout=60)
    assert elsewhere.status_code == 404 and "opened in another browser" in elsewhere.text
    assert guest.session.get(gs.url + login, allow_redirects=False, timeout=60).status_code == 404
    login = open_in_lab(guest, pid).headers["Location"]
    r = guest.session.get(gs.url + login, allow_redirects=False, timeout=60)
    assert r.status_code == 302, r.text
    spawn = urlparse(r.headers["Location"])
    name = spawn.path.rsplit("/", 1)[-1]
    assert name.startswith("datadive-guest-")
    assert parse_qs(spawn.query)["next"][0] == f"/user/{name}/lab/tree/{project['name']}"
    # the ticket worked once: replayed, even by the same browser, it is refused
    again = guest.session.get(gs.url + login, allow_redirects=False, timeout=60)
    assert again.status_code == 404 and "already used" in again.text

    # the browser, now signed in to the hub as the guest, starts the server and lands in Lab
    lab = guest.session.get(gs.url + r.headers["Location"], timeout=180)
    wait_ready(gs, name)
    # when the spawn outlasts the hub's progress page, open Lab as that page's script would (the
    # 404s once seen here were Lab failing to load in the server: see test_isolation.py's
    # test_jupyterlab_started_as_root_writes_nothing_the_users_servers_read)
    deadline = time.monotonic() + 30
    while not (lab.ok and unquote(lab.url).endswith(f"/lab/tree/{project['name']}")):
        assert time.monotonic() < deadline, (lab.status_code, lab.url, log_about(gs, name))
        time.sleep(2)
        lab = guest.session.get(f"{gs.url}/user/{name}/lab/tree/{project['name']}", timeout=60)
    assert lab.status_code == 200, lab.text
    assert unquote(lab.url).endswith(f"/user/{name}/lab/tree/{project['name']}"), lab.url
    listing = guest.session.get(f"{gs.url}/user/{name}/api/contents/", timeout=60).json()
    assert [e["name"] for e in listing["content"]] == [project["name"]]  # not `other`
    assert other["name"] not in str(listing)

    # a token of the guest's hub user (minted by the admin for the test) to act as its server
    r = gs.hub("POST", f"users/{name}/tokens", json={"note": "test", "expires_in": 600})
    assert r.status_code == 201, r.text
    headers = {"Authorization": f"token {r.json()['token']}"}
    assert requests.get(f"{gs.url}/hub/api/users", headers=headers, timeout=30).status_code == 403
    mine = requests.get(f"{gs.url}/user/{owner.name}/api/contents/", headers=headers, timeout=30)
    assert mine.status_code in (403, 404, 503), mine.status_code  # never the owner's files
    base = f"{gs.url}/user/{name}/"
    r = requests.post(
        f"{base}api/sessions",
        headers=headers,
        timeout=120,
        json={
            "path": f"{project['name']}/work.ipynb",
            "type": "notebook",
            "name": "work.ipynb",
            "kernel": {"name": "python3"},
        },
    )
    assert r.status_code == 201, r.text
    kid = r.json()["kernel"]["id"]
    url = base.replace("http://", "ws://") + f"api/kernels/{kid}/channels"
    code = (
        "import resource, pandas as pd\n"
        "print(resource.getrlimit(resource.RLIMIT_DATA)[0])\n"
        "print(pd.read_csv('data.csv').shape)\n"
        "try:\n    big = bytearray(2 * 1024**3)\n    print('allocated')\n"
        "except MemoryError:\n    print('MemoryError')\n"
        "open('from-guest.txt', 'w').write('written by the guest')\n"
    )
    result = asyncio.run(execute(url, code, headers, timeout=120))
    assert result["error"] is None, result["error"]
    out = result["stdout"]
    assert out.split() == [str(MEM_LIMIT), "(2,", "2)", "MemoryError"], out
    # what the guest's kernel wrote reaches the project, written by the guest
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        got = gs.call("GET", f"projects/{pid}/files/from-guest.txt", owner)
        if got.status_code == 200:
            break
        time.sleep(1)
    assert got.status_code == 200 and got.content == b"written by the guest"
    versions = gs.call("GET", f"projects/{pid}/versions/from-guest.txt", owner).json()
    assert versions["versions"][0]["author"] == f"guest:{guest.name}"

    # revoked: the hub user is removed (its server stops with it) and its sign-in ends
    r = gs.call("DELETE", f"projects/{pid}/invitations/{inv['id']}", owner)
    assert r.status_code == 204
    took = wait_gone(gs, name, timeout=30)
    print(f"guest server removed {took:.1f} s after the revocation")
    home = guest.session.get(f"{gs.url}/hub/home", allow_redirects=False, timeout=30)
    assert home.status_code == 302 and "/hub/login" in home.headers["Location"]
    # the server is gone (its URL ends at the hub's sign-in) and its token with the user
    gone = requests.get(f"{base}api/contents/", headers=headers, timeout=30)
    assert urlparse(gone.url).path == "/hub/login" and project["name"] not in gone.text


def test_a_viewer_guest_gets_no_server_and_an_expired_guest_loses_its_server(gs):
    owner = gs.user()
    pid = gs.project(owner)["id"]
    viewer = Guest(gs)
    assert viewer.accept(invite(gs, owner, pid, "viewer")["url"]).status_code == 302
    r = post_without_form(viewer, pid)
    assert r.status_code == 403 and "needs an editor invitation" in r.text

    short = Guest(gs)
    assert short.accept(invite(gs, owner, pid, "editor", seconds=40)["url"]).status_code == 302
    r = open_in_lab(short, pid)
    r = short.session.get(gs.url + r.headers["Location"], allow_redirects=False, timeout=60)
    name = urlparse(r.headers["Location"]).path.rsplit("/", 1)[-1]
    short.session.get(gs.url + r.headers["Location"], timeout=180)
    wait_ready(gs, name)
    took = wait_gone(gs, name, timeout=90)  # the invitation ends within 40 s, the sweep follows
    print(f"expired guest's server removed after {took:.1f} s")


def test_guest_servers_off_refuse_with_the_setting_to_change(platform):
    owner = platform.user()
    pid = platform.project(owner)["id"]
    guest = Guest(platform)
    assert guest.accept(invite(platform, owner, pid, "editor")["url"]).status_code == 302
    r = post_without_form(guest, pid)
    assert r.status_code == 403 and "DatadiveService.guest_servers" in r.text
    # nobody signs in to the hub under a guest's name the ordinary way
    r = requests.get(
        f"{platform.url}/hub/datadive-guest-login?ticket=made-up", allow_redirects=False, timeout=30
    )
    assert r.status_code == 404


def test_ordinary_sign_in_cannot_take_a_guest_name():
    from datadive_hub.auth.local import LocalPasswordAuthenticator

    auth = LocalPasswordAuthenticator()
    assert auth.check_blocked_users("datadive-guest-0123") is False
    assert auth.check_blocked_users("ana") is True
