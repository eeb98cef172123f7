"""The project pages of the Datadive service in Chromium, with the researcher's server STOPPED.

Signs in through the hub's form with ``next=/services/datadive/`` (no server is spawned), then
visits each kind of page: my projects → a project (files, members, links, audit) → a folder → a
CSV preview → a rendered notebook → a file's versions → an older version → an error page. Each
is checked with axe-core (no serious or critical violation) and photographed into
test-artifacts/browser/pages/; the keyboard reaches the skip link first and every link shows
its focus.
"""

from __future__ import annotations

import re
import shutil
import uuid

import nbformat
import pytest
from labpage import ARTIFACTS, Lab

CSV = "participant,age,score,group\n" + "".join(
    f"p{i},{'' if i % 7 == 0 else 20 + i % 40},{i % 10 + 0.5},{'ct'[i % 2]}\n" for i in range(1, 61)
)


@pytest.fixture(scope="module")
def site(browser, platform, researcher):
    """A signed-in browser on the service's pages, and a project with data, notebook, versions."""
    other = platform.user()
    project = platform.project(researcher, f"Field study {uuid.uuid4().hex[:4]}")
    pid = project["id"]
    platform.share(researcher, pid, (other, "viewer"), ("newcomer", "editor"))

    def put(path, data):
        r = platform.call("PUT", f"projects/{pid}/files/{path}", researcher, data=data)
        assert r.status_code in (200, 201), r.text
        return r.json()

    first = put("data/survey.csv", CSV.encode())
    put("data/survey.csv", (CSV + "p61,30,3.5,c\n").encode())
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Survey results\nMean age by group."),
        nbformat.v4.new_code_cell(
            "df.groupby('group').age.mean()",
            execution_count=1,
            outputs=[
                nbformat.v4.new_output(
                    "execute_result",
                    data={"text/plain": "group\nc    39.1\nt    40.2\nName: age, dtype: float64"},
                    execution_count=1,
                )
            ],
        ),
    ]
    put("analysis.ipynb", nbformat.writes(nb).encode())
    put("README.txt", b"Field study notes")
    r = platform.call("POST", f"projects/{pid}/links", researcher, json={"path": "analysis.ipynb"})
    assert r.status_code == 201, r.text

    shots = ARTIFACTS / "pages"
    if shots.exists():
        shutil.rmtree(shots)
    shots.mkdir(parents=True)
    # the pages run no script; axe is injected by the test, so the page's policy is bypassed
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    lab = Lab(page, platform.url, researcher, shots)
    page.on(
        "response",
        lambda r: (
            r.status >= 300
            and lab.console.append(f"{r.status} {r.request.resource_type} {r.url} <- {r.frame.url}")
        ),
    )
    page.goto(f"{platform.url}/hub/login?next=/services/datadive/")
    page.fill("#username_input", researcher.name)
    page.fill("#password_input", researcher.password)
    page.click("#login_submit")
    page.wait_for_url(re.compile(r"/services/datadive/$"), timeout=60_000)
    yield {"lab": lab, "pid": pid, "project": project, "first": first["version_id"]}
    if lab.console:
        (shots / "console.log").write_text("\n".join(lab.console) + "\n")
    context.close()


def server_stopped(platform, user) -> bool:
    return not platform.hub("GET", f"users/{user.name}").json().get("servers")


def check(site, name: str, heading: str) -> None:
    """The page has the heading, no serious/critical axe violation; a screenshot is kept."""
    lab = site["lab"]
    page = lab.page
    page.get_by_role("heading", level=1, name=heading).wait_for()
    lab.step += 1
    page.screenshot(path=str(lab.shots / f"{lab.step:02d}-{name}.png"), full_page=True)
    violations = lab.axe("html")
    assert not violations, violations
    assert page.locator("main").count() == 1 and page.locator("nav").count() >= 1


def test_my_projects(site, platform, researcher):
    page = site["lab"].page
    check(site, "my-projects", "Your projects")
    row = page.get_by_role("row", name=re.compile(site["project"]["name"]))
    assert row.get_by_role("cell").nth(0).inner_text() == "owner"
    assert row.get_by_role("cell").nth(1).inner_text() == "3"
    # the keyboard: the skip link first, then the hub's navigation; focus is visible
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", outline
    assert server_stopped(platform, researcher)


def test_a_project(site, platform, researcher):
    page = site["lab"].page
    page.get_by_role("link", name=site["project"]["name"]).click()
    check(site, "project", site["project"]["name"])
    assert page.get_by_role("heading", name="Audit log").is_visible()
    assert page.get_by_role("row", name=re.compile("newcomer")).get_by_text("pending").is_visible()
    lab_link = page.get_by_role("link", name="Open in JupyterLab")
    assert "/hub/spawn?next=" in lab_link.get_attribute("href")
    page.get_by_role("link", name="data/").click()
    check(site, "folder", site["project"]["name"])
    assert page.get_by_role("heading", name="Files in data").is_visible()
    assert server_stopped(platform, researcher)


def test_a_csv_preview(site):
    page = site["lab"].page
    page.get_by_role("link", name="survey.csv", exact=True).click()
    check(site, "csv-preview", "survey.csv")
    assert "61 rows in total, 4 columns" in page.locator("#rows-total").inner_text()
    row = page.get_by_role("row", name=re.compile(r"^age "))
    assert row.get_by_role("cell").nth(0).inner_text() == "integer"
    assert row.get_by_role("cell").nth(1).inner_text() == "8"  # every 7th age is empty


def test_versions_and_an_older_version(site):
    page = site["lab"].page
    page.get_by_role("link", name="Versions of survey.csv").click()
    check(site, "versions", "Versions of survey.csv")
    assert page.get_by_role("cell", name="current version").count() == 1
    page.locator("tbody tr").nth(1).get_by_role("link").click()
    check(site, "older-version", "survey.csv")
    assert page.get_by_role("status").is_visible()
    assert "60 rows in total" in page.locator("#rows-total").inner_text()


def test_a_rendered_notebook(site, platform, researcher):
    lab = site["lab"]
    page = lab.page
    page.goto(f"{platform.url}/services/datadive/projects/{site['pid']}/files/analysis.ipynb")
    frame = page.frame_locator("iframe.dd-notebook")
    frame.get_by_role("heading", name="Survey results").wait_for()
    check(site, "notebook", "analysis.ipynb")
    assert page.locator("iframe").get_attribute("sandbox") == ""
    assert server_stopped(platform, researcher)


def test_an_error_page(site, platform):
    page = site["lab"].page
    page.goto(f"{platform.url}/services/datadive/projects/{site['pid']}/files/nothing.csv")
    check(site, "error", "404 : Not Found")
    assert "No file 'nothing.csv' in this project" in page.get_by_role("alert").inner_text()
