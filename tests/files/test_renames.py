"""History follows a file across renames and moves (local directory store and S3): the versions
it had under earlier names are listed with the new name's, the file keeps its id, an old version
restores into the new name, and a new file at the old name starts a history of its own."""

from __future__ import annotations


def versions(team, path, user=None, **params) -> dict:
    r = team.call("GET", f"versions/{path}", user, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def all_versions(team, path) -> list[dict]:
    out, cursor = [], None
    while True:
        page = versions(team, path, limit=2, **({"cursor": cursor} if cursor else {}))
        out += page["versions"]
        cursor = page["next"]
        if not cursor:
            return out


def move(team, src, dst, user=None):
    r = team.call("POST", "files:move", user, json={"from": src, "to": dst})
    assert r.status_code == 200, r.text


def test_a_renamed_file_keeps_its_id_and_its_earlier_versions(team):
    team.put("draft.csv", b"v1\n")
    team.put("draft.csv", b"v2\n", user=team.editor)
    file_id = versions(team, "draft.csv")["file_id"]
    assert file_id
    move(team, "draft.csv", "data/final.csv", user=team.editor)
    team.put("data/final.csv", b"v3\n")

    page = versions(team, "data/final.csv", user=team.viewer)
    assert page["file_id"] == file_id
    got = all_versions(team, "data/final.csv")  # paged two at a time, across both names
    assert [v["path"] for v in got] == ["data/final.csv"] * 2 + ["draft.csv"] * 2
    assert [v["author"] for v in got] == [
        team.owner.name,
        team.editor.name,  # the move wrote the file under its new name
        team.editor.name,
        team.owner.name,
    ]
    assert [v["is_current"] for v in got] == [True, False, False, False]

    # a version from its old name reads through the new name (as the panel and pages do)
    r = team.get("data/final.csv", params={"version_id": got[-1]["version_id"]})
    assert r.status_code == 200 and r.content == b"v1\n"

    # the first version, from its old name, rolls forward into the new one
    r = team.call("POST", "versions/data/final.csv", json={"version_id": got[-1]["version_id"]})
    assert r.status_code == 200, r.text
    assert team.get("data/final.csv").content == b"v1\n"
    assert team.get("draft.csv").status_code == 404  # nothing reappears under the old name


def test_a_new_file_at_an_old_name_has_a_history_of_its_own(team):
    team.put("notes.txt", b"old file\n")
    old_id = versions(team, "notes.txt")["file_id"]
    move(team, "notes.txt", "archive/notes.txt")
    team.put("notes.txt", b"new file\n")
    page = versions(team, "notes.txt")
    assert page["file_id"] != old_id
    assert [v["path"] for v in page["versions"]] == ["notes.txt"]
    moved = versions(team, "archive/notes.txt")
    assert moved["file_id"] == old_id
    assert [v["path"] for v in moved["versions"]] == ["archive/notes.txt", "notes.txt"]


def test_files_moved_with_their_folder_keep_their_history(team):
    team.put("raw/a.csv", b"a1\n")
    team.put("raw/a.csv", b"a2\n")
    team.put("raw/b.csv", b"b1\n")
    move(team, "raw", "inputs")
    got = versions(team, "inputs/a.csv")["versions"]
    assert [v["path"] for v in got] == ["inputs/a.csv", "raw/a.csv", "raw/a.csv"]
    assert [v["path"] for v in versions(team, "inputs/b.csv")["versions"]] == [
        "inputs/b.csv",
        "raw/b.csv",
    ]


def test_a_notebook_renamed_through_the_notebooks_api_keeps_its_history(team):
    r = team.call("POST", "notebooks", json={"path": "analysis.ipynb"})
    assert r.status_code == 201, r.text
    nb = r.json()
    r = team.call("PATCH", f"notebooks/{nb['id']}", json={"path": "final/analysis.ipynb"})
    assert r.status_code == 200, r.text
    got = versions(team, "final/analysis.ipynb")["versions"]
    assert [v["path"] for v in got] == ["final/analysis.ipynb", "analysis.ipynb"]


def test_a_made_up_cursor_for_a_renamed_file_is_refused(team):
    team.put("x.txt", b"1")
    move(team, "x.txt", "y.txt")
    r = team.call("GET", "versions/y.txt", params={"cursor": "bm90LWEtY3Vyc29y"})
    assert r.status_code == 400 and "cursor" in r.json()["message"]
