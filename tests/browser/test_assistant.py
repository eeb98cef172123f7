"""The Datadive Assistant in a real JupyterLab served by a real JupyterHub (``datadive up``).

One researcher's session, in order (each test continues where the previous one left off):
a project with a notebook and a survey CSV → the Assistant tab: "compare groups", pickers that
offer only the columns of the right level, two of the three groups ticked from the column's
actual values → the checks with their numbers and the recommended test (ask → answer shown is
timed) → Insert → the cell runs in the kernel and prints the APA line the panel showed → the
codebook: change a level and save (the outcome picker follows), a codebook someone else saved
meanwhile is refused with "changed by someone else, reload" → the data change (the treatment
group becomes skewed) and "Check again with the Datadive Assistant" on the inserted cell says
the recommendation changed.
Screenshots go to test-artifacts/browser/assistant/; timings (keys ``assistant_*``) to
test-artifacts/browser/timings.json.
"""

from __future__ import annotations

import random
import re
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import requests
from datadive_platform import unavailable

#: the assistant's panel and the notebook side by side (conftest's ``lab`` reads this)
VIEWPORT = {"width": 1500, "height": 950}
state: dict = {}


def survey_csv(skewed: bool) -> str:
    """90 participants in three groups. Normal scores (seed 2: Shapiro-Wilk p .65 / .31, Levene
    p .95 for control vs treatment), or strongly right-skewed ones (seed 10: Shapiro-Wilk
    p < .001 in both groups)."""
    rnd = random.Random(10 if skewed else 2)
    lines = ["participant,group,score,age"]
    for i in range(90):
        group = ["control", "treatment", "placebo"][i % 3]
        if skewed:
            k = {"control": 1.0, "treatment": 1.8, "placebo": 1.1}[group]
            score = round(10 * k * rnd.expovariate(1) ** 2, 2)
        else:
            score = round(rnd.gauss(50 + {"control": 0, "treatment": 6, "placebo": 1}[group], 8), 2)
        lines.append(f"p{i + 1:03d},{group},{score},{rnd.randint(18, 70)}")
    return "\n".join(lines) + "\n"


def panel(lab):
    return lab.page.locator("#datadive-panel")


def active_notebook(lab):
    return lab.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")


def server_api(platform, user, route: str) -> str:
    return f"{platform.url}/user/{user.name}/datadive/api/{route}"


def need_route(platform, user, route: str, method: str = "GET") -> None:
    """Fail under CI / skip locally (with the reason) while a server route is not there yet
    (jupyter_server answers an unknown route with its HTML 404 page, a route with JSON)."""
    r = requests.request(
        method, server_api(platform, user, route), headers=user.headers, timeout=60, json={}
    )
    if r.status_code == 404 and "json" not in r.headers.get("Content-Type", ""):
        unavailable(f"the server extension has no route datadive/api/{route} yet (404)")


def upload(lab, tmp_path: Path, text: str) -> None:
    p = panel(lab)
    p.get_by_role("tab", name="Files").click()
    csv = tmp_path / "survey.csv"
    csv.write_text(text)
    lab.page.set_input_files("#dd-upload-input", str(csv))
    p.locator(".dd-File", has_text="survey.csv").wait_for(timeout=60_000)
    p.locator("#dd-upload-progress").wait_for(state="detached", timeout=60_000)


def test_project_with_notebook_and_survey(lab, platform, researcher, tmp_path):
    lab.open_panel()
    p = panel(lab)
    name = f"Assist study {uuid.uuid4().hex[:4]}"
    state["project"] = name
    if p.get_by_role("button", name="Back to all projects").count():
        p.get_by_role("button", name="Back to all projects").click()
    p.get_by_label("New project name").fill(name)
    p.get_by_role("button", name="Create", exact=True).click()
    p.locator(".dd-ProjectName", has_text=name).wait_for()
    lab.decline_news()
    p.get_by_label("New notebook name").fill("analysis")
    p.get_by_role("button", name="New notebook").click()
    active_notebook(lab).locator(".jp-Notebook").wait_for(timeout=60_000)
    lab.dismiss_dialogs()
    upload(lab, tmp_path, survey_csv(skewed=False))
    local = platform.data_dir / "users" / researcher.name / name / "survey.csv"
    deadline = time.monotonic() + 20
    while not local.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert local.exists(), f"{local} not in the working copy after the upload"
    lab.shot("project-with-survey")


def test_pickers_follow_codebook_levels(lab, platform, researcher):
    need_route(platform, researcher, f"codebook/{quote(state['project'])}/survey.csv")
    p = panel(lab)
    p.get_by_role("tab", name="Assistant").click()
    p.get_by_label("Dataset").select_option("survey.csv")
    p.get_by_label("Compare groups").check()
    outcome = p.get_by_label("Outcome (what you measured)")
    outcome.wait_for()
    # a numeric outcome offers only scale columns; the groups only categorical ones
    options = outcome.locator("option").all_inner_texts()
    assert [o for o in options if o != "Choose…"] == ["score", "age"], options
    groups = p.get_by_label("Groups (compare by)")
    group_options = [o for o in groups.locator("option").all_inner_texts() if o != "Choose…"]
    assert group_options == ["group"], group_options
    assert p.locator(".dd-Ask").is_disabled()
    assert "Choose the outcome." in p.get_by_label("Still needed").inner_text()
    outcome.select_option("score")
    groups.select_option("group")
    # the group values come from the data, with their counts
    values = p.locator(".dd-Fieldset", has_text="Groups to compare")
    values.get_by_label(re.compile("^control")).wait_for()
    assert "n = 30" in values.inner_text()
    values.get_by_label(re.compile("^control")).check()
    values.get_by_label(re.compile("^treatment")).check()
    lab.shot("assistant-question")


def test_ask_shows_checks_and_recommendation(lab, platform, researcher, timings):
    need_route(platform, researcher, "assist", "POST")
    p = panel(lab)
    started = time.perf_counter()
    p.locator(".dd-Ask").click()
    # while the server works the panel says so
    p.get_by_role("status").filter(has_text="Running the checks on survey.csv").wait_for()
    answer = p.locator(".dd-Answer")
    answer.wait_for(timeout=60_000)
    wall_ms = (time.perf_counter() - started) * 1000
    in_page = lab.page.evaluate("window.datadiveLastAssistMs")
    timings["assistant_ask_to_answer_shown_ms"] = round(in_page, 1)
    timings["assistant_ask_to_answer_wall_ms"] = round(wall_ms, 1)
    checks = answer.locator(".dd-Checks")
    text = checks.inner_text()
    # each check with its numbers and whether it passed
    assert "Shapiro" in text and "Levene" in text, text
    assert answer.locator(".dd-Check-passed").count() >= 2, text
    assert answer.locator(".dd-Check-failed").count() == 0, text
    test = answer.locator(".dd-TestName").inner_text()
    assert test.startswith(("Student's t-test", "Welch's t-test")), test
    state["test"] = test
    apa = answer.locator(".dd-Apa").inner_text()
    assert re.search(r"t\(\s*[\d.]+\s*\)\s*=\s*-?[\d.]+", apa) and "p = .00" in apa, apa
    state["apa"] = apa
    assert answer.locator(".dd-Why li").count() >= 1
    assert "CI [" in answer.locator(".dd-EffectSize").inner_text()
    # the robust alternative is another test, run on the same data
    alternative = answer.locator(".dd-Alternative").inner_text()
    assert not alternative.startswith(test) and re.search(r"p [=<] \.\d{3}", alternative), (
        alternative
    )
    lab.shot("assistant-answer")
    problems = lab.axe("#datadive-panel")
    assert not problems, f"serious/critical axe violations in the answer view: {problems}"
    # asked again (warm: the server has its libraries loaded)
    warm = []
    for _ in range(3):
        lab.page.evaluate("window.datadiveLastAssistMs = null")
        p.locator(".dd-Ask").click()
        lab.page.wait_for_function("() => window.datadiveLastAssistMs != null", timeout=60_000)
        warm.append(round(lab.page.evaluate("window.datadiveLastAssistMs"), 1))
    timings["assistant_ask_to_answer_shown_warm_ms"] = warm


def test_insert_runs_in_the_kernel_and_prints_apa(lab):
    if "apa" not in state:
        unavailable("no answer: test_ask_shows_checks_and_recommendation did not get one")
    p = panel(lab)
    nb = active_notebook(lab)
    nb.locator(".jp-Cell").first.locator(".jp-InputPrompt").click()
    before = nb.locator(".jp-CodeCell").count()
    p.locator(".dd-AssistInsert").click()
    nb.locator(".jp-CodeCell").nth(before).wait_for()
    cell = nb.locator(".jp-CodeCell").nth(1)
    source = cell.locator(".jp-InputArea-editor").inner_text()
    # ordinary pandas / pingouin code that loads the file beside the notebook
    assert "read_csv('survey.csv')" in source and "import datadive" not in source, source
    cell.locator(".jp-InputPrompt").click()
    lab.page.keyboard.press("Shift+Enter")
    lab.dismiss_dialogs()
    out = cell.locator(".jp-OutputArea")
    # the kernel prints exactly the APA line the panel showed
    out.get_by_text(state["apa"]).first.wait_for(timeout=120_000)
    assert "Error" not in out.inner_text(), out.inner_text()
    cell.scroll_into_view_if_needed()
    lab.shot("assistant-cell-output")
    state["inserted"] = True


def codebook_url(platform, researcher) -> str:
    return server_api(platform, researcher, f"codebook/{quote(state['project'])}/survey.csv")


def test_codebook_edit_and_save(lab, platform, researcher):
    need_route(platform, researcher, f"codebook/{quote(state['project'])}/survey.csv")
    p = panel(lab)
    p.get_by_role("button", name="Codebook").click()
    table = p.locator(".dd-CodebookList")
    table.wait_for()
    age = table.locator("li[data-column='age']")
    assert age.get_by_label("Level of age").input_value() == "scale"
    age.get_by_label("Level of age").select_option("ordinal")
    assert "age: level scale → ordinal" in p.get_by_label("Unsaved changes").inner_text()
    lab.shot("codebook-edited")
    problems = lab.axe("#datadive-panel")
    assert not problems, f"serious/critical axe violations in the codebook editor: {problems}"
    p.locator(".dd-SaveCodebook").click()
    p.get_by_text("Saved beside the dataset").wait_for()
    assert not p.get_by_label("Unsaved changes").count()
    stored = requests.get(
        codebook_url(platform, researcher), headers=researcher.headers, timeout=60
    )
    assert stored.status_code == 200, stored.text
    levels = {c["name"]: c["level"] for c in stored.json()["codebook"]["columns"]}
    assert levels["age"] == "ordinal"
    # the outcome picker follows: age is no longer a scale column
    p.get_by_role("button", name="Ask").click()
    options = p.get_by_label("Outcome (what you measured)").locator("option").all_inner_texts()
    assert "age" not in options and "score" in options
    lab.shot("codebook-saved")


def test_codebook_changed_by_someone_else(lab, platform, researcher):
    need_route(platform, researcher, f"codebook/{quote(state['project'])}/survey.csv")
    p = panel(lab)
    p.get_by_role("button", name="Codebook").click()
    table = p.locator(".dd-CodebookList")
    table.wait_for()
    # someone else saves meanwhile (with the hash they read)
    current = requests.get(
        codebook_url(platform, researcher), headers=researcher.headers, timeout=60
    ).json()
    codebook = current["codebook"]
    for c in codebook["columns"]:
        if c["name"] == "age":
            c["level"] = "scale"
    r = requests.put(
        codebook_url(platform, researcher),
        headers=researcher.headers,
        json={"codebook": codebook, "hash": current["hash"]},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    # this panel still has the old hash: its save is refused, nothing is overwritten
    table.locator("li[data-column='participant']").get_by_label(
        "participant is personal data"
    ).check()
    p.locator(".dd-SaveCodebook").click()
    alert = p.locator(".dd-Codebook [role='alert']")
    alert.wait_for()
    assert "changed by someone else" in alert.inner_text() and "reload" in alert.inner_text()
    lab.shot("codebook-conflict")
    alert.get_by_role("button", name="Reload").click()
    table.locator("li[data-column='age']").get_by_label("Level of age").wait_for()
    lab.page.wait_for_function(
        "() => document.querySelector(\"#datadive-panel li[data-column='age'] select\")?.value === 'scale'"
    )
    assert not p.locator(".dd-Codebook [role='alert']").count()
    lab.shot("codebook-reloaded")


def test_recheck_after_the_data_changed(lab, platform, researcher, tmp_path, timings):
    if not state.get("inserted"):
        unavailable(
            "no assistant cell: test_insert_runs_in_the_kernel_and_prints_apa did not insert one"
        )
    need_route(platform, researcher, "assist/recheck", "POST")
    upload(lab, tmp_path, survey_csv(skewed=True))
    nb = active_notebook(lab)
    cell = nb.locator(".jp-CodeCell").nth(1)
    cell.locator(".jp-InputPrompt").click()
    cell.locator(".jp-InputPrompt").click(button="right")
    item = lab.page.locator(".lm-Menu-item", has_text="Check again with the Datadive Assistant")
    item.wait_for()
    lab.shot("recheck-context-menu")
    started = time.perf_counter()
    item.click()
    card = panel(lab).locator(".dd-Recheck")
    card.wait_for(timeout=60_000)
    timings["assistant_recheck_wall_ms"] = round((time.perf_counter() - started) * 1000, 1)
    assert "The recommendation changed" in card.inner_text(), card.inner_text()
    assert "dd-mod-changed" in (card.get_attribute("class") or "")
    new_test = card.locator(".dd-TestName").first.inner_text()
    assert new_test != state["test"] and "Mann-Whitney" in new_test, new_test
    failed = card.locator(".dd-Check-failed")
    assert failed.count() >= 1 and "Shapiro" in failed.first.inner_text()
    card.scroll_into_view_if_needed()
    lab.shot("recheck-changed")
    # replace the cell with the new recommendation and run it on the new data
    apa = card.locator(".dd-Apa").first.inner_text()
    card.locator(".dd-ReplaceCell").click()
    lab.page.wait_for_function(
        "() => !document.querySelector('#datadive-panel .dd-Recheck')", timeout=30_000
    )
    source = cell.locator(".jp-InputArea-editor").inner_text()
    assert "Mann-Whitney" in source, source
    cell.locator(".jp-InputPrompt").click()
    lab.page.keyboard.press("Shift+Enter")
    cell.locator(".jp-OutputArea").get_by_text(apa).first.wait_for(timeout=120_000)
    cell.scroll_into_view_if_needed()
    lab.shot("recheck-cell-replaced-and-run")
