"""The audit log: what members (and public link visitors) did in a project, for its owners."""

import json

import pytest
import requests

pytestmark = pytest.mark.hub


def test_the_audit_log_says_who_did_what_in_order(any_platform):
    owner, editor, viewer = any_platform.user(), any_platform.user(), any_platform.user()
    p = any_platform.project(owner)
    base = f"projects/{p['id']}"

    def ok(r):
        assert r.status_code < 400, r.text
        return r

    any_platform.share(owner, p["id"], (editor, "editor"), (viewer, "viewer"))
    ok(any_platform.call("PUT", f"{base}/files/a.csv", editor, data=b"x\n1\n"))
    ok(any_platform.call("GET", f"{base}/files/a.csv", viewer))
    # refused and failed requests are not things that happened
    assert any_platform.call("PUT", f"{base}/files/v.csv", viewer, data=b"x").status_code == 403
    assert any_platform.call("GET", f"{base}/files/missing.csv", viewer).status_code == 404
    ok(
        any_platform.call(
            "POST", f"{base}/files:move", editor, json={"from": "a.csv", "to": "b.csv"}
        )
    )
    link = ok(any_platform.call("POST", f"{base}/links", owner, json={"path": "b.csv"})).json()
    assert requests.get(any_platform.url + link["url"], timeout=30).status_code == 200
    ok(any_platform.call("DELETE", f"{base}/links/{link['id']}", owner))
    ok(any_platform.call("DELETE", f"{base}/files/b.csv", editor))

    r = ok(any_platform.call("GET", f"{base}/audit", owner))
    got = [(e["actor"], e["action"], e["target"]) for e in reversed(r.json()["events"])]
    assert got == [
        (owner.name, "shared", f"user {editor.name} as editor"),
        (owner.name, "shared", f"user {viewer.name} as viewer"),
        (editor.name, "uploaded", "a.csv"),
        (viewer.name, "downloaded", "a.csv"),
        (editor.name, "moved", "a.csv -> b.csv"),
        (owner.name, "published", f"b.csv (link {link['id']})"),
        ("(public)", "opened a public link", "b.csv"),
        (owner.name, "revoked a link", link["id"]),
        (editor.name, "deleted", "b.csv"),
    ]
    # paged, newest first
    first = ok(any_platform.call("GET", f"{base}/audit", owner, params={"limit": 4})).json()
    assert len(first["events"]) == 4 and first["next"] == first["events"][-1]["id"]
    rest = ok(
        any_platform.call("GET", f"{base}/audit", owner, params={"before": first["next"]})
    ).json()
    assert [e["id"] for e in first["events"] + rest["events"]] == [
        e["id"] for e in r.json()["events"]
    ]
    assert rest["next"] is None
    # exported as JSON lines, oldest first
    export = ok(any_platform.call("GET", f"{base}/audit/export", owner))
    assert export.headers["Content-Type"].startswith("application/jsonl")
    lines = [json.loads(line) for line in export.text.splitlines()]
    assert lines == list(reversed(r.json()["events"]))
    # only owners read it
    assert any_platform.call("GET", f"{base}/audit", editor).status_code == 403
    bad = any_platform.call("GET", f"{base}/audit", owner, params={"limit": "many"})
    assert bad.status_code == 400 and "whole number" in bad.json()["message"]
