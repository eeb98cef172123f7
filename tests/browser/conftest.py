"""Browser tests of the Datadive panel: headless Debian Chromium driven by Python Playwright
against the real platform (``datadive up`` from tests/conftest.py's ``platform`` fixture).

Fixtures
--------
chromium_path
    Path of Debian's Chromium (``/usr/bin/chromium``). Missing (Playwright cannot download its
    own browser here): the tests fail under CI (``CI=true``), else they are skipped, with the
    reason printed either way (``datadive_platform.unavailable``).
labextension_installed
    Checks that ``@datadive/labextension`` is installed in this environment (``./dev setup``
    builds it into the wheel); missing → ``unavailable`` as above.
browser
    Session-scoped Playwright ``Browser`` (Chromium with the flags the CI machine needs).
researcher
    Module-scoped JupyterHub user (a new one per test module) with a local password (created through the hub API).
lab
    Module-scoped :class:`Lab`: a signed-in browser page on the researcher's JupyterLab, with
    helpers to take numbered screenshots into test-artifacts/browser/<module>/ and to record timings.
timings
    Session-scoped dict of measured figures; written to test-artifacts/browser/timings.json
    and printed in the terminal summary at the end of the run.
sample_csv
    A small CSV file (``survey.csv``: participant, age, score) to upload.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import uuid
from pathlib import Path

import pytest
from datadive_platform import unavailable
from labpage import ARTIFACTS, Lab

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.hub)
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture(scope="session")
def labextension_installed() -> Path:
    installed = Path(sys.prefix) / "share/jupyter/labextensions/@datadive/labextension/package.json"
    if not installed.exists():
        unavailable(
            f"{installed} is missing: run ./dev setup (builds the labextension into the wheel)"
        )
    return installed.parent


# module scope: sync Playwright keeps an event loop running in this thread while it is open,
# which would break every asyncio test collected after the browser tests
@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def researcher(platform):
    # one researcher per test module: what one module creates never shows in another's panel,
    # so the modules pass in any order
    return platform.user(f"ana{uuid.uuid4().hex[:8]}", password=True)


_TIMINGS: dict = {}


@pytest.fixture(scope="session")
def timings():
    yield _TIMINGS
    if _TIMINGS:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "timings.json").write_text(json.dumps(_TIMINGS, indent=2) + "\n")


def pytest_terminal_summary(terminalreporter):
    """Print the measured figures at the end of the run (also with -q and captured output)."""
    if _TIMINGS:
        terminalreporter.section("Datadive panel timings (test-artifacts/browser/timings.json)")
        for key, value in _TIMINGS.items():
            terminalreporter.write_line(f"  {key}: {value}")


@pytest.fixture(scope="session")
def sample_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "survey.csv"
    path.write_text("participant,age,score\np1,34,7.5\np2,29,6.0\np3,41,8.25\n")
    return path


@pytest.fixture(scope="module")
def lab(request, browser, platform, researcher, labextension_installed):
    # screenshots of each module in a folder of its own (test_panel.py -> browser/panel/),
    # emptied when that module starts
    shots = ARTIFACTS / request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    if shots.exists():
        shutil.rmtree(shots)
    shots.mkdir(parents=True, exist_ok=True)
    # a module may ask for a larger window with a module-level VIEWPORT
    viewport = getattr(request.module, "VIEWPORT", {"width": 1400, "height": 900})
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(30_000)
    lab = Lab(page, platform.url, researcher, shots)
    page.goto(f"{platform.url}/hub/login")
    page.fill("#username_input", researcher.name)
    page.fill("#password_input", researcher.password)
    lab.shot("sign-in")
    page.click("#login_submit")
    # the hub spawns the server, then redirects to /user/<name>/lab
    page.wait_for_url(re.compile(rf"/user/{researcher.name}/lab"), timeout=180_000)
    lab.wait_lab()
    yield lab
    if lab.console:
        (shots / "console.log").write_text("\n".join(lab.console) + "\n")
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failing browser step, keep a screenshot and the page's console next to the others."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and "lab" in item.funcargs:
        lab = item.funcargs["lab"]
        try:
            lab.shot(f"FAILED-{item.name}")
            (lab.shots / "console.log").write_text("\n".join(lab.console) + "\n")
        except Exception as e:  # noqa: BLE001 - the test's own failure is what matters
            print(f"could not save the failure screenshot: {e}")
