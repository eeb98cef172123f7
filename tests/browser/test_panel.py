"""The Datadive panel in a real JupyterLab served by a real JupyterHub (``datadive up``).

One researcher's session, in order (each test continues where the previous one left off):
sign in → create a project → create a notebook → upload and preview a CSV → a larger upload
shows its progress bar → insert a template cell through the form → run it and see its output →
reopen the form from the cell (context menu, then the cell toolbar's button), change a value and
see the cell update → a hand-edited cell asks before it is replaced → reload and find the draft
kept → column pickers filled from the chosen dataset → the sync status-bar item in each state
(synced, syncing, conflict, offline; forced in the browser) and its details
→ axe-core on every view of the panel, forms included, in the light and the dark theme →
timings (Insert → cell; open panel → 200 projects, prefetched and cold) → rename, members,
delete, restore → a group member → a project shared as viewer → the command palette and the
keyboard only.
Screenshots of every step go to test-artifacts/browser/panel/; timings to test-artifacts/browser/timings.json.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from pathlib import Path

import requests
from datadive_platform import unavailable

state: dict = {}

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"

INSERT_TARGET_MS = 300
PROJECTS_TARGET_MS = 500


def panel(lab):
    return lab.page.locator("#datadive-panel")


def find_project(lab, project: dict):
    """Show the panel's project list, fresh, filtered to ``project``'s name; the panel."""
    return lab.find_project(project["name"])


def open_project(lab, project: dict):
    """Find ``project`` in the panel's list and open it; the panel."""
    return lab.open_project(project["name"])


def active_notebook(lab):
    return lab.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")


def selected_text(select) -> str:
    """The visible text of a <select>'s chosen option (rjsf uses indexes as option values)."""
    return select.evaluate("e => e.selectedIndex < 0 ? '' : e.options[e.selectedIndex].text")


def server_route_exists(platform, user, route: str) -> str | None:
    """None if ``<server>/datadive/<route>`` answers, else the reason it does not."""
    r = requests.get(
        f"{platform.url}/user/{user.name}/datadive/{route}", headers=user.headers, timeout=30
    )
    if r.status_code == 404:
        return f"the server extension has no route datadive/{route} yet (404)"
    return None


def test_sign_in_shows_the_panel(lab):
    lab.open_panel()
    body = panel(lab)
    body.get_by_text("No projects yet").wait_for()
    lab.shot("panel-empty")
    assert body.get_by_label("New project name").is_visible()


def test_create_project(lab):
    name = f"Sleep study {uuid.uuid4().hex[:4]}"
    state["project_name"] = name
    p = panel(lab)
    p.get_by_label("New project name").fill(name)
    p.get_by_role("button", name="Create", exact=True).click()
    # the new project opens: its name as heading, the owner role, the Files tab
    p.locator(".dd-ProjectName", has_text=name).wait_for()
    assert p.locator(".dd-ProjectHeader .dd-Role").inner_text() == "owner"
    lab.shot("project-created")
    p.get_by_role("button", name="Back to all projects").click()
    item = p.locator(".dd-Project", has_text=name)
    item.wait_for()
    state["project_id"] = item.get_attribute("data-project-id")
    lab.shot("project-list")
    item.locator(".dd-ItemMain").click()
    p.locator(".dd-ProjectName", has_text=name).wait_for()


def test_server_error_message_is_shown(lab):
    """A duplicate name: the service's own message appears in the panel."""
    p = panel(lab)
    p.get_by_role("button", name="Back to all projects").click()
    p.get_by_label("New project name").fill(state["project_name"])
    p.get_by_role("button", name="Create", exact=True).click()
    alert = p.get_by_role("alert")
    alert.wait_for()
    assert "already have a project named" in alert.inner_text()
    lab.shot("server-error-shown")
    p.get_by_role("button", name="Dismiss the error").click()
    p.get_by_label("New project name").fill("")
    p.locator(".dd-Project", has_text=state["project_name"]).locator(".dd-ItemMain").click()
    p.locator(".dd-ProjectName", has_text=state["project_name"]).wait_for()


def test_create_notebook(lab):
    p = panel(lab)
    p.get_by_label("New notebook name").fill("analysis")
    p.get_by_role("button", name="New notebook").click()
    p.get_by_role("button", name="Open notebook analysis.ipynb").wait_for()
    # the notebook opens in the main area
    lab.page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(timeout=60_000)
    lab.dismiss_dialogs()
    tab = lab.page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="analysis.ipynb")
    tab.wait_for()
    lab.page.locator(
        ".jp-NotebookPanel .jp-Notebook-ExecutionIndicator, .jp-Toolbar-kernelName"
    ).first.wait_for()
    lab.shot("notebook-created")


def close_preview_tab(lab, file: str) -> None:
    tab = lab.page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text=f"Preview: {file}")
    tab.locator(".lm-TabBar-tabCloseIcon").click()
    tab.wait_for(state="detached")


def test_upload_and_preview_csv(lab, platform, researcher, sample_csv):
    p = panel(lab)
    lab.page.set_input_files("#dd-upload-input", str(sample_csv))
    row = p.locator(".dd-File", has_text="survey.csv")
    row.wait_for(timeout=60_000)
    lab.shot("csv-uploaded")
    # the server's working copy has the file, so a kernel can read it (the panel lists the
    # project's folder after an upload; nothing else in this test lists it)
    local = platform.data_dir / "users" / researcher.name / state["project_name"] / "survey.csv"
    deadline = time.monotonic() + 20
    while not local.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert local.exists(), f"{local} not in the working copy after the upload"
    row.get_by_role("button", name="Preview survey.csv").click()
    # the preview opens in a main-area tab (Lab's DataGrid + column summaries)
    tab = lab.page.locator(".dd-PreviewTab:not(.lm-mod-hidden)", has_text="survey.csv")
    tab.locator(".dd-PreviewGrid[data-state='rows']").wait_for()
    assert tab.locator(".dd-PreviewCounts").inner_text() == "3 rows · 3 columns"
    table = tab.locator(".dd-SummaryTable")
    names = table.locator("tbody th").all_inner_texts()
    assert names == ["participant", "age", "score"]
    types = [r.locator("td").first.inner_text() for r in table.locator("tbody tr").all()]
    assert all(t for t in types), types  # every column shows an inferred type
    state["preview_types"] = types
    lab.shot("csv-preview")
    close_preview_tab(lab, "survey.csv")  # the notebook is in front again


THROTTLE_OFF = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}


def test_upload_shows_progress_bar(lab, tmp_path):
    """A larger file over a throttled uplink (Chromium's network emulation): the progress bar
    appears, moves, and goes away when the upload is done."""
    big = tmp_path / "recording.bin"
    big.write_bytes(os.urandom(4 * 1024 * 1024))
    p = panel(lab)
    cdp = lab.page.context.new_cdp_session(lab.page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {**THROTTLE_OFF, "uploadThroughput": 1 << 20})
    try:
        lab.page.set_input_files("#dd-upload-input", str(big))
        bar = p.locator("#dd-upload-progress")
        bar.wait_for()
        assert "Uploading recording.bin" in p.locator(".dd-Upload").inner_text()
        # the bar moves: some progress, not yet complete
        lab.page.wait_for_function(
            "() => { const b = document.getElementById('dd-upload-progress');"
            " return b && b.value >= 10 && b.value < 90; }",
            timeout=60_000,
        )
        value = bar.evaluate("b => b.value")
        lab.shot("upload-progress-bar")
        assert 0 < value < 100
        assert "% of 4.0 MB" in p.locator(".dd-Upload").inner_text()
        bar.wait_for(state="detached", timeout=120_000)
    finally:
        cdp.send("Network.emulateNetworkConditions", THROTTLE_OFF)
        cdp.detach()
    p.locator(".dd-File", has_text="recording.bin").wait_for()
    lab.shot("upload-done")


def _open_template(lab, platform, researcher, template: str, search: str):
    reason = server_route_exists(platform, researcher, "api/templates")
    if reason:
        unavailable(reason)
    p = panel(lab)
    if p.locator(".dd-Form").count():
        p.get_by_role("button", name="Back from the form").click()
    if not p.get_by_role("tab", name="Templates").count():
        p.locator(".dd-Project", has_text=state["project_name"]).locator(".dd-ItemMain").click()
    p.get_by_role("tab", name="Templates").click()
    p.get_by_label("Search templates").fill(search)
    card = p.locator(f".dd-Template[data-template-id='{template}'] .dd-TemplateCard")
    card.wait_for()
    return card


def test_gallery_search_category_tags(lab, platform, researcher):
    _open_template(lab, platform, researcher, "load-csv", "")
    p = panel(lab)
    total = p.locator(".dd-Template").count()
    assert total >= 3
    p.get_by_label("Search templates").fill("csv")
    p.locator(".dd-Template[data-template-id='load-csv']").wait_for()
    assert p.locator(".dd-Template").count() < total
    p.get_by_label("Search templates").fill("")
    p.get_by_label("Category").select_option("Explore")
    assert p.locator(".dd-Template").count() < total
    p.get_by_label("Category").select_option("")
    lab.shot("template-gallery")


def test_insert_template_cell_and_run_it(lab, platform, researcher, timings):
    card = _open_template(lab, platform, researcher, "load-csv", "csv")
    card.click()
    p = panel(lab)
    form = p.locator(".dd-Form")
    form.wait_for()
    # the file picker is filled from the project's files
    file_field = form.locator("#dd-form_file")
    file_field.wait_for()
    file_field.select_option("survey.csv")
    lab.shot("template-form-filled")
    # make the notebook's first cell active (the insert goes below it)
    nb = active_notebook(lab)
    nb.locator(".jp-Cell").first.locator(".jp-InputPrompt").click()
    cells_before = nb.locator(".jp-Cell").count()
    first = timed_click(lab, form.locator(".dd-Insert"), "cells")
    timings["insert_click_to_cell_first_ms"] = first["dom_ms"]
    timings["insert_click_to_cell_first_next_frame_ms"] = first["frame_ms"]
    code_cell = nb.locator(".jp-CodeCell", has_text="pd.read_csv").last
    code_cell.wait_for()
    assert nb.locator(".jp-Cell").count() > cells_before
    source = code_cell.locator(".jp-InputArea-editor").inner_text()
    assert "'survey.csv'" in source or '"survey.csv"' in source, source
    lab.shot("template-cell-inserted")
    # run it: Shift+Enter on the generated cell
    code_cell.locator(".jp-InputPrompt").click()
    lab.page.keyboard.press("Shift+Enter")
    lab.dismiss_dialogs()
    output = code_cell.locator(".jp-OutputArea-output").first
    output.wait_for(timeout=120_000)
    code_cell.locator(".jp-OutputArea", has_text="3 rows, 3 columns").wait_for(timeout=60_000)
    lab.shot("template-cell-output")
    state["inserted"] = True


def test_edit_reopens_form_and_updates_cell(lab):
    if not state.get("inserted"):
        unavailable("no generated cell: test_insert_template_cell_and_run_it did not insert one")
    nb = active_notebook(lab)
    code_cell = nb.locator(".jp-CodeCell", has_text="pd.read_csv").last
    code_cell.locator(".jp-InputPrompt").click()
    code_cell.locator(".jp-InputPrompt").click(button="right")
    item = lab.page.locator(".lm-Menu-item", has_text="Edit with Datadive Form")
    item.wait_for()
    lab.shot("edit-context-menu")
    item.click()
    form = panel(lab).locator(".dd-Form")
    # the edit form (the insert form may still be showing until the template is fetched)
    form.locator(".dd-Update").wait_for()
    name_field = form.locator("#dd-form_name")
    assert name_field.input_value() == "df"
    assert selected_text(form.locator("#dd-form_file")) == "survey.csv"
    name_field.fill("survey")
    lab.shot("edit-form-changed")
    form.get_by_role("button", name="Update cell").click()
    updated = nb.locator(".jp-CodeCell", has_text="survey = pd.read_csv")
    updated.wait_for()
    assert nb.locator(".jp-CodeCell", has_text="df = pd.read_csv").count() == 0
    lab.shot("cell-updated")


def test_edit_from_cell_toolbar(lab):
    """The Datadive button in the active cell's toolbar reopens the form, like the context menu."""
    if not state.get("inserted"):
        unavailable("no generated cell: test_insert_template_cell_and_run_it did not insert one")
    nb = active_notebook(lab)
    for old, new in (("survey", "survey_tb"), ("survey_tb", "survey")):
        code_cell = nb.locator(".jp-CodeCell", has_text=f"{old} = pd.read_csv").last
        code_cell.locator(".jp-InputPrompt").click()
        button = code_cell.locator(".jp-cell-toolbar [data-command='datadive:edit-cell']")
        button.wait_for()
        if new == "survey_tb":
            lab.shot("cell-toolbar-edit-button")
        button.click()
        form = panel(lab).locator(".dd-Form")
        form.locator(".dd-Update").wait_for()
        assert form.locator("#dd-form_name").input_value() == old
        assert selected_text(form.locator("#dd-form_file")) == "survey.csv"
        form.locator("#dd-form_name").fill(new)
        form.get_by_role("button", name="Update cell").click()
        nb.locator(".jp-CodeCell", has_text=f"{new} = pd.read_csv").wait_for()
        if new == "survey_tb":
            lab.shot("cell-updated-from-toolbar")
    assert nb.locator(".jp-CodeCell", has_text="survey_tb").count() == 0


def test_hand_edited_cell_asks_before_replacing(lab):
    if not state.get("inserted"):
        unavailable("no generated cell: test_insert_template_cell_and_run_it did not insert one")
    nb = active_notebook(lab)
    code_cell = nb.locator(".jp-CodeCell", has_text="survey = pd.read_csv").last
    code_cell.locator(".cm-content").click()
    lab.page.keyboard.press("Control+End")
    lab.page.keyboard.type("\n# my own note")
    lab.page.keyboard.press("Escape")
    code_cell.locator(".jp-InputPrompt").click(button="right")
    lab.page.locator(".lm-Menu-item", has_text="Edit with Datadive Form").click()
    form = panel(lab).locator(".dd-Form")
    form.locator(".dd-Update").wait_for()
    form.locator("#dd-form_name").fill("survey2")
    form.get_by_role("button", name="Update cell").click()
    dialog = lab.page.locator(".jp-Dialog", has_text="Replace a cell you edited?")
    dialog.wait_for()
    lab.shot("hand-edited-asks")
    dialog.get_by_role("button", name="Keep my edits").click()
    assert nb.locator(".jp-CodeCell", has_text="# my own note").count() == 1
    assert nb.locator(".jp-CodeCell", has_text="survey2").count() == 0
    panel(lab).get_by_role("button", name="Back from the form").click()


def test_draft_kept_after_reload(lab, platform, researcher):
    card = _open_template(lab, platform, researcher, "load-csv", "csv")
    card.click()
    form = panel(lab).locator(".dd-Form")
    form.locator("#dd-form_name").fill("half_done")
    # save the notebook (Ctrl+S), as a researcher would before reloading
    nb = active_notebook(lab)
    nb.locator(".jp-Cell").first.locator(".jp-InputPrompt").click()
    lab.page.keyboard.press("Control+s")
    lab.page.locator(
        ".lm-DockPanel-tabBar .lm-TabBar-tab.jp-mod-dirty", has_text="analysis.ipynb"
    ).wait_for(state="detached")
    time.sleep(0.3)
    lab.shot("draft-before-reload")
    lab.page.reload()
    lab.wait_lab()
    lab.open_panel()
    form = panel(lab).locator(".dd-Form")
    form.wait_for(timeout=30_000)
    assert form.locator("#dd-form_name").input_value() == "half_done"
    # the generated cell was saved with the notebook and is still there
    active_notebook(lab).locator(".jp-CodeCell", has_text="survey = pd.read_csv").wait_for()
    lab.shot("draft-after-reload")


def test_column_picker_filled_from_dataset(lab, platform, researcher):
    """A template on a data frame: choosing "Columns from file" fills its column pickers."""
    card = _open_template(lab, platform, researcher, "group-summary", "group summary")
    card.click()
    form = panel(lab).locator(".dd-Form")
    form.wait_for()
    form.get_by_label("Columns from file").select_option("survey.csv")
    for field in ("#dd-form_group", "#dd-form_value"):
        lab.page.wait_for_function(
            "(sel) => { const s = document.querySelector(sel);"
            " return s && s.tagName === 'SELECT' && s.options.length >= 3; }",
            arg=field,
        )
    options = form.locator("#dd-form_group option").all_inner_texts()
    assert {"participant", "age", "score"} <= {o.strip() for o in options}, options
    form.locator("#dd-form_group").select_option(label="participant")
    form.locator("#dd-form_value").select_option(label="score")
    assert selected_text(form.locator("#dd-form_value")) == "score"
    assert not form.locator(".validationErrors[role='alert']").count()
    lab.shot("column-picker-from-dataset")
    state["group_summary_form"] = True


SYNC_LABELS = {
    "synced": "Synced",
    "syncing": "Syncing…",
    "conflict": "Conflict",
    "offline": "Offline",
}


def _sync_payload(pid: str, folder: str, state_: str) -> dict:
    """What ``datadive/api/sync`` answers (ContentsManager.sync_status) with one project in
    ``state_``."""
    project = {
        "project_id": pid,
        "folder": folder,
        "writable": True,
        "state": state_,
        "pending": 2 if state_ == "syncing" else 0,
        "conflicts": ["data/survey.csv"] if state_ == "conflict" else [],
    }
    if state_ == "offline":
        project["message"] = "the storage service did not answer"
    return {"state": state_, "pending": project["pending"], "projects": [project]}


def _answer_with(body: str):
    """A Playwright route handler answering ``body`` as the server's JSON."""

    def handler(route, request):
        route.fulfill(status=200, content_type="application/json", body=body)

    return handler


def _sync_shown(lab) -> tuple[str, str, str]:
    """Click the status-bar item (it re-reads the state) → (its label, its class, the details)."""
    item = lab.page.locator("#datadive-sync-status .dd-SyncButton")
    item.click()
    dialog = lab.page.locator(".jp-Dialog", has_text="Datadive storage sync")
    dialog.wait_for()
    details = dialog.inner_text()
    dialog.get_by_role("button", name="Close").click()
    dialog.wait_for(state="detached")
    return item.inner_text().strip(), item.get_attribute("class") or "", details


def test_sync_status_bar_item(lab, platform, researcher):
    """The status bar shows the working copy's state, whichever it is: each of synced, syncing,
    conflict and offline is forced (the server's answer replaced in the browser; offline also as
    a failed request) and the label, its colour class and the per-project details are checked."""
    item = lab.page.locator("#datadive-sync-status .dd-SyncButton")
    item.wait_for()
    r = platform.call("GET", "projects", researcher)
    pid = next(p["id"] for p in r.json()["projects"] if p["name"] == state["project_name"])
    route = "**/datadive/api/sync*"
    expected_detail = {
        "synced": "",
        "syncing": " — 2 files waiting to upload",
        "conflict": " — conflict: data/survey.csv",
        "offline": " — the storage service did not answer",
    }
    try:
        for name, label in SYNC_LABELS.items():
            payload = json.dumps(_sync_payload(pid, "sleep-study", name))
            lab.page.unroute(route)
            lab.page.route(route, _answer_with(payload))
            shown, classes, details = _sync_shown(lab)
            lab.shot(f"sync-status-{name}")
            assert shown == label, (name, shown)
            assert f"dd-Sync-{name}" in classes, (name, classes)
            assert f"Overall: {label}" in details, details
            # the project by its name (not its id or folder), with its own state and detail
            assert f"{state['project_name']}: {label}{expected_detail[name]}" in details, details
            assert pid not in details
        # the server cannot be reached at all: offline, and the dialog says why
        lab.page.unroute(route)
        lab.page.route(route, lambda rt: rt.abort("connectionrefused"))
        shown, classes, details = _sync_shown(lab)
        assert shown == "Offline" and "dd-Sync-offline" in classes, (shown, classes)
        assert "The sync state could not be read" in details, details
        lab.shot("sync-status-unreachable")
    finally:
        lab.page.unroute(route)
    # the real answer again: whatever the server reports is what the item shows
    for _ in range(5):  # the real state may move on between reading it and the click
        real = requests.get(
            f"{platform.url}/user/{researcher.name}/datadive/api/sync",
            headers=researcher.headers,
            timeout=30,
        ).json()["state"]
        shown, _, details = _sync_shown(lab)
        if real in SYNC_LABELS and shown == SYNC_LABELS[real]:
            break
    assert real in SYNC_LABELS and shown == SYNC_LABELS[real], (real, shown)
    assert f"{state['project_name']}:" in details, details
    lab.shot("sync-details")


def save_axe(name: str, problems: dict) -> Path:
    out = ARTIFACTS / name
    out.write_text(json.dumps(problems, indent=2) + "\n")
    return out


CONTRAST_JS = """(sel) => {
    // WCAG contrast of each visible element's text against its effective background (our own
    // check: axe leaves small badges on tinted backgrounds "incomplete" instead of failing them)
    const parse = c => { const m = (c.match(/[\\d.]+/g) || ['0', '0', '0', '0']).map(Number);
                         return {r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1}; };
    const bgOf = el => {
        for (let e = el; e; e = e.parentElement) {
            const c = parse(getComputedStyle(e).backgroundColor);
            if (c.a > 0) { return c; }
        }
        return {r: 255, g: 255, b: 255, a: 1};
    };
    const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92
                                         : Math.pow((v + 0.055) / 1.055, 2.4); };
                       return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
    return [...document.querySelectorAll(sel)].filter(e => e.checkVisibility() && e.textContent.trim())
        .map(e => {
            const bg = bgOf(e), fg = parse(getComputedStyle(e).color);
            const mix = {r: fg.r * fg.a + bg.r * (1 - fg.a), g: fg.g * fg.a + bg.g * (1 - fg.a),
                         b: fg.b * fg.a + bg.b * (1 - fg.a)};
            const [hi, lo] = [lum(mix), lum(bg)].sort((a, b) => b - a);
            return {selector: sel, text: e.textContent.trim().slice(0, 40),
                    ratio: Math.round((hi + 0.05) / (lo + 0.05) * 100) / 100};
        });
}"""
CONTRAST_SELECTORS = (
    ".dd-Role, .dd-Badge, .dd-Error > span, .dd-Tag, .dd-Muted, .dd-Link, .dd-ItemName"
)


def low_contrast(lab) -> list[dict]:
    """Texts of the panel below WCAG AA (4.5:1)."""
    found = lab.page.evaluate(CONTRAST_JS, CONTRAST_SELECTORS)
    return [f for f in found if f["ratio"] < 4.5]


def axe_views(lab, platform, researcher, prefix: str) -> dict:
    """axe-core (serious / critical) on the panel's views, each opened explicitly first:
    two template forms (file picker; column pickers filled), the gallery, the files tab with a
    preview, members, the project list."""
    p = panel(lab)
    lab.open_panel()
    problems = {}
    card = _open_template(lab, platform, researcher, "load-csv", "csv")
    card.click()
    form = p.locator(".dd-Form")
    form.locator("#dd-form_file").wait_for()
    form.locator("#dd-form_file").select_option("survey.csv")
    form.locator("#dd-form_name").fill("2x")  # an invalid name: its error message is checked too
    form.get_by_text("Use a Python name").wait_for()  # in words, not ajv's regex
    problems["form load-csv (with a field error)"] = lab.axe("#datadive-panel")
    lab.shot(f"{prefix}form-load-csv")
    form.locator("#dd-form_name").fill("df")
    card = _open_template(lab, platform, researcher, "group-summary", "group summary")
    card.click()
    form.get_by_label("Columns from file").select_option("survey.csv")
    lab.page.wait_for_function(
        "() => document.querySelector('#dd-form_group')?.tagName === 'SELECT'"
    )
    problems["form group-summary (column pickers)"] = lab.axe("#datadive-panel")
    lab.shot(f"{prefix}form-group-summary")
    p.get_by_role("button", name="Back from the form").click()
    p.get_by_role("tab", name="Templates").wait_for()
    p.locator(".dd-Badge", has_text="draft").first.wait_for()
    problems["gallery"] = lab.axe("#datadive-panel")
    problems["gallery: text contrast"] = low_contrast(lab)
    p.get_by_role("tab", name="Files").click()
    p.get_by_role("button", name="Preview survey.csv").click()
    tab = ".dd-PreviewTab:not(.lm-mod-hidden)"
    lab.page.locator(f"{tab} .dd-Coverage").wait_for()
    problems["project files"] = lab.axe("#datadive-panel")
    problems["preview tab"] = lab.axe(tab)
    lab.shot(f"{prefix}files-preview")
    close_preview_tab(lab, "survey.csv")
    p.get_by_role("tab", name="Members").click()
    p.locator(".dd-Member").first.wait_for()
    problems["members"] = lab.axe("#datadive-panel")
    p.get_by_role("button", name="Back to all projects").click()
    p.locator(".dd-Project").first.wait_for()
    # an error message shown (a duplicate name), with the owner badge in the list
    p.get_by_label("New project name").fill(state["project_name"])
    p.get_by_role("button", name="Create", exact=True).click()
    p.get_by_role("alert").wait_for()
    problems["projects (with an error shown)"] = lab.axe("#datadive-panel")
    problems["projects: text contrast"] = low_contrast(lab)
    problems["status bar item"] = lab.axe("#datadive-sync-status")
    lab.shot(f"{prefix}projects")
    p.get_by_role("button", name="Dismiss the error").click()
    p.get_by_label("New project name").fill("")
    return problems


def test_axe_panel_and_form(lab, platform, researcher):
    problems = axe_views(lab, platform, researcher, "axe-light-")
    out = save_axe("axe.json", problems)
    bad = {k: v for k, v in problems.items() if v}
    assert not bad, f"serious/critical axe violations (see {out}): {bad}"


SETTLED_JS = """async () => {
    // Lab moves the focus asynchronously (e.g. to the notebook when the sidebar collapses);
    // a palette opened meanwhile would close at once. Wait until it stays put for 600 ms.
    let last = document.activeElement, since = performance.now();
    while (performance.now() - since < 600) {
        await new Promise(r => setTimeout(r, 50));
        if (document.activeElement !== last) { last = document.activeElement; since = performance.now(); }
    }
}"""


def wait_focus_settled(lab) -> None:
    lab.page.evaluate(SETTLED_JS)


def run_from_palette(lab, text: str, expect: str) -> None:
    """Ctrl+Shift+C, type ``text``, check the highlighted command, Enter (keyboard only)."""
    box = lab.page.locator(".jp-ModalCommandPalette .lm-CommandPalette-input")
    wait_focus_settled(lab)
    for attempt in range(3):
        lab.page.keyboard.press("Control+Shift+C")
        try:
            box.wait_for(timeout=5_000)
            break
        except Exception:  # noqa: BLE001 - Lab was busy moving the focus; press again
            if attempt == 2:
                raise
    # typed into the search box (real key presses; never into whatever else has the focus:
    # letters are commands in a notebook's command mode)
    box.press_sequentially(text)
    assert box.input_value() == text
    active = lab.page.locator(".jp-ModalCommandPalette .lm-CommandPalette-item.lm-mod-active")
    active.wait_for()
    assert expect in active.inner_text(), active.inner_text()
    box.press("Enter")
    box.wait_for(state="hidden")


def test_dark_theme_screenshots_and_axe(lab, platform, researcher):
    """apputils:change-theme {theme: 'JupyterLab Dark'} (from the palette): the panel follows
    the theme, and axe-core finds no serious / critical problems in the dark theme either."""
    run_from_palette(lab, "Use Theme: JupyterLab Dark", "JupyterLab Dark")
    try:
        lab.page.wait_for_function(
            "() => document.body.dataset.jpThemeName === 'JupyterLab Dark'", timeout=30_000
        )
        time.sleep(0.5)  # the theme's stylesheet is swapped in
        background = lab.page.evaluate(
            "() => getComputedStyle(document.getElementById('datadive-panel')).backgroundColor"
        )
        problems = axe_views(lab, platform, researcher, "axe-dark-")
    finally:
        run_from_palette(lab, "Use Theme: JupyterLab Light", "JupyterLab Light")
        lab.page.wait_for_function(
            "() => document.body.dataset.jpThemeName === 'JupyterLab Light'", timeout=30_000
        )
    rgb = [int(x) for x in re.findall(r"\d+", background)[:3]]
    assert sum(rgb) < 3 * 100, (
        f"the panel's background stayed light in the dark theme: {background}"
    )
    out = save_axe("axe-dark.json", problems)
    bad = {k: v for k, v in problems.items() if v}
    assert not bad, f"serious/critical axe violations in the dark theme (see {out}): {bad}"


ARM_JS = """([kind, n]) => {
    // Arm a measurement *before* the real (Playwright) click: t0 is the timeStamp of the click's
    // pointerdown (same clock as performance.now()); a MutationObserver notes the moment the
    // awaited DOM state appears ("dom") and the next animation frame after it ("frame").
    const panel = () => document.getElementById('datadive-panel');
    const cells = () => document.querySelectorAll(
        '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell').length;
    const projects = () => {
        const p = panel();
        return p && p.checkVisibility() ? p.querySelectorAll('.dd-Project').length : 0;
    };
    const before = cells();
    const done = {cells: () => cells() > before, projects: () => projects() >= n}[kind];
    const t = {t0: null, dom: null, frame: null};
    let obs = null, timer = null;
    window.__ddMeasure = new Promise(resolve => {
        const finish = (extra) => {
            obs.disconnect(); clearTimeout(timer);
            resolve(Object.assign({}, t, extra));
        };
        const check = () => {
            if (t.t0 === null || t.dom !== null || !done()) { return; }
            t.dom = performance.now();
            requestAnimationFrame(() => { t.frame = performance.now(); finish({}); });
        };
        obs = new MutationObserver(check);
        obs.observe(document.body, {childList: true, subtree: true, attributes: true,
                                    attributeFilter: ['class', 'style']});
        document.addEventListener('pointerdown', e => { t.t0 = e.timeStamp; check(); },
                                  {capture: true, once: true});
        timer = setTimeout(() => finish({timeout: true,
            seen: kind === 'cells' ? cells() - before : projects()}), 30000);
    });
    return before;
}"""


def timed_click(lab, locator, kind: str, n: int = 0) -> dict:
    """Really click ``locator`` and measure (in the page) until the ``kind`` state appears:
    ``cells`` (the active notebook has more cells) or ``projects`` (the panel shows >= n).
    Returns {"dom_ms", "frame_ms"} from the click's pointerdown."""
    lab.page.evaluate(ARM_JS, [kind, n])
    locator.click()
    t = lab.page.evaluate("window.__ddMeasure")
    assert not t.get("timeout"), f"{kind}: not there 30 s after the click ({t})"
    assert t["t0"] is not None, f"{kind}: the click never reached the page"
    return {"dom_ms": round(t["dom"] - t["t0"], 1), "frame_ms": round(t["frame"] - t["t0"], 1)}


def sidebar_tab(lab):
    return lab.page.locator(".jp-SideBar [data-id='datadive-panel']")


def _median(values):
    values = sorted(values)
    return values[len(values) // 2]


def test_insert_timing_repeated(lab, platform, researcher, timings):
    """Insert five more times (same form, real clicks) and keep the median next to the first."""
    card = _open_template(lab, platform, researcher, "describe", "describe")
    card.click()
    form = panel(lab).locator(".dd-Form")
    form.wait_for()
    form.locator(".dd-Insert").wait_for()
    runs = [timed_click(lab, form.locator(".dd-Insert"), "cells") for _ in range(5)]
    timings["insert_click_to_cell_runs_ms"] = [r["dom_ms"] for r in runs]
    timings["insert_click_to_cell_median_ms"] = _median([r["dom_ms"] for r in runs])
    timings["insert_click_to_cell_next_frame_median_ms"] = _median([r["frame_ms"] for r in runs])
    lab.shot("repeated-inserts")
    panel(lab).get_by_role("button", name="Back from the form").click()


SETTINGS_ID = "@datadive/labextension:plugin"


def put_panel_settings(platform, user, values: dict) -> None:
    """Write the panel's user settings through Lab's settings API (read at the next page load)."""
    r = requests.put(
        f"{platform.url}/user/{user.name}/lab/api/settings/{SETTINGS_ID}",
        headers=user.headers,
        json={"raw": json.dumps(values)},
        timeout=30,
    )
    assert r.status_code == 204, (r.status_code, r.text)


def fresh_page_with_panel_closed(lab) -> None:
    """Reload with the sidebar closed (the layout restorer saves it after a short delay)."""
    back = panel(lab).get_by_role("button", name="Back to all projects")
    if panel(lab).is_visible() and back.count():
        back.click()
    lab.close_panel()
    time.sleep(2)
    lab.page.reload()
    lab.wait_lab()
    time.sleep(1)  # let Lab finish restoring the layout before the timed click
    lab.close_panel()


def test_open_panel_with_200_projects(lab, platform, researcher, timings):
    """Open the panel → 200 projects shown, two ways:

    * warm: the list was fetched while Lab started (the default, ``prefetchProjects``); the
      figure is drawing a list already in memory (the fetch itself is reported beside it);
    * cold: ``prefetchProjects`` off, a fresh page, so the fetch of the 200 projects starts
      with the click.
    """
    have = len(platform.call("GET", "projects?limit=500", researcher).json()["projects"])
    for i in range(200 - have):
        platform.project(researcher, f"bulk {i:03d}")
    assert len(platform.call("GET", "projects?limit=500", researcher).json()["projects"]) == 200

    # warm: a fresh page, wait until the start-up fetch is done, then click
    fresh_page_with_panel_closed(lab)
    lab.page.wait_for_function("() => window.datadiveProjectsLoadedMs !== undefined")
    timings["prefetch_request_200_projects_ms"] = round(
        lab.page.evaluate("window.datadiveProjectsLoadedMs"), 1
    )
    warm = timed_click(lab, sidebar_tab(lab), "projects", 200)
    timings["open_panel_to_200_projects_warm_first_ms"] = warm["dom_ms"]
    lab.shot("panel-200-projects")
    runs = []  # later openings (the list also refreshes in the background)
    for _ in range(5):
        lab.close_panel()
        runs.append(timed_click(lab, sidebar_tab(lab), "projects", 200)["dom_ms"])
    timings["open_panel_to_200_projects_warm_runs_ms"] = runs
    timings["open_panel_to_200_projects_warm_median_ms"] = _median(runs)

    # cold: no prefetch, so the click starts the request
    put_panel_settings(platform, researcher, {"prefetchProjects": False})
    try:
        cold = []
        for _ in range(3):
            fresh_page_with_panel_closed(lab)
            time.sleep(1)
            assert lab.page.evaluate("window.datadiveProjectsLoadedMs === undefined"), (
                "the project list was fetched before the click: not a cold measurement"
            )
            cold.append(timed_click(lab, sidebar_tab(lab), "projects", 200)["dom_ms"])
            timings["cold_project_list_request_ms"] = round(
                lab.page.evaluate("window.datadiveProjectsLoadedMs"), 1
            )
        lab.shot("panel-200-projects-cold")
    finally:
        put_panel_settings(platform, researcher, {})
    timings["open_panel_to_200_projects_cold_runs_ms"] = cold
    timings["open_panel_to_200_projects_cold_median_ms"] = _median(cold)
    timings["targets"] = {
        "insert_click_to_cell_ms": INSERT_TARGET_MS,
        "open_panel_to_200_projects_ms": PROJECTS_TARGET_MS,
    }
    timings["date"] = time.strftime("%Y-%m-%d %H:%M")
    timings["machine_load_average"] = open("/proc/loadavg").read().split()[:3]
    timings["cpu_count"] = __import__("os").cpu_count()


def test_rename_members_delete_and_restore(lab, platform, researcher):
    """Owner actions: rename, add a member with a role, delete, then restore from the panel."""
    colleague = platform.user()
    project = platform.project(researcher, f"tmp {uuid.uuid4().hex[:4]}")
    lab.open_panel()
    p = panel(lab)
    back = p.get_by_role("button", name="Back to all projects")
    if back.count():
        back.click()
    p.get_by_role("button", name="Refresh the project list").click()
    p.get_by_label("Filter projects").fill(project["name"])
    p.locator(".dd-Project", has_text=project["name"]).locator(".dd-ItemMain").click()
    # rename
    p.get_by_role("button", name="Rename", exact=True).click()
    new_name = project["name"] + " renamed"
    dialog = lab.page.locator(".jp-Dialog")
    dialog.locator("input").fill(new_name)
    dialog.locator(".jp-mod-accept").click()
    p.locator(".dd-ProjectName", has_text=new_name).wait_for()
    # members: add the colleague as editor
    p.get_by_role("tab", name="Members").click()
    p.get_by_label("User or group name").fill(colleague.name)
    p.locator("#dd-member-role").select_option("editor")
    p.get_by_role("button", name="Add", exact=True).click()
    p.locator(".dd-Member", has_text=colleague.name).wait_for()
    assert p.locator(f"#dd-role-user-{colleague.name}").input_value() == "editor"
    members = platform.call("GET", f"projects/{project['id']}/members", researcher).json()[
        "members"
    ]
    assert {"kind": "user", "name": colleague.name, "role": "editor"}.items() <= next(
        m for m in members if m["name"] == colleague.name
    ).items()
    # an owner sees the project's activity under its members (the audit log): the share
    p.locator(".dd-AuditEvent", has_text=f"shared user {colleague.name} as editor").wait_for()
    lab.shot("members")
    # delete (confirm), then restore from "Recently deleted"
    p.get_by_role("button", name="Delete", exact=True).click()
    lab.page.locator(".jp-Dialog .jp-mod-accept").click()
    p.get_by_label("Filter projects").wait_for()
    p.locator(".dd-Project", has_text=new_name).wait_for(state="detached")
    lab.page.get_by_text(f'Project "{new_name}" deleted.').first.wait_for()  # offers Undo
    lab.shot("deleted-undo-offered")
    p.locator(".dd-Deleted summary").click()
    p.get_by_role("button", name=f"Restore project {new_name}").click()
    p.locator(".dd-Project", has_text=new_name).wait_for()
    lab.shot("restored")
    assert platform.call("GET", f"projects/{project['id']}", researcher).status_code == 200


def test_add_group_member(lab, platform, researcher):
    """Members tab: a JupyterHub group is added with a role."""
    group = f"lab-{uuid.uuid4().hex[:4]}"
    platform.group(group)
    project = platform.project(researcher, f"group {uuid.uuid4().hex[:4]}")
    p = open_project(lab, project)
    p.get_by_role("tab", name="Members").click()
    p.locator("#dd-member-kind").select_option("group")
    p.get_by_label("User or group name").fill(group)
    p.locator("#dd-member-role").select_option("editor")
    p.get_by_role("button", name="Add", exact=True).click()
    row = p.locator(".dd-Member", has_text=group)
    row.wait_for()
    assert "(group)" in row.inner_text()
    assert p.locator(f"#dd-role-group-{group}").input_value() == "editor"
    members = platform.call("GET", f"projects/{project['id']}/members", researcher).json()
    assert {"kind": "group", "name": group, "role": "editor"}.items() <= next(
        m for m in members["members"] if m["name"] == group
    ).items()
    lab.shot("group-member-added")
    p.get_by_role("button", name="Back to all projects").click()
    p.get_by_label("Filter projects").fill("")


def test_add_member_who_has_not_signed_in_yet(lab, platform, researcher):
    """Members tab: a colleague without a hub account yet is added by name; the row says they
    have not signed in, and the role works once they do."""
    newcomer = f"Newcomer-{uuid.uuid4().hex[:4]}"
    project = platform.project(researcher, f"invite {uuid.uuid4().hex[:4]}")
    p = open_project(lab, project)
    p.get_by_role("tab", name="Members").click()
    p.get_by_label("User or group name").fill(newcomer)
    p.locator("#dd-member-role").select_option("viewer")
    p.get_by_role("button", name="Add", exact=True).click()
    row = p.locator(".dd-Member", has_text=newcomer.lower())
    row.wait_for()
    assert "not signed in yet" in row.inner_text()
    assert "not signed in yet" not in p.locator(".dd-Member", has_text=researcher.name).inner_text()
    lab.shot("member-not-signed-in-yet")
    person = platform.user(newcomer.lower())
    r = platform.call("GET", f"projects/{project['id']}", person)
    assert r.status_code == 200 and r.json()["role"] == "viewer", r.text
    p.get_by_role("button", name="Back to all projects").click()
    p.get_by_label("Filter projects").fill("")


def test_shared_project_shows_with_viewer_role(lab, platform, researcher):
    """A colleague's project shared with the researcher as viewer: listed under "Shared with
    me" with the role, and opened read only (no rename, delete, upload or new notebook)."""
    colleague = platform.user()
    project = platform.project(colleague, f"Cohort {uuid.uuid4().hex[:4]}")
    r = platform.call(
        "POST",
        f"projects/{project['id']}/members",
        colleague,
        json={"kind": "user", "name": researcher.name, "role": "viewer"},
    )
    assert r.status_code == 201, r.text
    p = find_project(lab, project)
    shared = p.locator(".dd-Group:has(#dd-projects-shared)")
    item = shared.locator(".dd-Project", has_text=project["name"])
    item.wait_for()
    assert item.locator(".dd-Role").inner_text() == "viewer"
    assert not p.locator("#dd-projects-mine").count()  # the filter leaves only the shared one
    lab.shot("shared-with-me-viewer")
    item.locator(".dd-ItemMain").click()
    p.locator(".dd-ProjectName", has_text=project["name"]).wait_for()
    assert p.locator(".dd-ProjectHeader .dd-Role").inner_text() == "viewer"
    p.get_by_role("tab", name="Files").click()
    p.get_by_role("heading", name="Notebooks").wait_for()
    for name in ("Rename", "Delete", "Upload files…", "New notebook"):
        assert not p.get_by_role("button", name=name, exact=True).count(), name
    lab.shot("shared-project-read-only")
    p.get_by_role("button", name="Back to all projects").click()
    p.get_by_label("Filter projects").fill("")


def test_a_role_changed_by_the_owner_shows_without_a_reload(lab, platform, researcher):
    """The researcher has a colleague's project open as editor; the colleague makes them a
    viewer, then removes them: the open panel follows both without a reload."""
    colleague = platform.user()
    project = platform.project(colleague, f"Live role {uuid.uuid4().hex[:4]}")
    members = f"projects/{project['id']}/members"
    r = platform.call("POST", members, colleague, json={"name": researcher.name, "role": "editor"})
    assert r.status_code == 201, r.text
    p = open_project(lab, project)
    p.get_by_role("tab", name="Files").click()
    badge = p.locator(".dd-ProjectHeader .dd-Role")
    badge.wait_for()
    assert badge.inner_text() == "editor"
    p.get_by_role("button", name="New notebook", exact=True).wait_for()
    r = platform.call(
        "PATCH", f"{members}/user/{researcher.name}", colleague, json={"role": "viewer"}
    )
    assert r.status_code == 200, r.text
    p.locator(".dd-ProjectHeader .dd-Role", has_text="viewer").wait_for(timeout=25_000)
    assert not p.get_by_role("button", name="New notebook", exact=True).count()
    lab.page.get_by_text(f'Your role in "{project["name"]}" is now viewer.').first.wait_for()
    lab.shot("role-changed-to-viewer")
    r = platform.call("DELETE", f"{members}/user/{researcher.name}", colleague)
    assert r.status_code == 204, r.text
    p.get_by_text(f'You are no longer a member of "{project["name"]}"').wait_for(timeout=25_000)
    p.get_by_label("Filter projects").wait_for()
    lab.shot("removed-from-project")
    p.get_by_label("Filter projects").fill("")


def test_publish_a_notebook_without_code_and_withdraw_it(lab, platform, researcher):
    """Files tab: Publish on a notebook asks (with or without code), shows the URL once; the
    link works signed out, is listed, and Withdraw takes it down at once."""
    project = platform.project(researcher, f"Publish {uuid.uuid4().hex[:4]}")
    r = platform.call(
        "POST", f"projects/{project['id']}/notebooks", researcher, json={"name": "Table 2"}
    )
    assert r.status_code == 201, r.text
    nb_path = r.json()["path"]
    p = open_project(lab, project)
    p.get_by_role("tab", name="Files").click()
    p.get_by_role("button", name=f"Publish {nb_path} as a public link").click()
    dialog = lab.page.locator(".jp-Dialog")
    dialog.get_by_text("nothing is run").wait_for()
    lab.shot("publish-asks")
    dialog.get_by_role("button", name="Publish without code").click()
    url_box = lab.page.locator("#dd-public-url")
    url_box.wait_for()
    url = url_box.input_value()
    assert url.startswith(platform.url + "/services/datadive/public/"), url
    lab.shot("publish-url-shown-once")
    lab.page.locator(".jp-Dialog").get_by_role("button", name="Close").click()
    page = requests.get(url, timeout=60)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    row = p.locator(".dd-PublicLink", has_text=nb_path)
    row.wait_for()
    assert "without code" in row.inner_text()
    lab.shot("public-link-listed")
    p.get_by_role("button", name=f"Withdraw the public link to {nb_path}").click()
    row.wait_for(state="detached")
    assert requests.get(url, timeout=60).status_code == 404
    p.get_by_role("button", name="Back to all projects").click()
    p.get_by_label("Filter projects").fill("")


def focus_by_tab(lab, selector: str, limit: int = 40) -> None:
    """Press Tab until the element matching ``selector`` has the focus."""
    for _ in range(limit):
        if lab.page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return
        lab.page.keyboard.press("Tab")
    raise AssertionError(
        f"{selector} not reached with {limit} Tab presses; focus on "
        + lab.page.evaluate("() => document.activeElement?.outerHTML.slice(0, 200)")
    )


def test_palette_and_keyboard_only(lab):
    """Open the panel from the command palette, then create a project and switch tabs with
    the keyboard only; the Alt+Shift+D shortcut opens the panel too."""
    lab.close_panel()
    wait_focus_settled(lab)
    assert not lab.page.evaluate(
        "() => document.getElementById('datadive-panel').contains(document.activeElement)"
    )
    # from here on: keyboard only
    run_from_palette(lab, "Datadive: Open Panel", "Datadive: Open Panel")
    p = panel(lab)
    p.locator(".dd-PanelBody").wait_for(state="visible")
    lab.page.wait_for_function(
        "() => document.getElementById('datadive-panel').contains(document.activeElement)"
    )
    lab.shot("palette-opened-panel")
    if p.get_by_role("button", name="Back to all projects").count():
        focus_by_tab(lab, "[aria-label='Back to all projects']")
        lab.page.keyboard.press("Enter")
    name = f"Keyboard {uuid.uuid4().hex[:4]}"
    focus_by_tab(lab, "#dd-new-project")
    lab.page.keyboard.type(name)
    lab.page.keyboard.press("Enter")
    p.locator(".dd-ProjectName", has_text=name).wait_for()
    # the project's tabs: Tab reaches the selected one, Home goes to Files, ArrowRight on
    focus_by_tab(lab, "[role='tab'][aria-selected='true']")
    lab.page.keyboard.press("Home")
    lab.page.wait_for_function("() => document.activeElement?.id === 'dd-tab-files'")
    assert p.locator("#dd-tab-files").get_attribute("aria-selected") == "true"
    lab.page.keyboard.press("ArrowRight")
    templates_tab = p.locator("#dd-tab-templates")
    lab.page.wait_for_function("() => document.activeElement?.id === 'dd-tab-templates'")
    assert templates_tab.get_attribute("aria-selected") == "true"
    p.locator(".dd-Template").first.wait_for()
    lab.shot("keyboard-created-project-and-tab")
    # the shortcut: close the sidebar with a click, reopen it with Alt+Shift+D
    lab.close_panel()
    lab.page.keyboard.press("Alt+Shift+D")
    p.locator(".dd-PanelBody").wait_for(state="visible")
    lab.shot("shortcut-opened-panel")
