"""What the browser tests share besides fixtures: where screenshots go, and :class:`Lab`, a
signed-in browser page with helpers (numbered screenshots, panel toggling, axe-core checks).

A module of its own (not conftest.py) so that test modules import it by a name no other test
folder uses."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
AXE_JS = ROOT / "datadive_labext" / "node_modules" / "axe-core" / "axe.min.js"


class Lab:
    """A signed-in JupyterLab page plus helpers."""

    def __init__(self, page, url: str, user, shots: Path = ARTIFACTS):
        self.page = page
        self.shots = shots
        self.url = url
        self.user = user
        self.step = 0
        self.console: list[str] = []
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))

    @property
    def lab_url(self) -> str:
        return f"{self.url}/user/{self.user.name}/lab"

    def shot(self, name: str) -> Path:
        self.decline_news()  # Lab's question about its news would hide the panel's corner
        self.step += 1
        self.shots.mkdir(parents=True, exist_ok=True)
        path = self.shots / f"{self.step:02d}-{re.sub(r'[^a-z0-9]+', '-', name.lower())}.png"
        self.page.screenshot(path=str(path))
        return path

    def wait_lab(self, timeout: float = 180_000) -> None:
        self.page.wait_for_selector("#jp-main-dock-panel", timeout=timeout)
        self.page.wait_for_selector(".jp-SideBar [data-id='datadive-panel']", timeout=60_000)
        self.dismiss_dialogs()

    def dismiss_dialogs(self) -> None:
        """Close start-up dialogs Lab may show (e.g. news / kernel choice): accept defaults."""
        dialog = self.page.locator(".jp-Dialog")
        if dialog.count():
            accept = dialog.locator(".jp-mod-accept")
            if accept.count():
                accept.first.click()

    def open_panel(self) -> None:
        """Show the Datadive sidebar (clicking its tab toggles it, so check the outcome)."""
        tab = self.page.locator(".jp-SideBar [data-id='datadive-panel']")
        body = self.page.locator("#datadive-panel .dd-PanelBody")
        for _ in range(3):
            if body.is_visible():
                return
            tab.click()
            try:
                body.wait_for(state="visible", timeout=5_000)
                return
            except Exception:  # noqa: BLE001 - toggled the wrong way while Lab restored; again
                continue
        body.wait_for(state="visible")

    def close_panel(self) -> None:
        tab = self.page.locator(".jp-SideBar [data-id='datadive-panel']")
        body = self.page.locator("#datadive-panel")
        for _ in range(3):
            if not body.is_visible():
                return
            tab.click()
            try:
                body.wait_for(state="hidden", timeout=5_000)
                return
            except Exception:  # noqa: BLE001 - toggled the wrong way while Lab restored; again
                continue
        body.wait_for(state="hidden")

    @property
    def panel(self):
        """The Datadive panel (a locator)."""
        return self.page.locator("#datadive-panel")

    def find_project(self, name: str):
        """Show the panel's project list, fresh, filtered to ``name``; the panel."""
        p = self.panel
        self.open_panel()
        if p.locator(".dd-Form").count():
            p.get_by_role("button", name="Back from the form").click()
        back = p.get_by_role("button", name="Back to all projects")
        if back.count():
            back.click()
        p.get_by_role("button", name="Refresh the project list").click()
        p.get_by_label("Filter projects").fill(name)
        return p

    def open_project(self, name: str):
        """Find the project ``name`` in the panel's list and open it; the panel."""
        p = self.find_project(name)
        p.locator(".dd-Project", has_text=name).locator(".dd-ItemMain").click()
        p.locator(".dd-ProjectName", has_text=name).wait_for()
        return p

    def decline_news(self) -> None:
        """Answer Lab's "Jupyter news?" toast, if it shows, with No."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        news = self.page.locator(".Toastify__toast", has_text="Jupyter news")
        if news.count():
            try:  # the toast may close by itself between the count and the click
                news.get_by_role("button", name="No", exact=True).click(timeout=3_000)
            except PlaywrightTimeout:
                pass

    def axe(self, selector: str) -> list[dict]:
        """Serious or critical axe-core violations inside ``selector``."""
        return serious_axe_violations(self.page, selector)


def serious_axe_violations(page, selector: str = "html") -> list[dict]:
    """Serious or critical axe-core violations inside ``selector`` of ``page`` (axe-core is
    injected once; a page whose content security policy forbids it needs ``bypass_csp``)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate(
        """async (sel) => {
            const r = await axe.run(document.querySelector(sel), {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary).slice(0, 5)}));
        }""",
        selector,
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]
