"""On a platform of this module's own (``datadive up``; its service is frozen and killed here,
so it is never the shared session platform): hostile templates get a clear 4xx fast while
another user's requests keep their latency and the service's memory stays put; the server
extension's gallery falls back to the built-ins when the service hangs or dies; deep JSON and
hostile markdown values on its render route."""

from __future__ import annotations

import os
import signal
import time

import mistune
import psutil
import pytest
import requests
from datadive_platform import start_platform, stop_platform
from untrusted import ALIAS_BOMB, Bystander, big_template, service_process

pytestmark = [pytest.mark.hub, pytest.mark.slow]

AUTHORS = "datadive-template-authors"


@pytest.fixture(scope="module")
def own_platform(tmp_path_factory):
    p = start_platform(tmp_path_factory.mktemp("untrusted-platform"))
    yield p
    service = None
    try:
        service = service_process(p)
    except AssertionError:
        pass
    if service is not None:
        service.send_signal(signal.SIGCONT)  # never leave it frozen, whatever happened
    stop_platform(p.proc)


@pytest.fixture(scope="module")
def people(own_platform):
    return own_platform.user(groups=(AUTHORS,)), own_platform.user()


def publish(platform, author, text):
    return requests.post(
        f"{platform.api}/templates", json={"source": text}, headers=author.headers, timeout=120
    )


@pytest.mark.parametrize("attack", ["alias bomb", "512 KiB template", "1 MB template"])
def test_hostile_template_gets_4xx_fast_and_bystanders_are_not_slowed(own_platform, people, attack):
    author, other = people
    project = own_platform.project(other)
    bystander = Bystander(
        lambda: requests.get(
            f"{own_platform.api}/projects/{project['id']}", headers=other.headers, timeout=30
        ).raise_for_status(),
        service_process(own_platform),
    )
    normal = bystander.baseline()
    size = {"512 KiB template": 1 << 19, "1 MB template": 1 << 20}.get(attack, 0)
    text = ALIAS_BOMB if attack == "alias bomb" else big_template(size)
    r, seconds, latencies, grew, killed = bystander.during(
        lambda: publish(own_platform, author, text)
    )
    print(
        f"{attack}: answer {getattr(r, 'status_code', r)} in {seconds:.2f}s; service RSS "
        f"+{grew >> 20} MB; bystander baseline {normal * 1000:.0f} ms, worst during "
        f"{max(latencies) * 1000:.0f} ms over {len(latencies)} requests"
    )
    assert not killed, f"the service grew by more than 1 GB ({grew >> 20} MB) and was killed"
    assert isinstance(r, requests.Response), r
    if attack == "alias bomb":
        assert r.status_code == 422, r.text
        assert "anchors (&name) and aliases (*name) are not allowed" in r.json()["message"]
    elif attack == "512 KiB template":  # within the service's JSON body limit
        assert r.status_code == 413, r.text
        assert "at most 256 KiB" in r.json()["message"]
    else:  # beyond the JSON body limit: refused before it is parsed at all
        assert r.status_code == 413, r.text
        assert "max_json_body_bytes" in r.json()["message"]
    assert seconds < 10
    assert grew < 200 << 20
    assert max(latencies) < max(10 * normal, 1.0), latencies


def test_markdown_with_active_content_is_refused_by_the_service(own_platform, people):
    author, _ = people
    text = (
        "id: md-attack\nversion: 1.0.0\ntitle: M\nlanguage: python\n"
        "inputs:\n  - {name: n, type: text, default: a}\n"
        "markdown: '![x](https://tracker.example/p.png) {{ n }}'\ncode: |\n  print({{ n }})\n"
    )
    r = publish(own_platform, author, text)
    assert r.status_code == 422 and "images from other servers" in r.json()["message"]


@pytest.fixture(scope="module")
def connected_server(own_platform, people, tmp_path_factory):
    """A jupyter server with the datadive extension, connected to ``own_platform``'s service
    with a user's token, waiting at most 2 s for it in the gallery."""
    from jpserver import JupyterServer

    _, user = people
    root = tmp_path_factory.mktemp("connected-root")
    server = JupyterServer(
        root,
        tmp_path_factory.mktemp("connected-srv"),
        env={
            "DATADIVE_SERVICE_URL": f"{own_platform.url}/services/datadive",
            "JUPYTERHUB_API_TOKEN": user.token,
        },
        args=["--DatadiveExtension.templates_timeout=2"],
    ).start()
    yield server
    server.stop()


def render(server, body):
    return server.request("POST", "datadive/api/render", body, timeout=60)


def test_render_route_refuses_deep_json_with_400(connected_server):
    for depth in (100, 100_000):
        body = '{"template": "describe", "values": ' + "[" * depth + "]" * depth + "}"
        r = requests.post(
            connected_server.url + "datadive/api/render",
            data=body.encode(),
            headers={"Authorization": f"token {connected_server.token}"},
            timeout=60,
        )
        code, data = r.status_code, r.json()
        assert code == 400, (depth, code, data)
        assert "nested more than 32 levels deep" in data["message"]


def test_render_route_keeps_markdown_values_inert(connected_server):
    code, data = render(
        connected_server,
        {
            "template": "t-test",
            "values": {
                "data": "df",
                "outcome": "[click](javascript:alert(1))",
                "group": "![p](https://tracker.example/p.png)",
                "group_a": "<img src=x onerror=alert(1)>",
                "group_b": "b",
            },
        },
    )
    assert code == 200, data
    shown = mistune.html(data["cells"][0]["source"]).lower()
    assert "<a " not in shown and "<img" not in shown


def gallery(server):
    t = time.perf_counter()
    code, data = server.request("GET", "datadive/api/templates", timeout=60)
    return code, data, time.perf_counter() - t


def test_gallery_falls_back_when_the_service_hangs_or_dies(own_platform, connected_server):
    code, data, _ = gallery(connected_server)
    assert code == 200 and data["source"] == "service" and data["offline"] is False
    service = service_process(own_platform)
    os.kill(service.pid, signal.SIGSTOP)  # hung: accepts connections, never answers
    try:
        code, data, seconds = gallery(connected_server)
        print(f"service frozen: gallery answered {code} in {seconds:.1f}s ({data.get('source')})")
        assert code == 200, data
        assert data["offline"] is True and data["source"] == "cache"
        assert "did not answer within 2 s" in data["note"]
        assert len(data["templates"]) >= 12
        assert seconds < 10
        t = time.perf_counter()
        code, rendered = render(connected_server, {"template": "describe"})
        assert code == 200 and time.perf_counter() - t < 10, rendered
    finally:
        os.kill(service.pid, signal.SIGCONT)
    service.kill()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the hub reaps it (it is not our child)
        try:
            if service.status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    code, data, seconds = gallery(connected_server)
    print(f"service killed: gallery answered {code} in {seconds:.1f}s ({data.get('source')})")
    assert code == 200 and data["offline"] is True and seconds < 10
    assert len(data["templates"]) >= 12
