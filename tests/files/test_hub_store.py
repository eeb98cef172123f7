"""HubServiceStore beyond the shared contract: presigned downloads, roles, errors."""

from __future__ import annotations

import hashlib
import os
import socket

import pytest
from datadive_contents.preview import preview
from datadive_contents.stores import Conflict, NotFound, PathRejected, StoreUnavailable
from datadive_contents.stores.hub import PRESIGN_MIN_BYTES, AccessDenied, HubServiceStore

pytestmark = pytest.mark.hub


def _store(team, user) -> HubServiceStore:
    return HubServiceStore(
        team.pid, service_url=f"{team.platform.url}/services/datadive/", token=user.token
    )


async def _stream(store, key, **kw) -> bytes:
    return b"".join([c async for c in store.open_stream(key, **kw)])


async def test_large_downloads_follow_presigned_urls_on_s3(team):
    store = _store(team, team.editor)
    try:
        body = os.urandom(PRESIGN_MIN_BYTES + (1 << 20))
        info = await store.put("big/blob.bin", body)
        assert info.size == len(body)
        got = await _stream(store, "big/blob.bin")
        assert hashlib.sha256(got).digest() == hashlib.sha256(body).digest()
        part = await _stream(store, "big/blob.bin", start=5, end=PRESIGN_MIN_BYTES + 10)
        assert part == body[5 : PRESIGN_MIN_BYTES + 10]
        if team.platform.kind == "s3":
            assert store.requests["get_presigned"] == 2, "S3 bytes should come straight from S3"
        else:
            assert store.requests["get_presigned"] == 0 and store.requests["get"] == 2
        # small reads go through the service (one request, no presign round trip)
        small, _ = await store.get("big/blob.bin", start=0, end=100)
        assert small == body[:100]
    finally:
        await store.close()


async def test_roles_and_errors_map_to_store_errors(team):
    editor, viewer, outsider = (_store(team, u) for u in (team.editor, team.viewer, team.outsider))
    try:
        first = await editor.put("a.csv", b"x,y\n1,2\n", if_none_match=True)
        with pytest.raises(Conflict):
            await editor.put("a.csv", b"again", if_none_match=True)
        with pytest.raises(Conflict):
            await editor.put("a.csv", b"stale", if_match="0" * 32)
        assert (await viewer.get("a.csv"))[0] == b"x,y\n1,2\n"
        with pytest.raises(AccessDenied, match="editor"):
            await viewer.put("a.csv", b"no")
        with pytest.raises(NotFound):
            await outsider.get("a.csv")  # not a member: the project is not revealed
        assert await outsider.head("a.csv") is None
        with pytest.raises(PathRejected):
            await editor.put("../b.csv", b"x")
        # the preview module works on this store too (ranged GETs through the service)
        r = await preview(viewer, "a.csv")
        assert r["rows"] == [[1, 2]] and r["bytes_read"] == first.size
    finally:
        for s in (editor, viewer, outsider):
            await s.close()


async def test_service_down_is_store_unavailable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = HubServiceStore(
        "p", service_url=f"http://127.0.0.1:{port}/services/datadive/", token="t"
    )
    try:
        with pytest.raises(StoreUnavailable, match="cannot reach the Datadive service"):
            await store.get("a.csv")
    finally:
        await store.close()


def test_configuration_errors_say_what_to_set(monkeypatch):
    monkeypatch.delenv("DATADIVE_SERVICE_URL", raising=False)
    monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
    with pytest.raises(ValueError, match="DATADIVE_SERVICE_URL"):
        HubServiceStore("p")
    monkeypatch.setenv("DATADIVE_SERVICE_URL", "http://127.0.0.1:1/services/datadive/")
    with pytest.raises(ValueError, match="JUPYTERHUB_API_TOKEN"):
        HubServiceStore("p")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "abc")
    store = HubServiceStore("p")
    assert store.url == "http://127.0.0.1:1/services/datadive/api/v1/projects/p/files/"


async def test_stopping_the_extension_closes_every_project_store(platform, tmp_path):
    """A user server in Datadive mode opens one HubServiceStore (an HTTP session) per project;
    the extension's stop path closes them all (else "Unclosed client session" at exit)."""
    import logging
    from types import SimpleNamespace

    from datadive_contents import DatadiveContentsManager
    from datadive_contents.serviceclient import ServiceClient

    from datadive_server_ext.app import DatadiveExtension

    owner = platform.user()
    for name in ("Closing-one", "Closing-two"):
        platform.project(owner, name)
    client = ServiceClient(f"{platform.url}/services/datadive/", owner.token)
    cm = DatadiveContentsManager(
        root_dir=str(tmp_path / "home"),
        poll_interval=0,
        service_url=client.service_url,
        service_token=owner.token,
    )
    assert cm.datadive_mode
    for name in ("Closing-one", "Closing-two"):
        await cm.save({"type": "file", "format": "text", "content": "x"}, f"{name}/notes.txt")
    stores = [m.store for m in cm.mounts.by_key.values()]
    assert len(stores) == 2 and all(isinstance(s, HubServiceStore) for s in stores)
    sessions = [s.client._session for s in stores]  # the aiohttp sessions the stores opened
    assert all(x is not None and not x.closed for x in sessions)
    ext = SimpleNamespace(
        serverapp=SimpleNamespace(contents_manager=cm),
        log=logging.getLogger("test"),
        service_client=client,
    )
    await DatadiveExtension.stop_extension(ext)  # what the server runs when it stops
    assert all(x.closed for x in sessions), "a project store's HTTP session was left open"
    assert client._session is None
    for m in cm.mounts.by_key.values():
        m.wc.close()
