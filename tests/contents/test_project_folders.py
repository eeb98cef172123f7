"""Folder labels of projects and the binding of working copies to project ids (in-process)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from datadive_contents.folders import assign_folders
from datadive_contents.manager import DatadiveContentsManager
from datadive_contents.stores.local import LocalDirectoryStore
from datadive_contents.workingcopy import WorkingCopy, conflict_name, numbered


def p(pid: str, name: str, created: str = "2026-01-01", role: str = "editor") -> dict:
    return {"id": pid, "name": name, "created_at": created, "role": role}


def folders(projects, previous=None, reserved=None):
    out, prev, res = assign_folders(projects, previous or {}, reserved or {})
    return {q["id"]: q["folder"] for q in out}, prev, res


def test_a_look_alike_never_takes_a_known_projects_folder():
    got, prev, res = folders([p("zzz", "Study")])
    assert got == {"zzz": "Study"}
    # a stranger's project of the same name, with an id and a date that sort first
    got, prev, res = folders([p("aaa", "Study", "2020-01-01"), p("zzz", "Study")], prev, res)
    assert got == {"zzz": "Study", "aaa": "Study (2)"}


def test_fresh_server_gives_the_plain_name_to_the_older_project():
    got, _, _ = folders([p("aaa", "Study", "2026-06-01"), p("zzz", "Study", "2025-01-01")])
    assert got == {"zzz": "Study", "aaa": "Study (2)"}


def test_a_label_is_never_reused_for_another_project():
    _, prev, res = folders([p("p1", "Study")])
    got, prev, res = folders([p("p1", "Study 2026")], prev, res)  # renamed
    assert got == {"p1": "Study 2026"}, "the new name shows at once"
    assert prev == {"p1": {"name": "Study 2026", "folder": "Study 2026"}}
    assert res == {"study": "p1", "study 2026": "p1"}
    got, prev, res = folders([p("p1", "Study 2026"), p("p2", "Study")], prev, res)
    assert got == {"p1": "Study 2026", "p2": "Study (2)"}, (
        "an open tab on Study/ never saves into p2"
    )
    _, prev, res = folders([], prev, res)  # both gone (deleted, access removed)
    got, _, _ = folders([p("p3", "Study"), p("p1", "Study")], prev, res)
    assert got["p1"] == "Study" and got["p3"] == "Study (3)", got


def test_labels_are_valid_folder_names_and_unique_ignoring_case():
    got, _, _ = folders([p("a", "../etc"), p("b", ".hidden/x"), p("c", "study"), p("d", "STUDY")])
    assert got["a"] == "-etc" and got["b"] == "hidden-x"
    more, _, _ = folders(
        [p("e", "a\\b"), p("f", "X-ray"), p("g", "   "), p("h", ""), p("i", "..")]
        + [{"id": "j", "name": None}]
    )
    assert more["e"] == "a-b" and more["f"] == "X-ray"
    # nothing left of the name: the folder is named after the project id
    assert (more["g"], more["h"], more["i"], more["j"]) == ("g", "h", "i", "j")
    assert {got["c"], got["d"]} == {"study", "STUDY (2)"}


def test_folders_stay_put_after_an_upgrade_without_reservations():
    """State written before labels were reserved (``reserved`` missing): a project keeps its
    folder while its name is unchanged, even when the plain name is free now."""
    previous = {
        "p1": {"name": "Study", "folder": "Study (2)"},
        "p2": {"name": "Notes", "folder": "Notes"},
    }
    got, prev, res = folders([p("p1", "Study"), p("p2", "Notes")], previous, {})
    assert got == {"p1": "Study (2)", "p2": "Notes"}
    assert prev == previous
    assert res == {"study (2)": "p1", "notes": "p2"}
    # and the plain name is not given to anyone else later
    got, _, _ = folders([p("p1", "Study"), p("p3", "Study (2)")], prev, res)
    assert got == {"p1": "Study (2)", "p3": "Study (2) (2)"}


def test_projects_without_a_date_come_first():
    got, _, _ = folders(
        [{"id": "b", "name": "S", "created_at": "2020-01-01"}, {"id": "z", "name": "S"}]
    )
    assert got == {"z": "S", "b": "S (2)"}


def test_conflict_names_never_pile_up_suffixes():
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    first = conflict_name("a/report.ipynb", "bob", when)
    assert first == "a/report.conflict-bob-20260102T030405Z.ipynb"
    assert conflict_name(first, "al", when) == "a/report.conflict-al-20260102T030405Z.ipynb"
    assert numbered(numbered(first, 2), 3) == "a/report.conflict-bob-20260102T030405Z-3.ipynb"
    assert numbered("a/b.conflict-x-20260102T030405Z.tar.gz", 2).endswith("Z-2.tar.gz")


def manager(tmp_path, projects: list[dict]) -> DatadiveContentsManager:
    return DatadiveContentsManager(
        root_dir=str(tmp_path / "home"),
        project_source=lambda: projects,
        project_store_factory=lambda pid: LocalDirectoryStore(str(tmp_path / "store" / pid)),
        poll_interval=0,
        project_cache_seconds=0,
        username="carol",
    )


async def test_rename_moves_only_the_label(tmp_path):
    projects = [p("p1", "Alpha")]
    cm = manager(tmp_path, projects)
    await cm.save({"type": "file", "format": "text", "content": "x"}, "Alpha/a.txt")
    assert os.path.islink(tmp_path / "home" / "Alpha")
    projects[0] = p("p1", "Beta")
    assert [e["name"] for e in (await cm.get(""))["content"]] == ["Beta"]
    assert not os.path.lexists(tmp_path / "home" / "Alpha")
    assert (tmp_path / "home" / "Beta" / "a.txt").read_text() == "x"
    assert await cm.flush_all() == {"Beta": 0}
    assert (tmp_path / "store" / "p1" / "a.txt").read_text() == "x", "nothing deleted remotely"
    await cm.shutdown()


async def test_an_earlier_name_keyed_folder_is_set_aside_not_synced(tmp_path):
    legacy = tmp_path / "home" / "Alpha"
    legacy.mkdir(parents=True)
    (legacy / "old.txt").write_text("from an earlier version")
    cm = manager(tmp_path, [p("p1", "Alpha")])
    assert (await cm.get("Alpha"))["content"] == []
    assert os.path.islink(legacy)
    aside = tmp_path / "home" / ".datadive-workingcopy" / "set-aside"
    kept = [d / "old.txt" for d in aside.iterdir()]
    assert [f.read_text() for f in kept] == ["from an earlier version"]
    await cm.flush_all()
    assert not (tmp_path / "store" / "p1" / "old.txt").exists()
    await cm.shutdown()


async def test_a_working_copy_that_vanished_deletes_nothing(tmp_path):
    store = LocalDirectoryStore(str(tmp_path / "store"))
    wc = WorkingCopy(store, str(tmp_path / "wc"), str(tmp_path / "state.sqlite"), project_id="p1")
    await wc.write("a.txt", b"1")
    await wc.write("b.txt", b"2")

    def stored():
        return sorted(n for n in os.listdir(tmp_path / "store") if not n.startswith("."))

    os.rename(tmp_path / "wc", tmp_path / "elsewhere")  # swapped or removed under us
    assert wc.changed_files() == []
    assert await wc.scan() == 0
    assert stored() == ["a.txt", "b.txt"]
    (tmp_path / "wc").mkdir()
    (tmp_path / "wc" / ".datadive-project").write_text("p2\n")  # another project's copy
    assert await wc.scan() == 0 and stored() == ["a.txt", "b.txt"]
    wc.close()


def test_a_folder_of_another_project_is_refused(tmp_path):
    store = LocalDirectoryStore(str(tmp_path / "store"))
    WorkingCopy(store, str(tmp_path / "wc"), str(tmp_path / "s1.sqlite"), project_id="p1").close()
    with pytest.raises(Exception, match="belongs|project p1, not p2"):
        WorkingCopy(store, str(tmp_path / "wc"), str(tmp_path / "s2.sqlite"), project_id="p2")


def test_two_first_opens_of_a_project_at_once_both_succeed(tmp_path):
    """Two requests that open a project for the first time build its working copy at the same
    moment; neither may read the other's half-written project marker (a 500 saying the folder
    "holds the working copy of project , not p1")."""
    import threading

    errors = []
    for i in range(150):
        root, barrier = tmp_path / f"r{i}", threading.Barrier(2)

        def build(n, root=root, barrier=barrier):
            barrier.wait()
            try:
                WorkingCopy(
                    LocalDirectoryStore(str(tmp_path / "store")),
                    str(root),
                    str(tmp_path / "state" / f"{root.name}-{n}.db"),
                    project_id="p1",
                ).close()
            except Exception as e:  # noqa: BLE001 - collected and reported below
                errors.append(e)

        threads = [threading.Thread(target=build, args=(n,)) for n in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []


def test_conflict_names_keep_folders_extensions_and_a_safe_user():
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    tag = "20260102T030405Z"
    assert conflict_name("v1.2/data.csv", "bob", when) == f"v1.2/data.conflict-bob-{tag}.csv"
    assert conflict_name("a.tar.gz", "bob", when) == f"a.conflict-bob-{tag}.tar.gz"
    assert conflict_name("my.analysis.ipynb", "bob", when) == (
        f"my.analysis.conflict-bob-{tag}.ipynb"
    )
    assert conflict_name(".env", "bob", when) == f".env.conflict-bob-{tag}"
    assert conflict_name("x.txt", "a.b@c d-e_f", when) == f"x.conflict-a_b_c_d-e_f-{tag}.txt"
    assert conflict_name("x.txt", "", when) == f"x.conflict-user-{tag}.txt"


def test_conflict_names_carry_the_time_in_utc(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        before = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        name = conflict_name("x.txt", "bob")
        after = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    stamp = name.split("-")[-1].removesuffix(".txt")
    assert before <= stamp <= after


async def test_many_requests_opening_many_projects_at_once_all_succeed(tmp_path):
    """Lab and the panel list the root and several folders at once on a fresh server: every
    project's working copy is set up once, and no request fails ("database is locked")."""
    import asyncio

    projects = [p(f"p{i:03d}", f"Project {i}") for i in range(40)]
    cm = manager(tmp_path, projects)
    cm.project_cache_seconds = 60
    calls = [cm.get("")] + [cm.get(f"Project {i}") for i in range(0, 40, 4)] * 2
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert len(results[0]["content"]) == 40
    homes = os.listdir(tmp_path / "home" / ".datadive-workingcopy" / "projects")
    assert len(homes) == 40
    await cm.shutdown()


async def test_a_project_made_after_the_list_was_read_opens_at_once(tmp_path):
    """The panel creates a project and opens its folder straight away: the server's cached
    project list (project_cache_seconds) must not answer "No such project folder"; a folder
    that does not exist still does, and misses do not ask the service more than once a second."""
    import time

    from tornado.web import HTTPError

    projects = [p("p1", "Alpha")]
    asked = []

    def source():
        asked.append(time.monotonic())
        return list(projects)

    cm = manager(tmp_path, projects)
    cm.project_source = source
    cm.project_cache_seconds = 600
    assert [e["name"] for e in (await cm.get(""))["content"]] == ["Alpha"]
    projects.append(p("p2", "Made later"))
    time.sleep(1.1)
    await cm.save({"type": "file", "format": "text", "content": "hi"}, "Made later/a.txt")
    assert (await cm.get("Made later/a.txt"))["content"] == "hi"
    before = len(asked)
    for _ in range(5):
        with pytest.raises(HTTPError) as e:
            await cm.get("Nowhere/x.txt")
        assert e.value.status_code == 404
    assert len(asked) - before <= 1, "misses re-read the list at most once a second"
    await cm.shutdown()
