"""The one client of the Datadive service: its errors, as every caller (server extension, hub
store, command line) sees them."""

from __future__ import annotations

import socket

import pytest
from datadive_contents.serviceclient import ServiceClient, ServiceError, ServiceUnreachable


async def test_service_errors_carry_its_status_and_message(platform):
    user = platform.user()
    client = ServiceClient(f"{platform.url}/services/datadive/", user.token)
    try:
        listing = await client.request("GET", "projects")
        assert isinstance(listing["projects"], list)
        with pytest.raises(ServiceError) as e:
            await client.request("GET", "projects/no-such-project")
        assert e.value.status == 404 and not isinstance(e.value, ServiceUnreachable)
        assert e.value.message and "404" not in e.value.message  # the service's own words
        bad = ServiceClient(f"{platform.url}/services/datadive/", "not-a-token")
        with pytest.raises(ServiceError) as e:
            await bad.request("GET", "projects")
        assert e.value.status in (401, 403)
        await bad.close()
    finally:
        await client.close()


async def test_refused_and_silent_services_say_what_to_do():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    client = ServiceClient(f"http://127.0.0.1:{closed}/services/datadive", "t")
    with pytest.raises(ServiceUnreachable) as e:
        await client.request("GET", "projects")
    assert e.value.status == 502 and "cannot reach the Datadive service" in e.value.message
    assert "unreachable" in e.value.message and "hub admin" in e.value.message
    await client.close()
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        client = ServiceClient(f"http://127.0.0.1:{port}/services/datadive", "t", timeout=0.5)
        with pytest.raises(ServiceUnreachable) as e:
            await client.request("GET", "projects")
        assert e.value.status == 504 and "did not answer within 0.5 s" in e.value.message
        await client.close()


def test_sync_callers_get_the_same_errors():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    client = ServiceClient(f"http://127.0.0.1:{closed}/services/datadive", "t")
    with pytest.raises(ServiceUnreachable, match="cannot reach the Datadive service"):
        client.fetch_sync("GET", "templates")
    with pytest.raises(ServiceError, match="not connected to the Datadive service"):
        ServiceClient("", "").fetch_sync("GET", "templates")
