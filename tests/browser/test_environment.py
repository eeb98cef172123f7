"""A project's environment (issue 14, docs/environments.md) in a real JupyterLab on ``datadive up``.

One session, in order: the researcher opens a project in the Datadive panel → the Environment
tab says the project lists no packages → adds ``tinypkg==2.0`` with "Add and build" → the tab
shows the build running (phase and progress bar), then "Ready" with tinypkg 2.0 installed by the
project, and the Launcher offers the kernel "Python (<project>)" → a new notebook of the project
starts with that kernel (the toolbar names it) and
``import tinypkg; print(tinypkg.__version__)`` prints ``2.0``.

No package registry is reached: the researcher's server reads its own Jupyter config
(``~/.jupyter/jupyter_server_config.json`` in the home ``datadive up`` gives it, written before the
first sign-in), which points ``DatadiveExtension`` at a wheel folder made by tests/wheelhouse.py
in that home and allows no index. Environments and uv's cache are in the home too (the default
``~/.cache/datadive/environments``), inside the test's temporary data dir.
Screenshots go to test-artifacts/browser/environment/.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest
from wheelhouse import make_wheelhouse

state: dict = {}

# what the tab showed between two moments: every state and status line, whether a progress bar
# was there while building (a build of one tiny wheel may end before a screenshot can be taken)
WATCH_JS = """() => {
    window.__ddEnvSeen = [];
    const seen = window.__ddEnvSeen;
    const record = () => {
        const env = document.querySelector('#datadive-panel .dd-Environment');
        if (!env) { return; }
        const line = env.querySelector('[role=status]');
        const bar = env.querySelector('progress.dd-EnvProgress');
        const item = {state: env.dataset.ddEnvState, line: line ? line.textContent : '',
                      bar: bar ? bar.getAttribute('aria-label') : null};
        const last = seen[seen.length - 1];
        if (!last || last.state !== item.state || last.line !== item.line || last.bar !== item.bar) {
            seen.push(item);
        }
    };
    record();
    new MutationObserver(record).observe(document.querySelector('#datadive-panel'),
        {subtree: true, childList: true, attributes: true, characterData: true});
}"""


@pytest.fixture(scope="module")
def researcher(researcher, platform, tmp_path_factory):
    """The module's researcher, whose server (not started yet: the ``lab`` fixture signs in)
    installs packages only from a local wheel folder."""
    home = platform.data_dir / "users" / researcher.name
    wheels = make_wheelhouse(home / ".wheelhouse")
    config = home / ".jupyter" / "jupyter_server_config.json"
    config.parent.mkdir(parents=True)
    config.write_text(
        json.dumps(
            {
                "DatadiveExtension": {
                    "environments_index_urls": [],
                    "environments_find_links": [str(wheels)],
                }
            }
        )
    )
    # datadive up makes the home private to the user's account (and hands it over) at spawn.
    state["project"] = platform.project(researcher, f"Env study {uuid.uuid4().hex[:4]}")
    return researcher


@pytest.fixture(scope="module")
def env_lab(lab):
    lab.decline_news()
    return lab


def panel(lab):
    return lab.page.locator("#datadive-panel")


def environment(lab):
    return panel(lab).locator(".dd-Environment")


def test_environment_tab_of_a_new_project(env_lab):
    lab = env_lab
    lab.open_panel()
    p = panel(lab)
    p.get_by_role("button", name="Refresh the project list").click()
    name = state["project"]["name"]
    p.locator(".dd-Project", has_text=name).locator(".dd-ItemMain").click()
    p.locator(".dd-ProjectName", has_text=name).wait_for()
    p.get_by_role("tab", name="Environment").click()
    env = environment(lab)
    env.wait_for()
    assert env.get_attribute("data-dd-env-state") == "empty"
    assert "lists no packages" in env.get_by_role("status").inner_text()
    assert p.get_by_role("list", name="Packages of the project").locator("li").count() == 0
    lab.shot("environment-tab-empty")


def test_add_package_builds_with_progress(env_lab):
    lab = env_lab
    env = environment(lab)
    field = env.get_by_label("Add a package")
    # a URL is refused in the browser, in words, before anything is sent
    field.fill("https://example.org/tinypkg.whl")
    env.locator("#dd-env-add-problem").wait_for()
    assert "URLs and local paths are not allowed" in env.locator("#dd-env-add-problem").inner_text()
    assert env.get_by_role("button", name="Add and build").is_disabled()
    field.fill("tinypkg==2.0")
    assert not env.locator("#dd-env-add-problem").count()
    lab.shot("environment-package-typed")
    lab.page.evaluate(WATCH_JS)
    env.get_by_role("button", name="Add and build").click()
    # while it builds: a phase and a progress bar (snap it if the build is still running)
    env.locator("progress.dd-EnvProgress").wait_for()
    if env.get_attribute("data-dd-env-state") == "building":
        lab.shot("environment-building")
    panel(lab).locator(".dd-Environment[data-dd-env-state='ready']").wait_for(timeout=180_000)
    seen = lab.page.evaluate("window.__ddEnvSeen")
    building = [s for s in seen if s["state"] == "building"]
    assert building, seen
    assert all(re.match(r"Building: .+ \(\d+%\)$", s["line"]) for s in building), building
    assert any(s["bar"] and s["bar"].startswith("Build progress: ") for s in building), building
    assert seen[-1]["state"] == "ready", seen
    # the package is listed, the kernel named, and tinypkg 2.0 is what the project installed
    packages = panel(lab).get_by_role("list", name="Packages of the project")
    assert packages.locator("li code").all_inner_texts() == ["tinypkg==2.0"]
    name = state["project"]["name"]
    assert env.get_by_role("status").inner_text() == (
        f'Ready: choose the kernel "Python ({name})" for this project\'s notebooks.'
    )
    installed = env.locator("details", has=lab.page.locator("summary", has_text="Installed:"))
    summary = installed.locator("summary")
    assert re.match(r"Installed: 1 by the project, \d+ from the image", summary.inner_text())
    summary.click()
    assert installed.locator("li code").first.inner_text() == "tinypkg==2.0"
    # the log folds when the build ends; unfolded, it shows uv's lines, wrapped in the panel
    log = env.locator("details", has=lab.page.locator("summary", has_text="Build log"))
    log.locator("summary").click()
    pre = log.locator("pre.dd-EnvLog")
    assert "tinypkg" in pre.inner_text()
    box = pre.bounding_box()
    panel_box = panel(lab).bounding_box()
    assert box and panel_box and box["x"] + box["width"] <= panel_box["x"] + panel_box["width"] + 1
    assert pre.evaluate("e => getComputedStyle(e).whiteSpace") == "pre-wrap"
    assert pre.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), "the log is cut at the edge"
    # Lab knows the new kernel by its name at once (the Launcher offers it), not a minute later
    lab.page.locator(".jp-LauncherCard", has_text=f"Python ({name})").first.wait_for()
    lab.decline_news()
    lab.shot("environment-ready-installed")


def test_project_notebook_runs_in_the_project_kernel(env_lab):
    lab = env_lab
    p = panel(lab)
    p.get_by_role("tab", name="Files").click()
    p.get_by_label("New notebook name").fill("uses-tinypkg")
    p.get_by_role("button", name="New notebook").click()
    nb = lab.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    nb.locator(".jp-Notebook").wait_for(timeout=60_000)
    lab.dismiss_dialogs()
    name = state["project"]["name"]
    # the notebook asked for the default Python kernel and got the project's
    nb.locator(".jp-Toolbar-kernelName", has_text=f"Python ({name})").wait_for(timeout=60_000)
    lab.decline_news()
    cell = nb.locator(".jp-CodeCell").first
    cell.locator(".jp-InputArea-editor").click()
    lab.page.keyboard.type("import tinypkg; print(tinypkg.__version__)")
    lab.page.keyboard.press("Shift+Enter")
    lab.dismiss_dialogs()
    out = cell.locator(".jp-OutputArea-output")
    out.first.wait_for(timeout=120_000)
    assert out.first.inner_text().strip() == "2.0"
    lab.shot("notebook-project-kernel-prints-2-0")
