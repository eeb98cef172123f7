"""Snapshots say what a project's notebooks were made from, and two snapshots compare (issue 13),
on the local directory store and on S3 (moto, versioned), through the real service:

- the manifest lists the template versions of the notebooks' cells, the environment lock (path
  and version) and which version of a data file each cell read (an older version resolved by its
  ETag), still copying no bytes;
- compare lists the files added, removed and changed between two snapshots, or to ``current``;
- bad input: no ``with``, a snapshot that does not exist, a snapshot named ``current``.
"""

from __future__ import annotations

import json

from datadive_hub import provenance


def notebook(cells: list[dict]) -> bytes:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}).encode()


def code_cell(cid: str, source: str, datadive: dict) -> dict:
    return {
        "cell_type": "code",
        "id": cid,
        "source": source,
        "metadata": {"datadive": datadive},
        "outputs": [],
        "execution_count": None,
    }


def test_manifest_lists_templates_environment_and_data_read(team):
    v1 = team.put("data.csv", b"a,b\n1,2\n").json()
    v2 = team.put("data.csv", b"a,b\n1,2\n3,4\n").json()
    lock = team.put("requirements.lock", b"# from requirements.txt sha256:x\nsemopy==2.3.11\n")
    team.put("requirements.txt", b"semopy>=2.3\n")
    load = {"template": "load-csv", "version": "1.1.0", "values": {"file": "data.csv"}}
    cells = [
        code_cell(
            "c1",
            "df = pd.read_csv('data.csv')",
            {
                **load,
                "data_read": [
                    {
                        "path": "data.csv",
                        "etag": v1["etag"],
                        "size": 8,
                        "read_at": "2026-12-03T10:00:00Z",
                    }
                ],
            },
        ),
        code_cell(
            "c2", "df.describe()", {"template": "describe", "version": "1.0.0", "values": {}}
        ),
        code_cell(
            "c3",
            "df2 = pd.read_csv('data.csv')",
            {**load, "data_read": [{"path": "data.csv", "etag": v2["etag"]}]},
        ),
    ]
    team.put("analysis.ipynb", notebook(cells))
    team.put("other.ipynb", notebook([code_cell("d1", "x", load)]))
    team.put("broken.ipynb", b"{not json")

    r = team.call("POST", "snapshots", team.editor, json={"name": "paper"})
    assert r.status_code == 201, r.text
    snap = team.call("GET", "snapshots/paper", team.viewer).json()
    assert snap["templates"] == [
        {"id": "describe", "version": "1.0.0", "cells": 1, "notebooks": ["analysis.ipynb"]},
        {
            "id": "load-csv",
            "version": "1.1.0",
            "cells": 3,
            "notebooks": ["analysis.ipynb", "other.ipynb"],
        },
    ]
    env = snap["environment"]
    assert env["lock"]["path"] == "requirements.lock"
    assert env["lock"]["version_id"] == lock.json()["version_id"]
    assert env["requirements"]["path"] == "requirements.txt"
    reads = {(r["cell_id"], r["version_id"]) for r in snap["data_read"]}
    # c1 read the older version: found by its ETag among the file's versions
    assert reads == {("c1", v1["version_id"]), ("c3", v2["version_id"])}
    assert all(r["notebook"] == "analysis.ipynb" for r in snap["data_read"])
    assert snap["skipped_notebooks"] == []
    # still no bytes copied: the versions are the files' own
    assert snap["bytes"] == sum(f["size"] for f in snap["manifest"])


def test_a_project_without_lock_or_templates(team):
    team.put("x.csv", b"1\n")
    assert team.call("POST", "snapshots", json={"name": "bare"}).status_code == 201
    snap = team.call("GET", "snapshots/bare").json()
    assert snap["templates"] == [] and snap["environment"] is None and snap["data_read"] == []


def test_compare_two_snapshots_and_the_project_now(team):
    for name in ("kept.csv", "changed.csv", "removed.csv"):
        team.put(name, f"{name}\n".encode())
    assert team.call("POST", "snapshots", json={"name": "before"}).status_code == 201
    old_changed = team.call("GET", "snapshots/before").json()["manifest"]
    team.put("changed.csv", b"new content\n")
    team.call("DELETE", "files/removed.csv")
    team.put("added.csv", b"+\n")
    assert team.call("POST", "snapshots", json={"name": "after"}).status_code == 201

    r = team.call("GET", "snapshots/before/compare", team.viewer, params={"with": "after"})
    assert r.status_code == 200, r.text
    diff = r.json()
    assert (diff["from"], diff["to"]) == ("before", "after")
    assert [f["path"] for f in diff["added"]] == ["added.csv"]
    assert [f["path"] for f in diff["removed"]] == ["removed.csv"]
    assert [f["path"] for f in diff["changed"]] == ["changed.csv"]
    change = diff["changed"][0]
    was = next(f for f in old_changed if f["path"] == "changed.csv")
    assert change["from"]["version_id"] == was["version_id"]
    assert change["to"]["version_id"] != was["version_id"]
    assert diff["unchanged"] == 1

    # the other way round, and against the project as it is now
    back = team.call("GET", "snapshots/after/compare", params={"with": "before"}).json()
    assert [f["path"] for f in back["added"]] == ["removed.csv"]
    assert [f["path"] for f in back["removed"]] == ["added.csv"]
    team.put("kept.csv", b"edited after\n")
    now = team.call("GET", "snapshots/after/compare", params={"with": "current"}).json()
    assert [f["path"] for f in now["changed"]] == ["kept.csv"]
    assert now["added"] == [] and now["removed"] == []

    # a restore brings back the same content under a new version id: not a change
    assert team.call("POST", "snapshots/after/restore").status_code == 200
    now = team.call("GET", "snapshots/after/compare", params={"with": "current"}).json()
    assert now["changed"] == [] and now["unchanged"] == 3


def test_compare_bad_input(team):
    team.put("x.csv", b"1\n")
    assert team.call("POST", "snapshots", json={"name": "v1"}).status_code == 201
    r = team.call("GET", "snapshots/v1/compare")
    assert r.status_code == 400 and "?with=current" in r.json()["message"]
    for rest, params in (
        ("snapshots/v1/compare", {"with": "nope"}),
        ("snapshots/nope/compare", {"with": "v1"}),
    ):
        r = team.call("GET", rest, params=params)
        assert r.status_code == 404 and "No snapshot 'nope'" in r.json()["message"], r.text
    r = team.call("GET", "snapshots/v1/compare", team.outsider, params={"with": "current"})
    assert r.status_code == 404
    r = team.call("POST", "snapshots", json={"name": "current"})
    assert r.status_code == 400 and "choose another name" in r.json()["message"]


def test_which_notebooks_a_snapshot_reads(monkeypatch):
    monkeypatch.setattr(provenance, "MAX_NOTEBOOKS", 3)
    monkeypatch.setattr(provenance, "MAX_TOTAL_BYTES", 250)
    mb = 1 << 20
    entries = [
        {"path": "big.ipynb", "size": 17 * mb},  # larger than 16 MB
        {"path": "data.csv", "size": 1},
        {"path": ".ipynb_checkpoints/a-checkpoint.ipynb", "size": 1},
        *({"path": f"n{i}.ipynb", "size": 100} for i in range(3)),  # 250 bytes in all
        {"path": "tiny.ipynb", "size": 10},
        {"path": "small.ipynb", "size": 1},
    ]
    read, skipped = provenance.notebooks_to_read(entries)
    assert [f["path"] for f in read] == ["n0.ipynb", "n1.ipynb", "tiny.ipynb"]
    assert skipped == ["big.ipynb", "n2.ipynb", "small.ipynb"]  # too big, too much, too many
