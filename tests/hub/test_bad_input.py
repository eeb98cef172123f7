"""Bad input gets a 4xx with a message that says what to do, and nothing half-written."""

import sqlite3
import threading

import pytest

pytestmark = pytest.mark.hub


@pytest.fixture(scope="module")
def owner(any_platform):
    return any_platform.user()


def error(r, status):
    assert r.status_code == status, r.text
    body = r.json()
    assert body["status"] == status
    assert len(body["message"]) > 10
    return body["message"]


def names(platform, user):
    return [p["name"] for p in platform.call("GET", "projects", user).json()["projects"]]


@pytest.mark.parametrize(
    "name,fragment",
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("x" * 101, "at most 100"),
        ("a/b", "folder name"),
        (".hidden", "folder name"),
        ("tab\there", "folder name"),
        (42, "must be a string"),
    ],
)
def test_bad_project_names(any_platform, owner, name, fragment):
    before = names(any_platform, owner)
    msg = error(any_platform.call("POST", "projects", owner, json={"name": name}), 400)
    assert fragment in msg
    assert names(any_platform, owner) == before  # nothing half-written


def test_duplicate_name_is_409_case_insensitively(any_platform, owner):
    any_platform.project(owner, "Thesis data")
    msg = error(any_platform.call("POST", "projects", owner, json={"name": "thesis DATA"}), 409)
    assert "choose another name" in msg
    assert names(any_platform, owner).count("Thesis data") == 1
    # another person may use the same name
    other = any_platform.user()
    any_platform.project(other, "Thesis data")


@pytest.mark.parametrize(
    "body,fragment",
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b"{}", "Missing field(s): name"),
    ],
)
def test_malformed_body(any_platform, owner, body, fragment):
    r = any_platform.call(
        "POST", "projects", owner, data=body, headers={"Content-Type": "application/json"}
    )
    assert fragment in error(r, 400)


def test_unknown_ids(any_platform, owner):
    assert "list yours" in error(any_platform.call("GET", "projects/nope", owner), 404)
    p = any_platform.project(owner)
    r = any_platform.call("GET", f"projects/{p['id']}/notebooks/nope", owner)
    assert "No notebook" in error(r, 404)
    r = any_platform.call(
        "PATCH", f"projects/{p['id']}/members/user/ghost", owner, json={"role": "viewer"}
    )
    assert "not a member" in error(r, 404)


def test_unknown_users_and_groups_and_roles(any_platform, owner):
    p = any_platform.project(owner)
    members = f"projects/{p['id']}/members"
    for bad in ("a/b", "two words", "x" * 256):
        r = any_platform.call("POST", members, owner, json={"name": bad, "role": "viewer"})
        assert "not a name that could sign in here" in error(r, 400)
    r = any_platform.call(
        "POST", members, owner, json={"kind": "group", "name": "no-such-group", "role": "viewer"}
    )
    assert "no group named 'no-such-group'" in error(r, 400)
    someone = any_platform.user()
    r = any_platform.call("POST", members, owner, json={"name": someone.name, "role": "boss"})
    assert "viewer, editor, owner" in error(r, 400)
    listed = any_platform.call("GET", members, owner).json()["members"]
    assert [m["name"] for m in listed] == [owner.name]


def test_group_membership_grants_access(any_platform, owner):
    p = any_platform.project(owner)
    member = any_platform.user(groups=("lab-x",))
    assert any_platform.call("GET", f"projects/{p['id']}", member).status_code == 404
    r = any_platform.call(
        "POST",
        f"projects/{p['id']}/members",
        owner,
        json={"kind": "group", "name": "lab-x", "role": "editor"},
    )
    assert r.status_code == 201, r.text
    got = any_platform.call("GET", f"projects/{p['id']}", member).json()
    assert got["role"] == "editor"
    assert p["id"] in [
        q["id"] for q in any_platform.call("GET", "projects", member).json()["projects"]
    ]


def test_a_project_always_keeps_an_owner(any_platform, owner):
    p = any_platform.project(owner)
    me = f"projects/{p['id']}/members/user/{owner.name}"
    assert "last owner" in error(any_platform.call("DELETE", me, owner), 409)
    assert "last owner" in error(
        any_platform.call("PATCH", me, owner, json={"role": "viewer"}), 409
    )
    second = any_platform.user()
    r = any_platform.call(
        "POST", f"projects/{p['id']}/members", owner, json={"name": second.name, "role": "owner"}
    )
    assert r.status_code == 201
    r = any_platform.call("PATCH", me, owner, json={"role": "viewer"})
    assert r.status_code == 200 and r.json()["role"] == "viewer"


def test_delete_restore_purge(any_platform, owner):
    p = any_platform.project(owner, "To be removed")
    pid = p["id"]
    assert "deleted" in error(any_platform.call("POST", f"projects/{pid}/purge", owner), 404)
    r = any_platform.call("DELETE", f"projects/{pid}", owner)
    assert r.status_code == 200 and r.json()["deleted"] is True
    assert "To be removed" not in names(any_platform, owner)
    deleted = any_platform.call("GET", "projects?deleted=1", owner).json()["projects"]
    assert pid in [q["id"] for q in deleted]
    # the name is free again while deleted; restoring then clashes and says so
    clash = any_platform.project(owner, "To be removed")
    assert "choose another name" in error(
        any_platform.call("POST", f"projects/{pid}/restore", owner), 409
    )
    any_platform.call("DELETE", f"projects/{clash['id']}", owner)
    r = any_platform.call("POST", f"projects/{pid}/restore", owner)
    assert r.status_code == 200 and r.json()["deleted"] is False
    any_platform.call("DELETE", f"projects/{pid}", owner)
    r = any_platform.call("POST", f"projects/{pid}/purge", owner)
    assert r.status_code == 200 and r.json()["purged"] is True
    assert error(any_platform.call("POST", f"projects/{pid}/restore", owner), 404)


def test_notebooks_create_rename_archive_delete(any_platform, owner):
    p = any_platform.project(owner)
    nbs = f"projects/{p['id']}/notebooks"
    nb = any_platform.call("POST", nbs, owner, json={"name": "first"}).json()
    assert "already exists" in error(
        any_platform.call("POST", nbs, owner, json={"name": "first"}), 409
    )
    assert "rejected" in error(
        any_platform.call("POST", nbs, owner, json={"path": "../escape"}), 400
    )
    r = any_platform.call("PATCH", f"{nbs}/{nb['id']}", owner, json={"name": "renamed"})
    assert r.status_code == 200 and r.json()["path"] == "renamed.ipynb"
    r = any_platform.call("PATCH", f"{nbs}/{nb['id']}", owner, json={"archived": True})
    assert r.json()["archived"] is True
    assert any_platform.call("GET", nbs, owner).json()["notebooks"] == []
    listed = any_platform.call("GET", f"{nbs}?archived=1", owner).json()["notebooks"]
    assert [n["path"] for n in listed] == ["renamed.ipynb"]
    assert any_platform.call("DELETE", f"{nbs}/{nb['id']}", owner).status_code == 204
    assert any_platform.call("GET", f"{nbs}?archived=1", owner).json()["notebooks"] == []


def test_locked_database_answers_503_then_recovers(platform):
    """SQLite held by another writer: 503 with a message, and the next request works."""
    owner = platform.user()
    db = sqlite3.connect(platform.data_dir / "datadive.sqlite", timeout=1, isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    try:
        r = platform.call("POST", "projects", owner, json={"name": "while locked"})
        assert r.status_code == 503, r.text
        assert "database is unavailable or busy" in r.json()["message"]
    finally:
        db.execute("ROLLBACK")
        db.close()
    r = platform.call("POST", "projects", owner, json={"name": "while locked"})
    assert r.status_code == 201, r.text


class TcpRelay:
    """Forwards 127.0.0.1:<port> to a target; ``stop()`` makes the target unreachable."""

    def __init__(self, target_port: int):
        import socket

        self.target_port = target_port
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(50)
        self.port = self.sock.getsockname()[1]
        self.up = threading.Event()
        self.up.set()
        self.conns: list = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _pipe(self, a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.close()
                except OSError:
                    pass

    def _accept(self):
        import socket

        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            if not self.up.is_set():
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self.conns += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    def stop(self):
        self.up.clear()
        for s in self.conns:
            try:
                s.close()
            except OSError:
                pass
        self.conns = []

    def start(self):
        self.up.set()


@pytest.mark.postgres
def test_unreachable_postgres_answers_503_then_recovers(tmp_path_factory, postgres_url):
    from datadive_platform import start_platform, stop_platform

    relay = TcpRelay(5432)
    url = postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{relay.port}")
    p = start_platform(tmp_path_factory.mktemp("pg-relay"), db_url=url, db_kind="postgresql")
    try:
        owner = p.user()
        assert p.call("POST", "projects", owner, json={"name": "before"}).status_code == 201
        relay.stop()
        r = p.call("GET", "projects", owner)
        assert r.status_code == 503, r.text
        assert "database is unavailable" in r.json()["message"]
        relay.start()
        r = p.call("GET", "projects", owner)
        assert r.status_code == 200, r.text
        assert [x["name"] for x in r.json()["projects"]] == ["before"]
    finally:
        stop_platform(p.proc)
        relay.sock.close()


def test_project_list_is_paged_in_name_order(any_platform):
    """No response grows with the number of projects: pages of ``limit``, continued by ``next``,
    in name order (also after a rename), through direct and group memberships alike."""
    user = any_platform.user(groups=("paging-lab",))
    made = [f"Paged {i:02d}" for i in range(7)]
    for name in reversed(made):
        any_platform.project(user, name)
    other = any_platform.user()
    shared = any_platform.project(other, "Paged 03b via group")
    r = any_platform.call(
        "POST",
        f"projects/{shared['id']}/members",
        other,
        json={"kind": "group", "name": "paging-lab", "role": "viewer"},
    )
    assert r.status_code == 201, r.text

    def listing(limit):
        seen, cursor, pages = [], None, 0
        while True:
            q = f"projects?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
            body = any_platform.call("GET", q, user).json()
            assert len(body["projects"]) <= limit
            seen += [p["name"] for p in body["projects"]]
            pages += 1
            cursor = body["next"]
            if cursor is None:
                return seen, pages

    expected = sorted([*made, "Paged 03b via group"], key=str.casefold)
    assert listing(3) == (expected, 3)
    mine = {
        p["name"]: p["id"] for p in any_platform.call("GET", "projects", user).json()["projects"]
    }
    r = any_platform.call("PATCH", f"projects/{mine['Paged 00']}", user, json={"name": "Zz last"})
    assert r.status_code == 200, r.text
    assert listing(4)[0] == [*expected[1:], "Zz last"]
    # a page larger than the service's maximum is capped, not refused
    body = any_platform.call("GET", "projects?limit=100000", user).json()
    assert len(body["projects"]) == 8 and body["next"] is None
    assert any_platform.call("GET", "projects?limit=0", user).status_code == 400
    msg = error(any_platform.call("GET", "projects?cursor=bogus!", user), 400)
    assert "'next' value" in msg
