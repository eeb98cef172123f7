"""Membership on every file route, hostile paths, and previews through the running service."""

from __future__ import annotations

import http.client
import io
import os
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
import pytest

pytestmark = pytest.mark.hub

# (method, path after projects/{id}/, kwargs, minimum role) for every file operation
ROUTES = [
    ("GET", "files", {}, "viewer"),
    ("GET", "files/data/a.csv", {}, "viewer"),
    ("HEAD", "files/data/a.csv", {}, "viewer"),
    ("GET", "versions/data/a.csv", {}, "viewer"),
    ("GET", "preview/data/a.csv", {}, "viewer"),
    ("PUT", "files/data/new.csv", {"data": b"x,y\n"}, "editor"),
    ("POST", "files:copy", {"json": {"from": "data/a.csv", "to": "data/c.csv"}}, "editor"),
    ("POST", "files:move", {"json": {"from": "data/c.csv", "to": "data/d.csv"}}, "editor"),
    ("POST", "versions/data/a.csv", {"json": {"version_id": "VID"}}, "editor"),
    ("DELETE", "files/data/d.csv", {}, "editor"),
]
RANK = {"outsider": 0, "viewer": 1, "editor": 2, "owner": 3}


def _kw(kw: dict, vid: str) -> dict:
    if "json" in kw and kw["json"].get("version_id") == "VID":
        return {"json": {"version_id": vid}}
    return kw


def test_membership_is_checked_on_every_route(team):
    assert team.put("data/a.csv", b"a,b\n1,2\n").status_code == 201
    vid = team.put("data/a.csv", b"a,b\n3,4\n").json()["version_id"] or "none"
    for who in ("outsider", "viewer", "editor"):
        user = getattr(team, who)
        for method, rest, kw, need in ROUTES:
            r = team.call(method, rest, user, **_kw(kw, vid))
            if who == "outsider":
                expected = {404}  # the project's existence is not revealed
            elif RANK[who] < RANK[need]:
                expected = {403}
            else:
                expected = {200, 201}
            assert r.status_code in expected, (who, method, rest, r.status_code, r.text[:200])
            if r.status_code in (403, 404) and method != "HEAD":
                assert r.json()["message"]
    # without a token: 401 everywhere
    for method, rest, kw, _ in ROUTES:
        r = team.call(method, rest, False, **_kw(kw, vid))
        assert r.status_code == 401, (method, rest, r.status_code)


def test_hub_admin_may_do_everything(team):
    admin = team.platform.admin
    assert team.put("x.txt", b"1", admin).status_code == 201
    assert team.get("x.txt", team.platform.admin).content == b"1"


HOSTILE = [
    "../escape.txt",
    "a/../../escape.txt",
    "%2e%2e/escape.txt",
    "%252e%252e/escape.txt",
    "a%2f..%2f..%2fescape.txt",
    "..%5cescape.txt",
    "a\\..\\escape.txt",
    "nul%00byte.txt",
    "/etc/passwd",
    "//etc/passwd",
    "%ef%bc%8e%ef%bc%8e/escape.txt",  # fullwidth dots
    "a/%e2%80%ae/txt.exe",  # right-to-left override
    "zero%e2%80%8bwidth.txt",
    ".datadive-versions/x",
    "x" * 300 + ".txt",
    "/".join(["deep"] * 300),
]


def raw(team, method: str, rest: str, body: bytes | None = None, user=None):
    """Send the path exactly as written (no client-side normalisation of '..')."""
    u = urlparse(team.platform.api)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    user = user or team.owner
    path = f"{u.path}/projects/{team.pid}/{rest}"
    headers = dict(user.headers)
    if body is not None:
        headers["Content-Length"] = str(len(body))
    conn.request(method, path.replace("\\", "%5C"), body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def _all_keys(platform) -> list[str]:
    """Every key (every version) the platform's store holds, relative to its root. On S3 only
    the platform's own prefix is listed: other tests share the bucket under other prefixes."""
    if platform.kind == "s3":
        pages = platform.s3.get_paginator("list_object_versions").paginate(
            Bucket=platform.bucket, Prefix=platform.store_prefix
        )
        keys = [
            v["Key"]
            for page in pages
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        assert all(k.startswith(platform.store_prefix) for k in keys), keys[:5]
        return [k[len(platform.store_prefix) :] for k in keys]
    root = Path(platform.data_dir) / "store"
    return [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()]


def test_hostile_paths_are_refused_and_touch_nothing_outside(team):
    p = team.platform
    other_owner = p.user()
    other = p.project(other_owner)
    r = p.call("PUT", f"projects/{other['id']}/files/secret.txt", other_owner, data=b"SECRET")
    assert r.status_code == 201
    before = set(_all_keys(p))
    for path in HOSTILE:
        for method, rest, body in (
            ("PUT", f"files/{path}", b"pwned"),
            ("GET", f"files/{path}", None),
            ("DELETE", f"files/{path}", None),
            ("GET", f"preview/{path}", None),
            ("GET", f"versions/{path}", None),
            ("GET", f"files?prefix={path}", None),
        ):
            status, data = raw(team, method, rest, body)
            # 4xx; a path the proxy resolves elsewhere may also answer there (never a file)
            assert 400 <= status < 500 or (
                status == 200 and method == "GET" and not rest.startswith("files/")
            ), (method, rest, status, data[:200])
            assert b"SECRET" not in data and b"root:" not in data
    for path in ("../" + other["id"] + "/secret.txt", "a/../../" + other["id"] + "/secret.txt"):
        r = team.call("POST", "files:copy", json={"from": path, "to": "stolen.txt"})
        assert r.status_code == 400 and "rejected" in r.json()["message"]
    after = set(_all_keys(p))
    assert after == before, f"hostile requests changed the store: {sorted(after ^ before)}"
    assert team.call("GET", "files").json()["files"] == []
    assert (
        p.call("GET", f"projects/{other['id']}/files/secret.txt", other_owner).content == b"SECRET"
    )
    # keys only ever live under projects/<id>/ (and snapshots' manifests under snapshots/<id>/)
    assert all(k.startswith(("projects/", "snapshots/")) for k in after if not k.startswith(".")), (
        sorted(after)
    )


def _formats() -> dict[str, bytes]:
    df = pd.DataFrame(
        {"id": range(5000), "x": [i / 7 for i in range(5000)], "g": ["a", "b"] * 2500}
    )
    out = {}
    for name, write in (
        ("t.csv", lambda b: df.to_csv(b, index=False)),
        ("t.tsv", lambda b: df.to_csv(b, index=False, sep="\t")),
        ("t.parquet", lambda b: df.to_parquet(b, row_group_size=1000)),
        ("t.xlsx", lambda b: df.to_excel(b, index=False)),
        ("t.json", lambda b: df.to_json(b, orient="records")),
        ("t.jsonl", lambda b: df.to_json(b, orient="records", lines=True)),
    ):
        buf = io.BytesIO()
        write(buf)
        out[name] = buf.getvalue()
    return out


def test_preview_of_each_format_through_the_service(team):
    for name, data in _formats().items():
        assert team.put(f"p/{name}", data).status_code == 201
        r = team.call("GET", f"preview/p/{name}", team.viewer, params={"rows": "20"})
        assert r.status_code == 200, (name, r.text)
        body = r.json()
        assert body["path"] == f"p/{name}" and len(body["rows"]) == 20
        assert [(c["name"], c["type"]) for c in body["columns"]] == [
            ("id", "integer"),
            ("x", "number"),
            ("g", "string"),
        ], name
        assert body["rows"][3][:1] == [3] and body["truncated"] is True
        assert body["size"] == len(data)
        if len(data) > 200_000:
            assert body["bytes_read"] < len(data), (name, body["bytes_read"], len(data))


def test_preview_errors_say_what_to_do(team):
    team.put("img.png", os.urandom(100))
    r = team.call("GET", "preview/img.png")
    assert (
        r.status_code == 415 and ".csv" in r.json()["message"] and "download" in r.json()["message"]
    )
    team.put("broken.parquet", b"nope")
    r = team.call("GET", "preview/broken.parquet")
    assert r.status_code == 422 and "Parquet" in r.json()["message"]
    r = team.call("GET", "preview/missing.csv")
    assert r.status_code == 404
    team.put("ok.csv", b"a\n1\n")
    for bad in ("-1", "abc", "100000"):
        r = team.call("GET", "preview/ok.csv", params={"rows": bad})
        assert r.status_code == 400 and "rows must be" in r.json()["message"]


def test_preview_row_cap_through_the_service(team):
    """docs/files-api.md: ``rows`` from 0 to 1000 — 1000 answers 1000 rows, 1001 a 400."""
    df = pd.DataFrame({"id": range(1001)})
    assert team.put("cap.csv", df.to_csv(index=False).encode()).status_code == 201
    r = team.call("GET", "preview/cap.csv", team.viewer, params={"rows": "1000"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [row[0] for row in body["rows"]] == list(range(1000)) and body["truncated"] is True
    r = team.call("GET", "preview/cap.csv", team.viewer, params={"rows": "1001"})
    assert r.status_code == 400
    assert r.json()["message"] == "rows must be a whole number from 0 to 1000"
    r = team.call("GET", "preview/cap.csv", team.viewer)
    assert len(r.json()["rows"]) == 100  # the documented default
