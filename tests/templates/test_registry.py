"""The template registry in the hub service, the CLI's publish and the server extension's cache —
all against a real ``datadive up`` (JupyterHub + proxy + service) on SQLite and on PostgreSQL,
responses checked against OpenAPI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

pytestmark = [pytest.mark.hub, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
AUTHORS = "datadive-template-authors"


def source(
    tid: str, version: str = "1.0.0", title: str = "Mine", code: str = "print({{ n }})"
) -> str:
    return (
        f"id: {tid}\nversion: {version}\ntitle: {title}\ncategory: Custom\ntags: [mine, demo]\n"
        "language: python\ninputs:\n  - {name: n, type: integer, default: 1}\n"
        f"code: |\n  {code}\n"
    )


@pytest.fixture(scope="module")
def author(any_platform):
    return any_platform.user(groups=(AUTHORS,))


@pytest.fixture(scope="module")
def reader(any_platform):
    return any_platform.user()


def test_builtins_published_at_start(any_platform, reader):
    r = any_platform.call("GET", "templates", reader)
    assert r.status_code == 200
    listed = r.json()["templates"]
    items = {t["id"]: t for t in listed}
    assert len([t for t in items.values() if t["builtin"]]) >= 12
    assert items["t-test"]["published_by"] == "datadive" and "document" not in items["t-test"]
    # in the order of an analysis: Load, Clean, Explore, Test, Plot; "Load a CSV file" first
    assert listed[0]["id"] == "load-csv" and items["t-test"]["category_order"] == 3
    orders = [t["category_order"] for t in listed]
    assert orders == sorted(orders)
    r = any_platform.call("GET", "templates/load-qualtrics", reader)
    assert r.json()["document"]["id"] == "load-qualtrics" and r.json()["versions"] == [
        {"version": "1.1.0", "deprecated": False}
    ]


def test_publish_versions_are_immutable(any_platform, author, reader):
    tid = f"mine-{uuid.uuid4().hex[:6]}"
    r = any_platform.call("POST", "templates", author, json={"source": source(tid)})
    assert r.status_code == 201, r.text
    assert r.json()["published_by"] == author.name
    assert r.headers["Location"].endswith(f"/templates/{tid}/versions/1.0.0")
    # the same content again: accepted, nothing new
    assert (
        any_platform.call("POST", "templates", author, json={"source": source(tid)}).status_code
        == 200
    )
    # different content under the same version: refused
    r = any_platform.call(
        "POST", "templates", author, json={"source": source(tid, title="Changed")}
    )
    assert r.status_code == 409 and "raise the version" in r.json()["message"]
    # a new version is a new entry; "latest" follows semantic versioning
    for v in ("1.10.0", "1.9.0"):
        assert (
            any_platform.call(
                "POST", "templates", author, json={"source": source(tid, v, title=f"v{v}")}
            ).status_code
            == 201
        )
    r = any_platform.call("GET", f"templates/{tid}", reader)
    assert r.json()["version"] == "1.10.0"
    assert [v["version"] for v in r.json()["versions"]] == ["1.0.0", "1.9.0", "1.10.0"]
    assert (
        any_platform.call("GET", f"templates/{tid}/versions/1.0.0", reader).json()["title"]
        == "Mine"
    )

    # deprecate the newest: latest falls back to 1.9.0; deprecating all hides it from the list
    r = any_platform.call(
        "PATCH",
        f"templates/{tid}/versions/1.10.0",
        author,
        json={"deprecated": True, "message": "use 1.9.0"},
    )
    assert r.status_code == 200 and r.json()["deprecated"] is True
    assert any_platform.call("GET", f"templates/{tid}", reader).json()["version"] == "1.9.0"
    for v in ("1.0.0", "1.9.0"):
        any_platform.call(
            "PATCH", f"templates/{tid}/versions/{v}", author, json={"deprecated": True}
        )
    listed = {t["id"] for t in any_platform.call("GET", "templates", reader).json()["templates"]}
    assert tid not in listed
    listed = any_platform.call("GET", "templates", reader, params={"deprecated": "1"}).json()[
        "templates"
    ]
    assert any(t["id"] == tid and t["deprecated"] for t in listed)

    # delete one version, then all
    assert any_platform.call("DELETE", f"templates/{tid}/versions/1.0.0", author).status_code == 204
    r = any_platform.call("GET", f"templates/{tid}/versions/1.0.0", reader)
    assert r.status_code == 404 and "versions that exist: 1.9.0, 1.10.0" in r.json()["message"]
    assert any_platform.call("DELETE", f"templates/{tid}", author).status_code == 204
    r = any_platform.call("GET", f"templates/{tid}", reader)
    assert r.status_code == 404 and "templates that exist:" in r.json()["message"]
    assert "t-test" in r.json()["message"]


def test_deleted_version_cannot_come_back_with_other_content(any_platform, author, reader):
    """Cells record {template, version}: after DELETE, that version may be restored unchanged,
    never re-published with different content (on SQLite and PostgreSQL)."""
    tid = f"tomb-{uuid.uuid4().hex[:6]}"
    original = source(tid, code="print({{ n }})")
    changed = source(tid, code="print({{ n }} * 2)")
    assert (
        any_platform.call("POST", "templates", author, json={"source": original}).status_code == 201
    )
    assert (
        any_platform.call(
            "POST", "templates", author, json={"source": source(tid, "1.1.0")}
        ).status_code
        == 201
    )
    assert any_platform.call("DELETE", f"templates/{tid}/versions/1.0.0", author).status_code == 204
    assert any_platform.call("GET", f"templates/{tid}/versions/1.0.0", reader).status_code == 404

    r = any_platform.call("POST", "templates", author, json={"source": changed})
    assert r.status_code == 409, r.text
    message = r.json()["message"]
    assert "was published and then deleted" in message and "Bump the version" in message
    assert any_platform.call("GET", f"templates/{tid}/versions/1.0.0", reader).status_code == 404

    # the same content may be restored, and then it is exactly what it was
    r = any_platform.call("POST", "templates", author, json={"source": original})
    assert r.status_code == 201, r.text
    got = any_platform.call("GET", f"templates/{tid}/versions/1.0.0", reader).json()
    assert got["document"]["code"] == "print({{ n }})"

    # deleting the whole template buries every version
    assert any_platform.call("DELETE", f"templates/{tid}", author).status_code == 204
    for v, text in (("1.0.0", changed), ("1.1.0", source(tid, "1.1.0", title="Other"))):
        r = any_platform.call("POST", "templates", author, json={"source": text})
        assert r.status_code == 409 and "Bump the version" in r.json()["message"], (v, r.text)
    # a new version is fine
    r = any_platform.call(
        "POST",
        "templates",
        author,
        json={"source": source(tid, "1.0.1", code="print({{ n }} * 2)")},
    )
    assert r.status_code == 201, r.text
    any_platform.call("DELETE", f"templates/{tid}", author)


def test_only_authors_and_admins_write(any_platform, reader, author):
    tid = f"guarded-{uuid.uuid4().hex[:6]}"
    r = any_platform.call("POST", "templates", reader, json={"source": source(tid)})
    assert r.status_code == 403 and AUTHORS in r.json()["message"]
    admin = any_platform.user(admin=True)
    assert (
        any_platform.call("POST", "templates", admin, json={"source": source(tid)}).status_code
        == 201
    )
    for method, path, body in [
        ("PATCH", f"templates/{tid}/versions/1.0.0", {"deprecated": True}),
        ("DELETE", f"templates/{tid}/versions/1.0.0", None),
        ("DELETE", f"templates/{tid}", None),
    ]:
        r = any_platform.call(method, path, reader, json=body)
        assert r.status_code == 403, (method, path, r.text)
    assert any_platform.call("GET", f"templates/{tid}", reader).status_code == 200
    assert any_platform.call("GET", "templates", None).status_code == 401


@pytest.fixture(scope="module")
def hub_with_other_authors(tmp_path_factory):
    """``datadive up`` whose service names another author group through its traitlets config
    (``DATADIVE_SERVICE_CONFIG`` is passed through to the service)."""
    from datadive_platform import start_platform, stop_platform

    tmp = tmp_path_factory.mktemp("other-authors")
    cfg = tmp / "service_config.py"
    cfg.write_text('c.DatadiveService.template_author_groups = ["stats-team", "methods-unit"]\n')
    p = start_platform(tmp, extra_env={"DATADIVE_SERVICE_CONFIG": str(cfg)})
    yield p
    stop_platform(p.proc)


def test_configured_author_group_other_than_the_default_may_publish(hub_with_other_authors):
    hub = hub_with_other_authors
    tid = f"team-{uuid.uuid4().hex[:6]}"
    member = hub.user(groups=("methods-unit",))
    r = hub.call("POST", "templates", member, json={"source": source(tid)})
    assert r.status_code == 201, r.text
    assert r.json()["published_by"] == member.name
    outsider = hub.user(groups=("some-other-group",))
    r = hub.call("POST", "templates", outsider, json={"source": source(f"{tid}-x")})
    assert r.status_code == 403
    assert "'stats-team' or 'methods-unit'" in r.json()["message"]
    assert hub.call("DELETE", f"templates/{tid}", member).status_code == 204


def test_invalid_template_is_422_with_lines(any_platform, author):
    bad = source("broken").replace("type: integer", "type: slider")
    r = any_platform.call("POST", "templates", author, json={"source": bad, "file": "broken.yaml"})
    assert r.status_code == 422
    p = r.json()["problems"][0]
    assert (p["file"], p["line"], p["field"]) == ("broken.yaml", 8, "inputs[0].type")
    r = any_platform.call("POST", "templates", author, json={"nothing": 1})
    assert r.status_code == 400 and "source" in r.json()["message"]


def test_search_and_etag(any_platform, reader, author):
    tid = f"searchable-{uuid.uuid4().hex[:6]}"
    r = any_platform.call("GET", "templates", reader, params={"category": "test", "q": "means"})
    assert {t["id"] for t in r.json()["templates"]} == {"t-test", "anova"}
    r = any_platform.call("GET", "templates", reader, params={"tag": "matplotlib"})
    assert {t["id"] for t in r.json()["templates"]} == {"histogram", "box-plot", "scatter-plot"}
    etag = any_platform.call("GET", "templates", reader).headers["Etag"]
    r = any_platform.call("GET", "templates", reader, headers={"If-None-Match": etag})
    assert r.status_code == 304
    any_platform.call("POST", "templates", author, json={"source": source(tid)})
    r = any_platform.call("GET", "templates", reader, headers={"If-None-Match": etag})
    assert r.status_code == 200 and tid in {t["id"] for t in r.json()["templates"]}
    any_platform.call("DELETE", f"templates/{tid}", author)


def _cli(*args, env):
    e = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'contents'}", **env}
    return subprocess.run(
        [sys.executable, "-m", "datadive_hub.cli", "templates", *args],
        capture_output=True,
        text=True,
        env=e,
        timeout=120,
    )


def test_cli_publish_list_render_against_the_hub(any_platform, author, reader, tmp_path):
    tid = f"cli-{uuid.uuid4().hex[:6]}"
    f = tmp_path / f"{tid}.yaml"
    f.write_text(source(tid, code="total = {{ n }} + 1"))
    r = _cli("publish", str(f), "--hub-url", any_platform.url, "--token", author.token, env={})
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"published {tid} 1.0.0" in r.stdout
    r = _cli(
        "publish",
        str(f),
        env={"DATADIVE_HUB_URL": any_platform.url, "JUPYTERHUB_API_TOKEN": author.token},
    )
    assert r.returncode == 0 and "already published" in r.stdout
    f.write_text(source(tid, code="total = {{ n }} + 2"))
    r = _cli("publish", str(f), "--hub-url", any_platform.url, "--token", author.token, env={})
    assert r.returncode == 1 and "(409)" in r.stdout
    r = _cli("publish", str(f), "--hub-url", any_platform.url, "--token", reader.token, env={})
    assert r.returncode == 1 and "(403)" in r.stdout and AUTHORS in r.stdout
    # deleted, then the changed file published under the same version: refused
    assert any_platform.call("DELETE", f"templates/{tid}/versions/1.0.0", author).status_code == 204
    r = _cli("publish", str(f), "--hub-url", any_platform.url, "--token", author.token, env={})
    assert r.returncode == 1 and "(409)" in r.stdout and "Bump the version" in r.stdout
    f.write_text(source(tid, code="total = {{ n }} + 1"))
    r = _cli("publish", str(f), "--hub-url", any_platform.url, "--token", author.token, env={})
    assert r.returncode == 0 and f"published {tid} 1.0.0" in r.stdout, r.stdout
    env = {"DATADIVE_HUB_URL": any_platform.url, "JUPYTERHUB_API_TOKEN": reader.token}
    rows = json.loads(_cli("list", "--json", env=env).stdout)
    assert any(row["id"] == tid for row in rows)
    r = _cli("render", tid, "--values", '{"n": 41}', env=env)
    assert r.returncode == 0 and json.loads(r.stdout)[-1]["source"] == "total = 41 + 1"
    any_platform.call("DELETE", f"templates/{tid}", author)


def test_server_extension_uses_the_service(any_platform, author, reader, tmp_path):
    from jpserver import JupyterServer

    service = f"{any_platform.url}/services/datadive"
    server = JupyterServer(
        tmp_path / "root",
        tmp_path / "srv",
        env={"DATADIVE_SERVICE_URL": service, "JUPYTERHUB_API_TOKEN": reader.token},
    )
    (tmp_path / "root").mkdir()
    server.start()
    try:
        code, data = server.request("GET", "datadive/api/templates")
        assert code == 200 and data["source"] == "service" and data["note"] is None
        tid = f"ext-{uuid.uuid4().hex[:6]}"
        any_platform.call("POST", "templates", author, json={"source": source(tid)})
        code, data = server.request("GET", "datadive/api/templates")  # revalidated: new ETag
        assert tid in {t["id"] for t in data["templates"]}
        code, data = server.request(
            "POST", "datadive/api/render", {"template": tid, "values": {"n": 7}}
        )
        assert code == 200 and data["cells"][-1]["source"] == "print(7)"
        code, data = server.request(
            "POST", "datadive/api/render", {"template": tid, "version": "2.0.0"}
        )
        assert code == 404 and "versions that exist: 1.0.0" in data["message"]
        code, data = server.request("GET", "datadive/api/templates/nope")
        assert code == 404 and "templates that exist" in data["message"]
        any_platform.call("DELETE", f"templates/{tid}", author)
    finally:
        server.stop()


async def test_template_source_revalidates_and_survives_an_outage(any_platform, reader):
    from datadive_contents.serviceclient import ServiceClient
    from jpserver import free_port

    from datadive_server_ext.handlers.templates import TemplateSource

    client = ServiceClient(f"{any_platform.url}/services/datadive", reader.token)
    try:
        src = TemplateSource(client)
        first, source, note = await src.listing()
        assert source == "service" and note is None
        t = await src.get("t-test")
        again, source, _ = await src.listing()
        assert source == "service" and again is first  # 304 Not Modified: the cached list reused
        client.service_url = (
            f"http://127.0.0.1:{free_port()}/services/datadive"  # the service goes away
        )
        stale, source, note = await src.listing()
        assert source == "cache" and stale is first and "unreachable" in note
        assert await src.get("t-test") is t  # the latest version seen is still served
    finally:
        await client.close()
