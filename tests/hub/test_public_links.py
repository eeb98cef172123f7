"""Public links: a file or notebook published by an editor, pinned to its version, served without
sign-in, revocable at once, never a way into the hub's origin, rate-limited."""

import json
import os
import time
import uuid
from datetime import UTC, datetime, timedelta

import nbformat
import pytest
import requests
from datadive_platform import service_process

pytestmark = pytest.mark.hub

NOT_FOUND = "This link does not exist, has expired or was withdrawn by its owner."


@pytest.fixture(scope="module")
def team(any_platform):
    owner, editor, viewer = any_platform.user(), any_platform.user(), any_platform.user()
    project = any_platform.project(owner)
    any_platform.share(owner, project["id"], (editor, "editor"), (viewer, "viewer"))
    return {"owner": owner, "editor": editor, "viewer": viewer, "project": project}


def put(platform, team, path: str, data: bytes) -> None:
    r = platform.call(
        "PUT", f"projects/{team['project']['id']}/files/{path}", team["editor"], data=data
    )
    assert r.status_code in (200, 201), r.text


def publish(platform, team, who="editor", **body):
    return platform.call("POST", f"projects/{team['project']['id']}/links", team[who], json=body)


def public(platform, url: str) -> requests.Response:
    return requests.get(platform.url + url, timeout=60)  # no token, no cookie


def test_a_published_file_stays_the_version_published(any_platform, team):
    put(any_platform, team, "results/table2.csv", b"group,mean\na,4.25\nb,3.50\n")
    r = publish(any_platform, team, path="results/table2.csv")
    assert r.status_code == 201, r.text
    link = r.json()
    assert link["kind"] == "file" and link["created_by"] == team["editor"].name
    put(any_platform, team, "results/table2.csv", b"group,mean\na,9.99\n")  # changed later
    page = public(any_platform, link["url"])
    assert page.status_code == 200, page.text
    assert page.content == b"group,mean\na,4.25\nb,3.50\n"
    assert "sandbox" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    # every member sees the list; nobody can read the URL (its token) back from it
    r = any_platform.call("GET", f"projects/{team['project']['id']}/links", team["viewer"])
    assert r.status_code == 200, r.text
    listed = {item["id"]: item for item in r.json()["links"]}
    assert listed[link["id"]]["path"] == "results/table2.csv"
    token = link["url"].rsplit("/", 1)[-1]
    assert token not in r.text and "url" not in listed[link["id"]]


def notebook_bytes(marker: str) -> bytes:
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell(
        f"open('/tmp/{marker}', 'w').write('ran')  # the code of the analysis\nprint(summary)",
        metadata={"datadive": {"inputs": {"file": "private/participants-raw.csv"}}},
    )
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="mean = 4.25\n")]
    code.execution_count = 3
    nb.cells = [nbformat.v4.new_markdown_cell("# Table 2"), code]
    nb.metadata["datadive"] = {"project": "secret-project-id"}
    return nbformat.writes(nb).encode()


@pytest.mark.parametrize("hide_code", [False, True])
def test_a_notebook_is_static_html_never_run_without_its_metadata(any_platform, team, hide_code):
    marker = f"datadive-public-{uuid.uuid4().hex}"
    put(any_platform, team, "report.ipynb", notebook_bytes(marker))
    r = publish(any_platform, team, path="report.ipynb", hide_code=hide_code)
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "notebook"
    page = public(any_platform, r.json()["url"])
    assert page.status_code == 200, page.text
    assert page.headers["Content-Type"].startswith("text/html")
    html = page.text
    assert "Table 2" in html and "mean = 4.25" in html
    assert ("the code of the analysis" in html) is (not hide_code)
    for private in ("participants-raw.csv", "secret-project-id", team["project"]["id"]):
        assert private not in html, private
    assert not os.path.exists(f"/tmp/{marker}"), "publishing must never run the notebook"


def test_revoked_expired_deleted_and_forged_links_answer_404_at_once(any_platform, team):
    put(any_platform, team, "fig1.png", b"\x89PNG\r\n\x1a\nnot really")
    base = f"projects/{team['project']['id']}/links"
    revoked = publish(any_platform, team, path="fig1.png").json()
    assert public(any_platform, revoked["url"]).status_code == 200
    r = any_platform.call("DELETE", f"{base}/{revoked['id']}", team["editor"])
    assert r.status_code == 204, r.text
    gone = public(any_platform, revoked["url"])
    assert (gone.status_code, gone.text.strip()) == (404, NOT_FOUND)
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    expiring = publish(any_platform, team, path="fig1.png", expires=soon).json()
    assert public(any_platform, expiring["url"]).status_code == 200
    time.sleep(2.5)
    expired = public(any_platform, expiring["url"])
    assert (expired.status_code, expired.text.strip()) == (404, NOT_FOUND)
    listed = any_platform.call("GET", base, team["owner"]).json()["links"]
    assert {item["id"]: item["expired"] for item in listed}[expiring["id"]] is True
    forged = revoked["url"].rsplit("/", 1)[0] + "/" + "A" * 43
    assert (
        public(any_platform, forged).status_code,
        public(any_platform, forged).text.strip(),
    ) == (
        404,
        NOT_FOUND,
    )


def test_a_deleted_project_takes_its_links_down(any_platform):
    owner = any_platform.user()
    project = any_platform.project(owner)
    r = any_platform.call("PUT", f"projects/{project['id']}/files/a.txt", owner, data=b"hello")
    assert r.status_code in (200, 201), r.text
    link = any_platform.call(
        "POST", f"projects/{project['id']}/links", owner, json={"path": "a.txt"}
    ).json()
    assert public(any_platform, link["url"]).content == b"hello"
    assert any_platform.call("DELETE", f"projects/{project['id']}", owner).status_code == 200
    assert public(any_platform, link["url"]).status_code == 404


def test_html_and_svg_are_downloads_not_pages(any_platform, team):
    for name, body in (
        ("evil.html", b"<script>fetch('/hub/api/user')</script>"),
        ("evil.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    ):
        put(any_platform, team, name, body)
        page = public(any_platform, publish(any_platform, team, path=name).json()["url"])
        assert page.status_code == 200 and page.content == body
        assert page.headers["Content-Disposition"].startswith("attachment")
        assert page.headers["Content-Type"] == "application/octet-stream"
        assert "sandbox" in page.headers["Content-Security-Policy"]


def test_personal_data_columns_are_not_published(any_platform, team):
    put(any_platform, team, "survey.csv", b"id,email,score\n1,a@example.org,3\n")
    codebook = {
        "version": 1,
        "source": {},
        "columns": [
            {"name": "id", "level": "identifier", "personal_data": False},
            {"name": "email", "level": "free_text", "personal_data": True},
            {"name": "score", "level": "scale", "personal_data": False},
        ],
    }
    put(any_platform, team, "survey.csv.codebook.json", json.dumps(codebook).encode())
    r = publish(any_platform, team, path="survey.csv")
    assert r.status_code == 409, r.text
    assert "email" in r.json()["message"] and "personal data" in r.json()["message"]
    put(any_platform, team, "survey.csv.codebook.json", b"{not json")
    r = publish(any_platform, team, path="survey.csv")
    assert r.status_code == 409 and "fix the codebook" in r.json()["message"], r.text


@pytest.mark.parametrize(
    "body,status,words",
    [
        ({"path": "nothing-here.csv"}, 404, "No file 'nothing-here.csv'"),
        ({"path": "../other-project/x.csv"}, 400, ""),
        ({"path": "fig1.png", "version": "no-such-version"}, 404, "in version"),
        ({"path": "fig1.png", "expires": "next tuesday"}, 400, "ISO 8601"),
        ({"path": "fig1.png", "expires": "2001-01-01T00:00:00Z"}, 400, "in the past"),
        ({"path": "fig1.png", "hide_code": "yes"}, 400, "true or false"),
    ],
)
def test_bad_requests_say_what_to_do_and_publish_nothing(any_platform, team, body, status, words):
    put(any_platform, team, "fig1.png", b"\x89PNG\r\n\x1a\nnot really")
    before = any_platform.call("GET", f"projects/{team['project']['id']}/links", team["owner"])
    r = publish(any_platform, team, **body)
    assert r.status_code == status, r.text
    assert words in r.json()["message"]
    after = any_platform.call("GET", f"projects/{team['project']['id']}/links", team["owner"])
    assert len(after.json()["links"]) == len(before.json()["links"])


def test_public_requests_are_rate_limited_per_client(any_platform, team):
    """Straight to the service (as the proxy would call it), one client address per run; the
    limit counts unknown tokens too, so guessing is as slow as reading."""
    env = service_process(any_platform).environ()
    service = env["JUPYTERHUB_SERVICE_URL"].rstrip("/") + "/services/datadive/public/"
    client = f"203.0.113.{uuid.uuid4().int % 250 + 1}"
    statuses = []
    for i in range(61):
        r = requests.get(
            service + f"guess{i:040d}", headers={"X-Forwarded-For": client}, timeout=30
        )
        statuses.append(r.status_code)
    assert statuses[:60] == [404] * 60
    assert statuses[60] == 429 and int(r.headers["Retry-After"]) >= 1, r.text
    other = requests.get(service + "guess", headers={"X-Forwarded-For": client + "1"}, timeout=30)
    assert other.status_code == 404  # another client is not slowed down


def test_the_rate_limit_refills_with_time():
    from datadive_hub.public import RateLimiter

    limiter = RateLimiter(per_minute=60, max_clients=2)
    assert [limiter.allow("a", now=0.0) for _ in range(60)] == [0.0] * 60
    assert limiter.allow("a", now=0.0) == pytest.approx(1.0)  # one request a second
    assert limiter.allow("a", now=1.0) == 0.0
    assert limiter.allow("b", now=1.0) == 0.0 and limiter.allow("c", now=1.0) == 0.0
    assert limiter.allow("a", now=1.0) == 0.0  # forgotten (only two clients kept): a full bucket
