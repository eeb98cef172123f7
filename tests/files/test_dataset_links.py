"""Datasets linked from other projects (issue 12), through the service, on the local directory
store and on S3 (moto, versioned): a link reads the pinned bytes after the source changes, costs
no copy (moto's own request log), updates say what changed, a copy is independent, the reader's
right on the source project is checked on every read, and the linked path cannot be written.
Every answer is checked against the OpenAPI document."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

V1 = b"id,score\n1,3.5\n2,4.0\n"
V2 = b"id,score,group\n1,3.5,a\n2,4.0,b\n3,5.0,a\n"


@dataclass
class Shared:
    """Project B (``team``) and project A: team's owner owns A, team's viewer is a viewer of
    A, team's editor is no member of A."""

    team: object  # tests/files/conftest.py Team
    a: str

    def call_a(self, method, rest, user=None, **kw):
        p = self.team.platform
        return p.call(method, f"projects/{self.a}/{rest}", user or self.team.owner, **kw)

    def put_a(self, path, data):
        r = self.call_a("PUT", f"files/{path}", data=data)
        assert r.status_code in (200, 201), r.text
        return r.json()

    def link(self, user=None, **body):
        body = {"source_project": self.a, "source_path": "survey.csv", **body}
        return self.team.call("POST", "datasets", user, json=body)

    def listing(self, user=None, **params) -> dict:
        r = self.team.call("GET", "files", user, params=params)
        assert r.status_code == 200, r.text
        return {f["path"]: f for f in r.json()["files"]}


@pytest.fixture
def shared(team):
    p = team.platform
    a = p.project(team.owner)["id"]
    r = p.call(
        "POST",
        f"projects/{a}/members",
        team.owner,
        json={"kind": "user", "name": team.viewer.name, "role": "viewer"},
    )
    assert r.status_code == 201, r.text
    s = Shared(team, a)
    s.put_a("survey.csv", V1)
    return s


def writes(log: list[dict]) -> list[str]:
    """The requests in moto's log that write objects (PutObject, CopyObject, multipart)."""
    return [f"{e['method']} {e['url']}" for e in log if e["method"] in ("PUT", "POST")]


def test_a_link_reads_the_pinned_bytes_after_the_source_changes_without_a_copy(shared, moto):
    team = shared.team
    if team.platform.kind == "s3":
        with moto.recording() as log:
            r = shared.link()
            assert r.status_code == 201, r.text
            assert team.get("survey.csv", team.viewer).content == V1
        # the endpoint's own request log: reads only, no PutObject / CopyObject for a link
        assert writes(log) == [], writes(log)
        assert any(e["method"] in ("GET", "HEAD") for e in log)
    else:
        r = shared.link()
        assert r.status_code == 201, r.text
        store = team.platform.data_dir / "store" / "projects" / team.pid
        assert not (store / "survey.csv").exists()  # nothing written into B
    link = r.json()
    assert link["path"] == "survey.csv" and link["source_project_id"] == shared.a
    shared.put_a("survey.csv", V2)
    # B still reads the pinned bytes, as a read-only file that says where it comes from
    got = team.get("survey.csv", team.viewer)
    assert got.status_code == 200 and got.content == V1
    assert got.headers["X-Datadive-Linked"] == shared.a
    entry = shared.listing(team.viewer)["survey.csv"]
    assert entry["writable"] is False and entry["size"] == len(V1)
    assert entry["linked"]["project_id"] == shared.a
    assert entry["linked"]["version_id"] == link["version_id"]
    # ranges and previews read the same pinned version
    r = team.get("survey.csv", team.viewer, headers={"Range": "bytes=0-1"})
    assert r.status_code == 206 and r.content == b"id"
    r = team.call("GET", "preview/survey.csv", team.viewer)
    assert r.status_code == 200 and [c["name"] for c in r.json()["columns"]] == ["id", "score"]
    # the list of links says a newer version exists in A
    r = team.call("GET", "datasets", team.viewer)
    (d,) = r.json()["datasets"]
    assert d["update_available"] is True and d["source_path"] == "survey.csv"


def test_a_link_in_a_folder_makes_the_folder_appear(shared):
    team = shared.team
    assert shared.link(path="inputs/survey.csv").status_code == 201
    r = team.call("GET", "files", team.viewer)
    assert "inputs" in [f["path"] for f in r.json()["folders"]]
    assert "inputs/survey.csv" in shared.listing(team.viewer, prefix="inputs")
    assert "inputs/survey.csv" in shared.listing(team.viewer, recursive="1")


def test_update_pins_the_latest_version_and_says_what_changed(shared):
    team = shared.team
    link = shared.link().json()
    r = team.call("POST", f"datasets/{link['id']}/update", json={})
    assert r.status_code == 200, r.text
    assert r.json()["changed"] is False and r.json()["applied"] is False
    shared.put_a("survey.csv", V2)
    r = team.call("POST", f"datasets/{link['id']}/update", json={"dry_run": True})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["changed"] is True and body["applied"] is False
    assert body["changes"]["rows"] == {"before": 2, "after": 3, "exact": True}
    assert body["changes"]["columns"] == {"added": ["group"], "removed": [], "retyped": []}
    assert team.get("survey.csv").content == V1  # a dry run changes nothing
    r = team.call("POST", f"datasets/{link['id']}/update")
    assert r.status_code == 200 and r.json()["applied"] is True, r.text
    assert r.json()["dataset"]["version_id"] != link["version_id"]
    assert team.get("survey.csv", team.viewer).content == V2
    assert shared.listing()["survey.csv"]["size"] == len(V2)


def test_copy_makes_an_independent_writable_file_with_a_store_side_copy(shared, moto):
    team = shared.team
    link = shared.link().json()
    shared.put_a("survey.csv", V2)
    if team.platform.kind == "s3":
        with moto.recording() as log:
            r = team.call("POST", f"datasets/{link['id']}/copy")
        puts = [e for e in log if e["method"] == "PUT"]
        # one CopyObject of the pinned version, no bytes uploaded
        assert len(puts) == 1, writes(log)
        headers = {k.lower(): v for k, v in puts[0]["headers"].items()}
        assert link["version_id"] in headers["x-amz-copy-source"]
        assert headers.get("content-length", "0") == "0"
    else:
        r = team.call("POST", f"datasets/{link['id']}/copy")
    assert r.status_code == 200, r.text
    assert r.json()["path"] == "survey.csv" and r.json()["size"] == len(V1)
    assert team.call("GET", "datasets").json()["datasets"] == []
    entry = shared.listing()["survey.csv"]
    assert "linked" not in entry
    # independent: A changes, B's copy does not; B can now write its copy
    shared.put_a("survey.csv", b"id\n9\n")
    assert team.get("survey.csv").content == V1
    assert team.put("survey.csv", V1 + b"4,1.0\n", team.editor).status_code == 200
    assert shared.call_a("GET", "files/survey.csv").content == b"id\n9\n"


def test_the_readers_right_on_the_source_project_is_checked_on_every_read(shared):
    team = shared.team
    assert shared.link().status_code == 201
    # a viewer of B who reads A: listed, readable
    assert team.get("survey.csv", team.viewer).content == V1
    # an editor of B who is no member of A: not listed, not readable
    assert "survey.csv" not in shared.listing(team.editor)
    r = team.get("survey.csv", team.editor)
    assert r.status_code == 404 and "cannot read" in r.json()["message"]
    assert team.call("GET", "preview/survey.csv", team.editor).status_code == 404
    (d,) = team.call("GET", "datasets", team.editor).json()["datasets"]
    assert d["readable"] is False and d["source_project"] is None and d["source_path"] is None
    # a stranger to B
    assert team.get("survey.csv", team.outsider).status_code == 404
    # the viewer loses their right on A: the link is gone for them at once
    p = team.platform
    r = p.call("DELETE", f"projects/{shared.a}/members/user/{team.viewer.name}", team.owner)
    assert r.status_code in (200, 204), r.text
    assert "survey.csv" not in shared.listing(team.viewer)
    assert team.get("survey.csv", team.viewer).status_code == 404
    # A deleted: nobody reads it through B
    assert p.call("DELETE", f"projects/{shared.a}", team.owner).status_code == 200
    assert team.get("survey.csv").status_code == 404
    assert "survey.csv" not in shared.listing()


def test_making_a_link_needs_editor_here_and_viewer_there(shared):
    team = shared.team
    # the editor of B is a stranger to A: A is not revealed
    r = shared.link(team.editor)
    assert r.status_code == 404 and shared.a in r.json()["message"]
    # the viewer of B reads A but may not change B
    assert shared.link(team.viewer).status_code == 403
    assert shared.link(team.outsider).status_code == 404
    # once a viewer of A, the editor of B may link
    p = team.platform
    r = p.call(
        "POST",
        f"projects/{shared.a}/members",
        team.owner,
        json={"kind": "user", "name": team.editor.name, "role": "viewer"},
    )
    assert r.status_code == 201, r.text
    assert shared.link(team.editor).status_code == 201


def test_the_linked_path_cannot_be_written_and_says_how_to_copy(shared):
    team = shared.team
    link = shared.link().json()
    checks = [
        team.put("survey.csv", b"x\n"),
        team.put("survey.csv/inside.csv", b"x\n"),
        team.call("DELETE", "files/survey.csv"),
        team.call("POST", "files:copy", json={"from": "survey.csv", "to": "c.csv"}),
        team.call("POST", "files:move", json={"from": "survey.csv", "to": "m.csv"}),
        team.call("POST", "versions/survey.csv", json={"version_id": link["version_id"]}),
    ]
    for r in checks:
        assert r.status_code == 409, (r.request.method, r.request.url, r.text)
        assert "datasets/<id>/copy" in r.json()["message"]
    assert team.get("survey.csv").content == V1
    assert team.call("DELETE", f"datasets/{link['id']}").status_code == 204
    assert team.get("survey.csv").status_code == 404
    assert shared.call_a("GET", "files/survey.csv").content == V1  # A keeps its file


def test_bad_links_are_refused_with_the_fix(shared):
    team = shared.team
    r = team.call("POST", "datasets", json={"source_path": "survey.csv"})
    assert r.status_code == 400 and "source_project" in r.json()["message"]
    r = shared.link(source_path="nope.csv")
    assert r.status_code == 404 and "nope.csv" in r.json()["message"]
    r = shared.link(version="not-a-version")
    assert r.status_code == 404
    r = shared.link(source_path="../x.csv")
    assert r.status_code == 400
    r = shared.link(source_project=team.pid)
    assert r.status_code == 400 and "files:copy" in r.json()["message"]
    assert team.put("survey.csv", b"mine\n").status_code == 201
    r = shared.link()
    assert r.status_code == 409 and "already exists" in r.json()["message"]
    assert shared.link(path="in/survey.csv").status_code == 201
    r = shared.link(path="in/survey.csv")
    assert r.status_code == 409 and "already a linked dataset" in r.json()["message"]
    assert team.call("GET", "files/in/survey.csv").content == V1
    assert team.call("DELETE", "datasets/no-such-link").status_code == 404


async def test_a_user_servers_store_sees_a_read_only_file_it_cannot_change(shared):
    """What a user server's working copy builds on: HubServiceStore marks the linked file
    read-only in listings and downloads, and a write is refused with the service's reason."""
    from datadive_contents.stores import Refused
    from datadive_contents.stores.hub import HubServiceStore

    team = shared.team
    assert shared.link().status_code == 201
    store = HubServiceStore(
        team.pid, service_url=f"{team.platform.url}/services/datadive/", token=team.owner.token
    )
    try:
        listing = await store.list("")
        (info,) = [f for f in listing.files if f.key == "survey.csv"]
        assert info.read_only and info.size == len(V1)
        data, got = await store.get("survey.csv")
        assert data == V1 and got.read_only
        assert (await store.head("survey.csv")).read_only
        with pytest.raises(Refused, match="linked"):
            await store.put("survey.csv", b"x\n")
        with pytest.raises(Refused, match="linked"):
            await store.delete("survey.csv")
    finally:
        await store.close()
    assert team.get("survey.csv").content == V1
