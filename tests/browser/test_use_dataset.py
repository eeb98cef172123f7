"""The panel's "Use elsewhere" on a data file: the researcher links a CSV of one project into
another project they edit; it appears there as a read-only linked file (issue 12, "Data shared
between projects"). Screenshots go to test-artifacts/browser/use_dataset/."""

from __future__ import annotations

import uuid

from test_panel import open_project

CSV = b"participant,age\np1,34\np2,29\n"


def test_use_a_data_file_in_another_project(lab, platform, researcher):
    tag = uuid.uuid4().hex[:4]
    source = platform.project(researcher, f"Source {tag}")
    target = platform.project(researcher, f"Target {tag}")
    r = platform.call("PUT", f"projects/{source['id']}/files/survey.csv", researcher, data=CSV)
    assert r.status_code == 201, r.text
    p = open_project(lab, source)
    p.get_by_role("tab", name="Files").click()
    p.get_by_role("button", name="Use survey.csv in another project").click()
    dialog = lab.page.locator(".jp-Dialog")
    dialog.get_by_text("without a copy").wait_for()
    dialog.get_by_label("Project").select_option(label=target["name"])
    lab.shot("use-elsewhere-asks")
    dialog.get_by_role("button", name="Link").click()
    lab.page.get_by_text(f"is now in {target['name']}").first.wait_for()
    lab.shot("use-elsewhere-linked")
    r = platform.call("GET", f"projects/{target['id']}/datasets", researcher)
    (link,) = r.json()["datasets"]
    assert link["path"] == "survey.csv" and link["source_project_id"] == source["id"]
    r = platform.call("GET", f"projects/{target['id']}/files/survey.csv", researcher)
    assert r.status_code == 200 and r.content == CSV
    p.get_by_role("button", name="Back to all projects").click()
    p.get_by_label("Filter projects").fill("")
