"""A dataset linked from another project, seen from a real user server and its kernel: an
ordinary file ``pd.read_csv`` reads, read-only on disk (a write fails with PermissionError),
never uploaded back; a kernel that forces a change gets its bytes kept as a conflict copy and
the linked file put back; after "copy" the file is the project's own and writable again.

It runs on ``datadive up`` as root (the ``iso`` fixture of test_isolation): each server and its
kernels run as the user's own system account, as in production (a root kernel would ignore the
file's mode)."""

from __future__ import annotations

import uuid

import pytest
import requests

from .test_isolation import iso, server_python  # noqa: F401 - fixtures
from .test_project_binding import Server, put, stored

pytestmark = [pytest.mark.hub, pytest.mark.slow]

V1 = b"id,score\n1,3.5\n2,4.0\n"


def test_a_kernel_reads_a_linked_dataset_and_cannot_change_it(iso):  # noqa: F811
    platform = iso
    alice = platform.user()
    platform.hub_names.append(alice.name)
    a = platform.project(alice, f"Source {uuid.uuid4().hex[:4]}")["id"]
    b = platform.project(alice, f"Analysis {uuid.uuid4().hex[:4]}")
    bid, folder = b["id"], b["name"]
    put(platform, alice, a, "survey.csv", V1)
    r = platform.call(
        "POST",
        f"projects/{bid}/datasets",
        alice,
        json={"source_project": a, "source_path": "survey.csv"},
    )
    assert r.status_code == 201, r.text
    link_id = r.json()["id"]
    put(platform, alice, a, "survey.csv", b"id\n9\n")  # A moves on; B is pinned
    srv = Server(platform, alice)
    try:
        listing = {e["name"]: e for e in srv.contents(folder).json()["content"]}
        assert listing["survey.csv"]["writable"] is False
        kid = srv.kernel(f"{folder}/analysis.ipynb")
        out = srv.run(kid, "import pandas as pd\nprint(pd.read_csv('survey.csv').shape)")
        assert out.strip() == "(2, 2)"
        out = srv.run(
            kid,
            "try:\n    open('survey.csv', 'a').write('3,1.0\\n')\n"
            "except PermissionError as e:\n    print('refused', e.errno)\n",
        )
        assert out.startswith("refused"), out
        # Lab's save of the file is refused too, saying why
        r = srv.get(f"api/contents/{folder}/survey.csv")
        assert r.status_code == 200 and r.json()["writable"] is False
        r = requests.put(
            f"{srv.base}api/contents/{folder}/survey.csv",
            headers=alice.headers,
            json={"type": "file", "format": "text", "content": "x\n"},
            timeout=60,
        )
        assert r.status_code == 403 and "linked" in r.json()["message"], r.text
        r = requests.delete(
            f"{srv.base}api/contents/{folder}/survey.csv", headers=alice.headers, timeout=60
        )
        assert r.status_code == 403 and "linked" in r.json()["message"], r.text

        # a kernel that forces its way: its bytes become a new file, the link is put back
        srv.run(
            kid,
            "import os\nos.chmod('survey.csv', 0o644)\n"
            "open('survey.csv', 'w').write('forced\\n')\n",
        )

        def put_back():
            files = stored(platform, alice, bid)
            copies = [p for p in files if p.startswith("survey.conflict-")]
            return copies if copies and files.get("survey.csv") == V1 else None

        (copy,) = srv.wait_until("the forced change kept aside", put_back)
        assert stored(platform, alice, bid)[copy] == b"forced\n"
        srv.wait_until(
            "the linked file back on disk",
            lambda: srv.run(kid, "print(open('survey.csv').read())").strip() == V1.decode().strip(),
        )
        # B's store never received survey.csv itself: it is still the link
        store_b = platform.data_dir / "store" / "projects" / bid
        assert not (store_b / "survey.csv").exists()
        assert platform.call("GET", f"projects/{a}/files/survey.csv", alice).content == b"id\n9\n"

        # copy: the file becomes B's own; the server makes it writable, the kernel's write syncs
        r = platform.call("POST", f"projects/{bid}/datasets/{link_id}/copy", alice)
        assert r.status_code == 200, r.text
        srv.wait_until(
            "the copy writable",
            lambda: (
                srv.contents(folder).json()["content"]
                and {e["name"]: e["writable"] for e in srv.contents(folder).json()["content"]}.get(
                    "survey.csv"
                )
            ),
        )
        srv.run(kid, "open('survey.csv', 'a').write('3,5.0\\n')")
        srv.wait_until(
            "the kernel's change uploaded",
            lambda: stored(platform, alice, bid).get("survey.csv") == V1 + b"3,5.0\n",
        )
    finally:
        srv.stop()
