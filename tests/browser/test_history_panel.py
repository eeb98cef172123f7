"""History in the panel (issue 13), in a real JupyterLab on the real platform: a notebook saved
twice (an upload, then a run and a save in Lab that change an output and an image) → its
Versions tab (newest first, authors, current marked) → the old version opened read-only in its
own tab → the two compared cell by cell (the changed cells marked, the image before and after) →
the old version restored (the open notebook reloads with it) → a file deleted in Lab's server and
restored from "Recently deleted", and a restore refused (409) because the path exists again.
Screenshots go to test-artifacts/browser/history_panel/.
"""

from __future__ import annotations

import base64
import json
import uuid
from urllib.parse import quote

import nbformat
import pytest
import requests

state: dict = {}

#: the notebook's first cell: a PNG whose colour follows ``value`` (red for 1, blue otherwise)
PNG_CODE = """import struct, zlib
from IPython.display import Image, display

def png(value, w=120, h=48):
    color = bytes([200, 40, 40]) if value == 1 else bytes([40, 80, 200])
    raw = b"".join(b"\\x00" + color * w for _ in range(h))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    head = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", head) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")"""


def first_version() -> bytes:
    """The notebook as uploaded: value = 1 printed, and its red picture."""
    scope: dict = {}
    exec(PNG_CODE, scope)  # noqa: S102 - our own constant, to store the outputs it makes
    red = base64.b64encode(scope["png"](1)).decode()
    v4 = nbformat.v4
    cells = [
        v4.new_markdown_cell("# Sleep study\nHours slept per night.", id="intro"),
        v4.new_code_cell(PNG_CODE, id="png", execution_count=1),
        v4.new_code_cell(
            "value = 1\nprint(value)",
            id="value",
            execution_count=2,
            outputs=[v4.new_output("stream", text="1\n")],
        ),
        v4.new_code_cell(
            "display(Image(data=png(value)))",
            id="plot",
            execution_count=3,
            outputs=[
                v4.new_output("display_data", data={"image/png": red, "text/plain": "<Image>"})
            ],
        ),
    ]
    nb = v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nbformat.writes(nb).encode()


@pytest.fixture(scope="module")
def hist(lab, platform, researcher):
    project = platform.project(researcher, f"History {uuid.uuid4().hex[:4]}")
    r = platform.call(
        "PUT", f"projects/{project['id']}/files/sleep.ipynb", researcher, data=first_version()
    )
    assert r.status_code == 201, r.text
    state["project"] = project
    lab.decline_news()
    return lab


def panel(lab):
    return lab.page.locator("#datadive-panel")


def open_project(lab) -> None:
    lab.open_project(state["project"]["name"])
    panel(lab).get_by_role("tab", name="Files").click()


def notebook(lab):
    return lab.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")


def stored_notebook(platform, researcher) -> dict:
    r = platform.call("GET", f"projects/{state['project']['id']}/files/sleep.ipynb", researcher)
    assert r.status_code == 200, r.text
    return json.loads(r.content)


def test_a_notebook_saved_twice(hist, platform, researcher):
    """Open the uploaded notebook in Lab, change the value, run everything and save."""
    open_project(hist)
    panel(hist).get_by_role("button", name="Open notebook sleep.ipynb").click()
    nb = notebook(hist)
    nb.locator(".jp-Notebook").wait_for(timeout=60_000)
    hist.dismiss_dialogs()
    hist.page.locator(".jp-StatusBar-Widget", has_text="| Idle").first.wait_for(timeout=120_000)
    cell = nb.locator(".jp-CodeCell").nth(1)
    cell.locator(".cm-content").click()
    hist.page.keyboard.press("Control+a")
    hist.page.keyboard.type("value = 2\nprint(value)")
    plot = nb.locator(".jp-CodeCell").nth(2)
    for attempt in range(4):  # the kernel may still be connecting: run again
        nb.locator(".jp-CodeCell").first.locator(".jp-InputPrompt").click()
        for key in ("Shift+Enter", "Shift+Enter", "Control+Enter"):  # no new cell at the end
            hist.page.keyboard.press(key)
        hist.dismiss_dialogs()
        try:
            cell.locator(".jp-OutputArea", has_text="2").wait_for(timeout=30_000)
            plot.locator(".jp-OutputArea img").wait_for(timeout=30_000)
            break
        except Exception:  # noqa: BLE001 - retried; the last attempt raises
            if attempt == 3:
                raise
    hist.page.keyboard.press("Control+s")
    hist.page.wait_for_function(
        "() => !document.querySelector('.lm-DockPanel-tabBar .lm-mod-current.jp-mod-dirty')",
        timeout=30_000,
    )
    saved = stored_notebook(platform, researcher)
    assert "value = 2" in "".join(saved["cells"][2]["source"])
    # nbdime (installed for the diffs) adds no git / checkpoint-diff buttons: its Lab
    # extension is off (jupyter-config/labconfig/page_config.d/datadive.json)
    toolbar = nb.locator(".jp-NotebookPanel-toolbar")
    assert toolbar.locator("[data-command^='nbdime']").count() == 0
    assert toolbar.get_by_title("git", exact=False).count() == 0
    hist.shot("notebook-saved-in-lab")


def versions_tab(lab):
    return lab.page.locator(".dd-HistoryTab:not(.lm-mod-hidden) .dd-Versions")


def test_versions_list_newest_first_with_authors(hist, researcher):
    open_project(hist)
    panel(hist).get_by_role("button", name="Versions of sleep.ipynb").click()
    tab = versions_tab(hist)
    rows = tab.locator("tbody tr.dd-Version")
    rows.nth(1).wait_for()
    assert rows.count() == 2
    first, second = rows.nth(0), rows.nth(1)
    # newest first, the current one marked, each with its author and size
    assert first.locator(".dd-CurrentBadge").inner_text() == "current"
    assert second.locator(".dd-CurrentBadge").count() == 0
    times = [t.get_attribute("datetime") for t in tab.locator("tbody time").all()]
    assert times == sorted(times, reverse=True), times
    for row in (first, second):
        assert researcher.name in row.inner_text()
        assert "B" in row.locator("td").nth(3).inner_text()
    tab_title = hist.page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")
    assert tab_title.inner_text().strip() == "Versions: sleep.ipynb"
    state["old_id"] = second.get_attribute("data-version-id")
    state["old_when"] = second.locator("time").inner_text()
    assert hist.axe(".dd-HistoryTab:not(.lm-mod-hidden)") == []
    hist.shot("versions-list")


def test_an_old_version_opens_read_only(hist):
    row = versions_tab(hist).locator(f"tr[data-version-id='{state['old_id']}']")
    row.get_by_role("button", name="Open the version of").click()
    view = hist.page.locator(".dd-HistoryTab:not(.lm-mod-hidden) .dd-VersionViewer")
    view.locator(".dd-VersionCell").nth(3).wait_for()
    title = hist.page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current").inner_text()
    assert title.strip().startswith(f"sleep.ipynb @ {state['old_when']}"), title
    assert "Read-only" in view.locator(".dd-ReadOnlyBanner").inner_text()
    # the markdown rendered, the old code and its output, the old picture
    assert view.locator(".dd-VersionCell h1", has_text="Sleep study").count() == 1
    cells = view.locator(".dd-VersionCell")
    assert "value = 1" in cells.nth(2).inner_text()
    assert cells.nth(2).locator(".jp-OutputArea-output").inner_text().strip() == "1"
    img = cells.nth(3).locator("img")
    assert img.evaluate("i => i.complete && i.naturalWidth") == 120
    # nothing to edit: no editor, no kernel
    assert view.locator(".cm-editor, [contenteditable='true']").count() == 0
    hist.shot("old-version-read-only")


def test_two_versions_compared_cell_by_cell(hist):
    hist.page.locator(
        ".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="Versions: sleep.ipynb"
    ).click()
    row = versions_tab(hist).locator(f"tr[data-version-id='{state['old_id']}']")
    row.get_by_role("button", name="Compare the version of").click()
    diff = hist.page.locator(".dd-HistoryTab:not(.lm-mod-hidden) .dd-DiffView")
    diff.locator(".dd-DiffHeadline").wait_for(timeout=60_000)
    assert diff.locator(".dd-DiffHeadline").inner_text() == "2 changed, 2 unchanged"
    changed = diff.locator(".dd-DiffCell[data-status='changed']")
    assert changed.count() == 2
    value, plot = changed.nth(0), changed.nth(1)
    assert "Cell 3" in value.inner_text() and "code changed" in value.inner_text()
    assert value.locator(".dd-DiffLine.dd-mod-removed").inner_text().endswith("value = 1")
    assert value.locator(".dd-DiffLine.dd-mod-added").inner_text().endswith("value = 2")
    assert value.locator(".dd-DiffOutput.dd-mod-before").inner_text().strip() == "1"
    assert value.locator(".dd-DiffOutput.dd-mod-after").inner_text().strip() == "2"
    assert "Cell 4" in plot.inner_text() and "outputs changed" in plot.inner_text()
    before = plot.locator(".dd-DiffOutput.dd-mod-before img")
    after = plot.locator(".dd-DiffOutput.dd-mod-after img")
    assert before.evaluate("i => i.complete && i.naturalWidth") == 120
    assert after.evaluate("i => i.complete && i.naturalWidth") == 120
    assert before.get_attribute("src") != after.get_attribute("src")
    # unchanged cells folded, shown on request
    assert diff.locator(".dd-DiffCell[data-status='unchanged']").count() == 0
    diff.get_by_label("Show unchanged cells").check()
    assert diff.locator(".dd-DiffCell[data-status='unchanged']").count() == 2
    diff.get_by_label("Show unchanged cells").uncheck()
    assert hist.axe(".dd-HistoryTab:not(.lm-mod-hidden)") == []
    hist.shot("compared-cell-by-cell")


def test_restore_the_old_version(hist, platform, researcher):
    hist.page.locator(
        ".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="Versions: sleep.ipynb"
    ).click()
    tab = versions_tab(hist)
    row = tab.locator(f"tr[data-version-id='{state['old_id']}']")
    row.get_by_role("button", name="Restore the version of").click()
    dialog = hist.page.locator(".jp-Dialog")
    dialog.wait_for()
    assert "becomes a new, newest version" in dialog.inner_text()
    assert "The open document reloads" in dialog.inner_text()
    hist.shot("restore-asks-first")
    dialog.get_by_role("button", name="Restore").click()
    # rolled forward: three versions, the newest current, the two before kept
    tab.locator("tbody tr.dd-Version").nth(2).wait_for()
    assert tab.locator("tbody tr.dd-Version").count() == 3
    saved = stored_notebook(platform, researcher)
    assert "".join(saved["cells"][2]["source"]) == "value = 1\nprint(value)"
    # the open notebook shows the restored version
    hist.page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="sleep.ipynb").filter(
        has_not_text="Versions"
    ).filter(has_not_text="@").filter(has_not_text="Compare").first.click()
    nb = notebook(hist)
    nb.locator(".jp-CodeCell").nth(1).locator(".cm-content", has_text="value = 1").wait_for()
    assert nb.locator(".jp-CodeCell").nth(1).locator(".jp-OutputArea").inner_text().strip() == "1"
    # reloaded, not edited: nothing unsaved
    assert hist.page.locator(".lm-DockPanel-tabBar .lm-mod-current.jp-mod-dirty").count() == 0
    hist.shot("restored-notebook-reloaded")


def delete_in_lab(platform, researcher, path: str) -> None:
    """Delete through the user's Jupyter server (what Lab's file browser does)."""
    folder = state["project"]["name"]
    r = requests.delete(
        f"{platform.url}/user/{researcher.name}/api/contents/{quote(folder)}/{quote(path)}",
        headers=researcher.headers,
        timeout=60,
    )
    assert r.status_code == 204, r.text


def test_a_deleted_file_comes_back_from_recently_deleted(hist, platform, researcher):
    pid = state["project"]["id"]
    r = platform.call("PUT", f"projects/{pid}/files/notes.csv", researcher, data=b"a,b\n1,2\n")
    assert r.status_code == 201, r.text
    delete_in_lab(platform, researcher, "notes.csv")
    open_project(hist)
    p = panel(hist)
    p.get_by_role("button", name="Refresh the files of this project").click()
    assert p.get_by_role("button", name="Open notes.csv").count() == 0
    trash = p.locator(".dd-Trash")
    trash.locator("summary").click()
    entry = trash.locator(".dd-TrashEntry", has_text="notes.csv")
    entry.wait_for()
    assert f"by {researcher.name}" in entry.inner_text()
    hist.shot("recently-deleted")
    entry.get_by_role("button", name="Restore notes.csv").click()
    p.get_by_role("button", name="Open notes.csv").wait_for()
    r = platform.call("GET", f"projects/{pid}/files/notes.csv", researcher)
    assert r.status_code == 200 and r.content == b"a,b\n1,2\n"
    hist.shot("restored-from-recently-deleted")

    # the file browser's context menu opens its versions too; a CSV version shows as text
    p.get_by_role("button", name="Open folder").click()
    item = hist.page.locator(".jp-DirListing-item", has_text="notes.csv")
    item.click(button="right")
    hist.page.locator(".lm-Menu-item", has_text="Versions (Datadive)").click()
    tab = versions_tab(hist)
    tab.locator("h2", has_text="Versions of notes.csv").wait_for()
    rows = tab.locator("tbody tr.dd-Version")
    rows.nth(1).wait_for()  # written, then restored (a new version)
    assert tab.get_by_role("columnheader", name="Compare").count() == 0  # notebooks only
    hist.shot("versions-from-file-browser")
    rows.first.get_by_role("button", name="Open the version of").click()
    text = hist.page.locator(".dd-HistoryTab:not(.lm-mod-hidden) .dd-VersionText")
    text.wait_for()
    assert text.inner_text() == "a,b\n1,2\n"

    # deleted again, then a new notes.csv: restoring the old one is refused, and says why
    hist.open_panel()
    delete_in_lab(platform, researcher, "notes.csv")
    r = platform.call("PUT", f"projects/{pid}/files/notes.csv", researcher, data=b"new\n")
    assert r.status_code == 201, r.text
    p.get_by_role("button", name="Refresh the files of this project").click()
    trash.locator("summary").click()  # close and open: read again
    trash.locator("summary").click()
    entry = trash.locator(".dd-TrashEntry", has_text="notes.csv").first
    entry.wait_for()
    entry.get_by_role("button", name="Restore notes.csv").click()
    alert = trash.get_by_role("alert")
    alert.wait_for()
    assert '"notes.csv" was not restored' in alert.inner_text()
    assert "exists again" in alert.inner_text() and "Rename or delete" in alert.inner_text()
    r = platform.call("GET", f"projects/{pid}/files/notes.csv", researcher)
    assert r.content == b"new\n"  # nothing changed
    hist.shot("restore-refused-path-exists")
