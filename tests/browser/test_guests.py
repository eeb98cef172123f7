"""Guests in a real browser: an owner invites by link; a stranger opens it in a fresh Chromium
context, joins as a guest through the form and sees exactly the one invited project; a hub user
opening another invitation signs in through the hub and accepts it as themselves."""

from __future__ import annotations

import re
import shutil

import pytest
from guest_client import invite
from labpage import ARTIFACTS, serious_axe_violations

SHOTS = ARTIFACTS / "guests"


@pytest.fixture(scope="module")
def shots():
    if SHOTS.exists():
        shutil.rmtree(SHOTS)
    SHOTS.mkdir(parents=True)
    return SHOTS


def api_projects(page) -> dict:
    """GET projects from inside the page (the browser's own cookies, nothing else)."""
    return page.evaluate(
        """async () => {
            const r = await fetch('/services/datadive/api/v1/projects');
            return {status: r.status, body: await r.json()};
        }"""
    )


def test_a_stranger_joins_as_guest_and_sees_one_project(browser, platform, shots):
    owner = platform.user()
    project = platform.project(owner, name="Field study 2026")
    hidden = platform.project(owner, name="Unpublished cohort")
    inv = invite(platform, owner, project["id"], "viewer")
    context = browser.new_context(viewport={"width": 1000, "height": 760}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(platform.url + inv["url"])
        assert page.get_by_role("heading", name="You are invited to Field study 2026").is_visible()
        page.screenshot(path=str(shots / "01-invitation-form.png"))
        assert serious_axe_violations(page) == []
        page.fill("#display_name", "Dr Rosa Field")
        page.fill("#password", "short")
        page.screenshot(path=str(shots / "02-form-filled-short-password.png"))
        # the browser's own check (minlength) keeps a too-short password from being sent
        page.get_by_role("button", name="Join as guest").click()
        assert page.url == platform.url + inv["url"]
        page.fill("#password", "a long enough passphrase")
        page.get_by_role("button", name="Join as guest").click()
        page.wait_for_url(re.compile(rf"/services/datadive/projects/{project['id']}$"))
        # the project's page, served by the service: the guest has no server to open
        page.get_by_role("heading", name="Field study 2026").wait_for()
        assert "Your role: viewer" in page.inner_text("main")
        assert page.get_by_text("Open in JupyterLab").count() == 0
        page.screenshot(path=str(shots / "03-after-accepting.png"))
        page.goto(f"{platform.url}/services/datadive/")
        assert "Field study 2026" in page.inner_text("main")
        assert "Unpublished cohort" not in page.content()
        page.screenshot(path=str(shots / "03b-guest-project-list.png"))
        page.goto(f"{platform.url}/services/datadive/projects/{project['id']}")
        listed = api_projects(page)
        assert listed["status"] == 200, listed
        assert [(p["id"], p["name"], p["role"]) for p in listed["body"]["projects"]] == [
            (project["id"], "Field study 2026", "viewer")
        ]
        assert hidden["id"] not in str(listed)
        # the link worked once: opened again it shows nothing of the project
        page.goto(platform.url + inv["url"])
        assert "Field study 2026" not in page.content()
        assert "Ask the person who invited you" in page.content()
        page.screenshot(path=str(shots / "04-link-used-again.png"))
        # revoked: the guest's next request is refused and says whom to ask
        url = f"projects/{project['id']}/invitations/{inv['id']}"
        assert platform.call("DELETE", url, owner).status_code == 204
        ended = api_projects(page)
        assert ended["status"] == 401 and owner.name in ended["body"]["message"], ended
    finally:
        context.close()


def test_a_hub_user_accepts_as_themselves(browser, platform, shots):
    owner = platform.user()
    colleague = platform.user(password=True)
    project = platform.project(owner, name="Shared with a colleague")
    inv = invite(platform, owner, project["id"], "editor")
    context = browser.new_context(viewport={"width": 1000, "height": 760})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{platform.url}/hub/login")
        page.fill("#username_input", colleague.name)
        page.fill("#password_input", colleague.password)
        page.click("#login_submit")
        page.wait_for_url(re.compile(r"/(hub|user)/"))
        page.goto(platform.url + inv["url"])
        page.get_by_role("link", name="Sign in to the hub").click()
        accept = page.get_by_role("button", name=f"Accept as hub user {colleague.name}")
        accept.wait_for()
        page.screenshot(path=str(shots / "05-accept-as-hub-user.png"))
        accept.click()
        page.wait_for_url(re.compile(rf"/services/datadive/projects/{project['id']}$"))
    finally:
        context.close()
    r = platform.call("GET", f"projects/{project['id']}", colleague)
    assert r.status_code == 200 and r.json()["role"] == "editor", r.text
