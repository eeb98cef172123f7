"""Where a new notebook or file lands when it is made where the user cannot write (in-process,
a real DatadiveContentsManager on local directory stores)."""

from __future__ import annotations

import pytest
from datadive_contents.manager import DatadiveContentsManager
from datadive_contents.stores.local import LocalDirectoryStore
from tornado.web import HTTPError


def p(pid: str, name: str, role: str = "editor") -> dict:
    return {"id": pid, "name": name, "created_at": "2026-01-01", "role": role}


def manager(tmp_path, projects: list[dict], **kw) -> DatadiveContentsManager:
    return DatadiveContentsManager(
        root_dir=str(tmp_path / "home"),
        project_source=lambda: list(projects),
        project_store_factory=lambda pid: LocalDirectoryStore(str(tmp_path / "store" / pid)),
        poll_interval=0,
        project_cache_seconds=60,  # the creator must make the manager ask again
        username="carol",
        **kw,
    )


async def names(cm, path: str) -> list[str]:
    return sorted(e["name"] for e in (await cm.get(path))["content"])


async def test_launcher_notebook_at_the_root_lands_in_the_open_project(tmp_path):
    cm = manager(tmp_path, [p("p1", "Alpha"), p("p2", "Beta")])
    cm.current_project = "p2"
    model = await cm.new_untitled("", type="notebook")
    assert model["path"] == "Beta/Untitled.ipynb"
    assert await names(cm, "Beta") == ["Untitled.ipynb"]
    # a second one does not overwrite the first
    assert (await cm.new_untitled("", ext=".ipynb"))["path"] == "Beta/Untitled1.ipynb"
    # and the file reaches the project's store
    await cm.flush_all()
    assert (tmp_path / "store" / "p2" / "Untitled.ipynb").exists()
    await cm.shutdown()


async def test_a_viewers_project_sends_new_files_to_the_open_writable_one(tmp_path):
    cm = manager(tmp_path, [p("ro", "Shared", role="viewer"), p("p1", "Mine", role="owner")])
    cm.current_project = "p1"
    model = await cm.new_untitled("Shared", type="file", ext=".py")
    assert model["path"] == "Mine/untitled.py"
    # a new file with a chosen name keeps its name
    model = await cm.new(path="Shared/notes.md")
    assert model["path"] == "Mine/notes.md"
    assert await names(cm, "Shared") == []
    await cm.shutdown()


async def test_where_the_user_can_write_nothing_moves(tmp_path):
    cm = manager(tmp_path, [p("p1", "Alpha"), p("p2", "Beta")])
    cm.current_project = "p2"
    assert (await cm.new_untitled("Alpha", type="notebook"))["path"] == "Alpha/Untitled.ipynb"
    await cm.shutdown()


async def test_personal_project_is_created_on_first_use_and_reused(tmp_path):
    projects = [p("ro", "Shared", role="viewer")]
    made = []

    async def creator(name):
        made.append(name)
        project = {**p(f"me{len(made)}", name, role="owner")}
        projects.append(project)
        return project

    cm = manager(tmp_path, projects, project_creator=creator)
    cm.current_project = "ro"  # open in the panel, but read-only
    model = await cm.new_untitled("", type="notebook")
    assert model["path"] == "My work/Untitled.ipynb"
    assert await names(cm, "") == ["My work", "Shared"]
    model = await cm.new_untitled("", type="notebook")
    assert model["path"] == "My work/Untitled1.ipynb"
    assert made == ["My work"], "the personal project is made once"
    await cm.shutdown()


async def test_personal_project_name_is_a_setting_and_found_by_name(tmp_path):
    cm = manager(
        tmp_path,
        [p("a", "Alpha"), p("w", "Scratch", role="owner")],
        personal_project_name="Scratch",
        project_creator=lambda name: pytest.fail("an existing personal project is reused"),
    )
    assert (await cm.new_untitled("", type="notebook"))["path"] == "Scratch/Untitled.ipynb"
    await cm.shutdown()


async def test_nothing_fits_a_403_names_the_writable_projects(tmp_path):
    cm = manager(
        tmp_path,
        [p("a", "Alpha"), p("b", "Beta", role="viewer"), p("c", "Gamma", role="owner")],
        create_personal_project=False,
    )
    with pytest.raises(HTTPError) as e:
        await cm.new_untitled("", type="notebook")
    assert e.value.status_code == 403
    msg = e.value.log_message
    assert "only lists your Datadive projects" in msg
    assert "'Alpha', 'Gamma'" in msg and "Beta" not in msg
    assert await names(cm, "") == ["Alpha", "Beta", "Gamma"], "nothing was created"
    await cm.shutdown()


async def test_no_writable_project_says_how_to_get_one(tmp_path):
    cm = manager(tmp_path, [p("b", "Beta", role="viewer")], create_personal_project=False)
    with pytest.raises(HTTPError) as e:
        await cm.new_untitled("Beta", type="file")
    assert e.value.status_code == 403
    assert "create one in the Datadive panel" in e.value.log_message
    await cm.shutdown()


async def test_a_failed_creation_says_what_to_do(tmp_path):
    class Refused(Exception):
        status, message = 409, "You already have a project named 'My work'"

    def creator(name):
        raise Refused()

    cm = manager(tmp_path, [], project_creator=creator)
    with pytest.raises(HTTPError) as e:
        await cm.new_untitled("", type="notebook")
    assert e.value.status_code == 409
    assert "could not be created" in e.value.log_message
    assert "You already have a project" in e.value.log_message
    await cm.shutdown()


async def test_a_new_folder_at_the_root_is_refused_with_the_reason(tmp_path):
    cm = manager(tmp_path, [p("a", "Alpha")])
    cm.current_project = "a"
    with pytest.raises(HTTPError) as e:
        await cm.new_untitled("", type="directory")
    assert e.value.status_code == 403 and "inside a project folder" in e.value.log_message
    assert (await cm.new_untitled("Alpha", type="directory"))["path"] == "Alpha/Untitled Folder"
    await cm.shutdown()
