"""``configure(c)`` on a real JupyterHub: services, roles, user-server environment, idle culling.

One hub for the module, run from a ``jupyterhub_config.py`` that calls ``datadive_hub.configure``
with the idle culler on (a 20 s timeout). The hub's own environment holds storage credentials,
as a production hub pod does; user servers must not receive them.

The culling test lets jupyterhub-idle-culler (a hub service) stop a server whose kernel wrote
files, then reads the files from the store. For that to show the flush at stop, this hub's user
servers run without the working copy's background upload (``poll_interval=0``), so the files are
still only on the server's disk when the culler acts (the test checks that), and they report
their activity every 5 s instead of 300 s, so the culler sees the test's requests and the
kernel's work and stops the server only once it has really been idle for the timeout.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from user_server import execute

from .conftest import Hub

pytestmark = [pytest.mark.hub, pytest.mark.slow]

CULL_TIMEOUT = 20
ACTIVITY_INTERVAL = 5
HUB_SECRETS = {"AWS_ACCESS_KEY_ID": "AKIA-HUB-ONLY", "AWS_SECRET_ACCESS_KEY": "hub-only-secret"}

CONFIG = """
import datadive_hub
datadive_hub.configure(
    c,
    data_dir={data_dir!r},
    service_port={service_port},
    cull_idle_timeout={cull},
    cull_every=5,
    template_author_groups=["stats-team"],
)
# user servers of this hub only: no background upload of kernel-written files (only the flush at
# stop can bring them to the store), and activity reported every {activity} s (default 300)
c.Spawner.args = [*c.Spawner.args, "--DatadiveContentsManager.poll_interval=0"]
c.Spawner.environment = {{**c.Spawner.environment, "JUPYTERHUB_ACTIVITY_INTERVAL": "{activity}"}}
"""


class Person:
    def __init__(self, hub: Hub, name: str):
        self.name = name
        assert hub.api("POST", f"users/{name}").status_code == 201
        r = hub.api("POST", f"users/{name}/tokens", json={"note": "test", "expires_in": 3600})
        assert r.status_code == 201, r.text
        self.headers = {"Authorization": f"token {r.json()['token']}"}


@pytest.fixture(scope="module")
async def hub(start_hub, tmp_path_factory, free_port):
    data_dir = tmp_path_factory.mktemp("datadive")
    config = CONFIG.format(
        data_dir=str(data_dir),
        service_port=free_port(),
        cull=CULL_TIMEOUT,
        activity=ACTIVITY_INTERVAL,
    )
    hub = await start_hub(config, env=HUB_SECRETS)
    hub.data_dir = data_dir
    # the service starts after the hub; wait until it answers through the proxy
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        r = await asyncio.to_thread(
            requests.get, hub.url + "/services/datadive/api/v1/openapi.json", timeout=5
        )
        if r.status_code in (200, 401, 403):
            return hub
        await asyncio.sleep(0.5)
    pytest.fail(f"the Datadive service did not answer:\n{hub.log()[-3000:]}")


def test_services_registered_with_their_roles(hub):
    services = hub.api("GET", "services").json()
    assert {"datadive", "idle-culler"} <= set(services)
    assert services["datadive"]["roles"] == ["datadive-service"]
    assert services["idle-culler"]["roles"] == ["datadive-idle-culler"]
    group = hub.api("GET", "groups/stats-team").json()
    assert "datadive-template-author" in group["roles"]


def test_an_ordinary_user_reaches_the_service(hub):
    alice = Person(hub, f"alice{uuid.uuid4().hex[:6]}")
    r = requests.get(
        hub.url + "/services/datadive/api/v1/projects", headers=alice.headers, timeout=30
    )
    assert r.status_code == 200, r.text
    # ... but not the hub's admin API
    r = requests.get(hub.url + "/hub/api/users", headers=alice.headers, timeout=30)
    assert r.status_code == 403


def wait_ready(hub: Hub, name: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server = hub.api("GET", f"users/{name}").json().get("servers", {}).get("")
        if server and server.get("ready"):
            return server
        time.sleep(0.5)
    raise AssertionError(f"{name}'s server did not start:\n{hub.log()[-3000:]}")


def process_environment(pid: int) -> dict:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(
        item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item
    )


async def test_culled_server_had_no_credentials_and_flushed_every_file(hub):
    bob = Person(hub, f"bob{uuid.uuid4().hex[:6]}")
    api = hub.url + "/services/datadive/api/v1"
    r = requests.post(
        f"{api}/projects", headers=bob.headers, json={"name": "Field study"}, timeout=30
    )
    assert r.status_code == 201, r.text
    project = r.json()

    assert hub.api("POST", f"users/{bob.name}/server").status_code in (201, 202)
    server = await asyncio.to_thread(wait_ready, hub, bob.name)
    base = hub.url + server["url"]

    # the server process: service URL yes, the hub's storage credentials no
    pid = server["state"]["pid"]
    env = process_environment(pid)
    assert env["DATADIVE_SERVICE_URL"].endswith("/services/datadive/")
    assert not [k for k in env if k.startswith("AWS_")]
    assert not any(v in " ".join(env.values()) for v in HUB_SECRETS.values())

    # open the project as Lab does (file browser, new notebook), then a kernel writes files in it
    folder = quote("Field study")
    r = requests.get(f"{base}api/contents/{folder}", headers=bob.headers, timeout=60)
    assert r.status_code == 200, r.text
    notebook = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    r = requests.put(
        f"{base}api/contents/{folder}/run.ipynb",
        headers=bob.headers,
        timeout=60,
        json={"type": "notebook", "format": "json", "content": notebook},
    )
    assert r.status_code in (200, 201), r.text
    r = requests.post(
        f"{base}api/sessions",
        headers=bob.headers,
        timeout=60,
        json={
            "path": "Field study/run.ipynb",
            "type": "notebook",
            "name": "run.ipynb",
            "kernel": {"name": "python3"},
        },
    )
    assert r.status_code == 201, r.text
    kernel_id = r.json()["kernel"]["id"]
    ws = base.replace("http://", "ws://") + f"api/kernels/{kernel_id}/channels"
    code = (
        "import os, random\n"
        "os.makedirs('out/figures', exist_ok=True)\n"
        "open('results.csv', 'w').write('id,score\\n' + ''.join(f'{i},{i*i}\\n' for i in range(1000)))\n"
        "random.seed(7); open('out/figures/noise.bin', 'wb').write(random.randbytes(300_000))\n"
        "open('out/summary.txt', 'w').write('mean 332833.5\\n')\n"
        "print(sorted(os.listdir('.')))\n"
    )
    result = await execute(ws, code, bob.headers)
    assert result["error"] is None, result
    assert "results.csv" in result["stdout"] and "run.ipynb" in result["stdout"], result
    import random

    random.seed(7)
    expected = {
        "results.csv": ("id,score\n" + "".join(f"{i},{i * i}\n" for i in range(1000))).encode(),
        "out/figures/noise.bin": random.randbytes(300_000),
        "out/summary.txt": b"mean 332833.5\n",
    }

    # not uploaded yet: the background upload is off, so only the flush at stop can save them
    root = hub.data_dir / "store" / "projects" / project["id"]
    assert (root / "run.ipynb").exists()  # saved through the ContentsManager: written through
    early = [path for path in expected if (root / path).exists()]
    assert early == [], f"{early} reached the store before the server stopped"
    assert hub.api("GET", f"users/{bob.name}").json()["servers"], "culled before the kernel ran"

    # nobody touches the server any more: the culler stops it once it has been idle long enough
    idle_since = time.monotonic()
    deadline = idle_since + CULL_TIMEOUT + 120
    while time.monotonic() < deadline:
        if not hub.api("GET", f"users/{bob.name}").json().get("servers"):
            break
        await asyncio.sleep(1)
    else:
        raise AssertionError(f"the idle culler did not stop the server:\n{hub.log()[-3000:]}")
    idle_for = time.monotonic() - idle_since
    log = hub.log()
    assert f"Culling server {bob.name} (inactive for" in log, log[-3000:]
    # the hub saw the kernel's work and the test's requests: the cull came after a full timeout
    assert idle_for >= CULL_TIMEOUT - 2, idle_for

    # every file the kernel wrote is in the store, byte for byte
    for path, data in expected.items():
        stored = root / path
        assert stored.exists(), f"{path} is not in the store after the cull:\n{log[-3000:]}"
        assert hashlib.sha256(stored.read_bytes()).digest() == hashlib.sha256(data).digest(), path
