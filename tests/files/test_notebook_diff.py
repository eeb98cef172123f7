"""Compare two versions of a notebook (the panel's Compare): the server extension's
``datadive/api/history/diff/<project>/<path>`` reads both versions through the service with the
user server's token and answers nbdime's diff as cells added / removed / changed, with the source
as a line diff and text outputs and images before and after. Real hub, service and user servers,
on the local directory store and on S3 (moto)."""

from __future__ import annotations

import base64
import json

import nbformat
import pytest
import requests
from user_server import wait_for_server

pytestmark = pytest.mark.hub

V4 = nbformat.v4
#: a 1x1 PNG (before) and a 2x1 PNG (after)
PNG_A = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360f8cfc000000301010018dd8db00000000049454e44ae426082"
    )
).decode()
PNG_B = base64.b64encode(b"not-the-same-image").decode()


def notebook(*, value: int, image: str, extra: str | None = None) -> bytes:
    cells = [
        V4.new_markdown_cell("# Sleep study", id="intro"),
        V4.new_code_cell("import pandas as pd\nx = 1", id="setup"),
        V4.new_code_cell(
            f"print({value})",
            id="printed",
            execution_count=2,
            outputs=[V4.new_output("stream", text=f"{value}\n")],
        ),
        V4.new_code_cell(
            "plot()",
            id="plot",
            execution_count=3,
            outputs=[
                V4.new_output("display_data", data={"image/png": image, "text/plain": "<Figure>"})
            ],
        ),
    ]
    if extra:
        cells.append(V4.new_code_cell(extra, id="extra"))
    return nbformat.writes(V4.new_notebook(cells=cells)).encode()


def start_server(platform, user) -> str:
    r = platform.hub("POST", f"users/{user.name}/server")
    assert r.status_code in (201, 202, 400), r.text
    return f"{platform.url}{wait_for_server(platform, user)}"


def diff(base: str, user, pid: str, path: str, **params) -> requests.Response:
    return requests.get(
        f"{base}datadive/api/history/diff/{pid}/{path}",
        headers=user.headers,
        params=params,
        timeout=120,
    )


def test_two_saves_of_a_notebook_compare_cell_by_cell(team):
    p, path = team.platform, "analysis/sleep.ipynb"
    assert team.put(path, notebook(value=1, image=PNG_A)).status_code == 201
    assert team.put(path, notebook(value=2, image=PNG_B, extra="summary()")).status_code == 200
    r = team.call("GET", f"versions/{path}")
    new, old = r.json()["versions"][:2]
    assert new["is_current"] and not old["is_current"]

    base = start_server(p, team.owner)
    try:
        r = diff(base, team.owner, team.pid, path, old=old["version_id"])
        assert r.status_code == 200, r.text
        body = r.json()
        by_id = {c["new_index"] if c["new_index"] is not None else -1: c for c in body["cells"]}
        assert body["counts"] == {"added": 1, "removed": 0, "changed": 2, "unchanged": 2}
        assert [c["status"] for c in body["cells"]] == [
            "unchanged", "unchanged", "changed", "changed", "added",
        ]  # fmt: skip
        printed, plot, extra = by_id[2], by_id[3], by_id[4]
        # the source as a line diff, the text output before and after
        assert {"op": "-", "text": "print(1)"} in printed["source"]
        assert {"op": "+", "text": "print(2)"} in printed["source"]
        assert printed["outputs"]["before"][0]["text"] == "1\n"
        assert printed["outputs"]["after"][0]["text"] == "2\n"
        # the image before and after; its source did not change
        assert plot["parts"] == ["outputs"]
        assert plot["outputs"]["before"][0]["image"] == {"mime": "image/png", "data": PNG_A}
        assert plot["outputs"]["after"][0]["image"] == {"mime": "image/png", "data": PNG_B}
        assert extra["source"] == [{"op": "+", "text": "summary()"}]

        # both versions named: the same answer
        r2 = diff(base, team.owner, team.pid, path, old=old["version_id"], new=new["version_id"])
        assert r2.status_code == 200 and r2.json()["cells"] == body["cells"]

        # bad input says what to do
        r = diff(base, team.owner, team.pid, path)
        assert r.status_code == 400 and "version id" in r.json()["message"]
        r = diff(base, team.owner, team.pid, "a//x.ipynb", old="v")  # (requests drops "..")
        assert r.status_code == 400 and "inside the project" in r.json()["message"]
        r = diff(base, team.owner, team.pid, path, old="no-such-version")
        assert r.status_code == 404, r.text
        assert team.put("notes.txt", b"hello").status_code == 201
        r = diff(base, team.owner, team.pid, "notes.txt", old="x")
        assert r.status_code == 415 and "only notebooks" in r.json()["message"]
        assert team.put("broken.ipynb", b"{not json").status_code == 201
        assert team.put("broken.ipynb", notebook(value=1, image=PNG_A)).status_code == 200
        broken = team.call("GET", "versions/broken.ipynb").json()["versions"][1]
        r = diff(base, team.owner, team.pid, "broken.ipynb", old=broken["version_id"])
        assert r.status_code == 422 and "not a readable notebook" in r.json()["message"]

        # a few MB (read in many chunks): compared whole, a long output cut with a note
        long = json.loads(notebook(value=3, image=PNG_A))
        long["cells"][2]["outputs"][0]["text"] = "y" * (3 * 1024 * 1024)
        assert team.put(path, json.dumps(long).encode()).status_code == 200
        r = diff(base, team.owner, team.pid, path, old=old["version_id"])
        assert r.status_code == 200, r.text
        after = r.json()["cells"][2]["outputs"]["after"][0]["text"]
        assert after.startswith("y" * 20_000) and after.endswith("more characters)")

        # a notebook above the limit (20 MB) is refused before it is read, with what to do
        # (on the local store: s3_platform accepts no upload above 20 MiB, limits.MAX_UPLOAD)
        if p.kind != "local":
            return
        big = json.loads(notebook(value=3, image=PNG_A))
        big["cells"][2]["outputs"][0]["text"] = "x" * (21 * 1024 * 1024)
        assert team.put(path, json.dumps(big).encode()).status_code == 200
        r = diff(base, team.owner, team.pid, path, old=old["version_id"])
        assert r.status_code == 413, r.text
        assert "history_diff_max_mb" in r.json()["message"]
    finally:
        p.stop_server(team.owner.name)


def test_only_members_compare_versions(team):
    p, path = team.platform, "a.ipynb"
    assert team.put(path, notebook(value=1, image=PNG_A)).status_code == 201
    assert team.put(path, notebook(value=2, image=PNG_A)).status_code == 200
    old = team.call("GET", f"versions/{path}").json()["versions"][1]
    base = start_server(p, team.outsider)
    try:
        r = diff(base, team.outsider, team.pid, path, old=old["version_id"])
        assert r.status_code in (403, 404), r.text
        assert r.json()["message"]
        r = requests.get(
            f"{base}datadive/api/history/diff/{team.pid}/{path}",
            params={"old": old["version_id"]},
            timeout=60,
        )  # no token, no cookie
        assert r.status_code in (302, 401, 403), r.status_code
    finally:
        p.stop_server(team.outsider.name)
