"""Project pages served by the Datadive service (decision 11): readable with the user's server
stopped, in JupyterHub's look, showing exactly what the API would let the caller see."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

import nbformat
import pytest
import requests

pytestmark = pytest.mark.hub

CSV = "id,age,group\n" + "".join(
    f"{i},{'' if i % 10 == 0 else 20 + i % 50},{'ab'[i % 2]}\n" for i in range(1, 121)
)


def pages(platform) -> str:
    return f"{platform.url}/services/datadive"


def page(platform, path: str, user=None, **kw) -> requests.Response:
    """GET a page as ``user`` (their API token: the same HubOAuth as a browser cookie)."""
    headers = {**(user.headers if user else {}), **kw.pop("headers", {})}
    return requests.get(f"{pages(platform)}/{path}", headers=headers, timeout=60, **kw)


def text_of(r: requests.Response) -> str:
    """The page's visible text, roughly (tags dropped, entities decoded, spaces collapsed)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", r.text)).split())


@pytest.fixture(scope="module")
def team(any_platform):
    p = any_platform
    owner, editor, viewer, stranger = p.user(), p.user(), p.user(), p.user()
    r = p.call(
        "POST",
        "projects",
        owner,
        json={"name": "Pages 'study' & co", "description": "<script>alert(1)</script> <b>x</b>"},
    )
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    p.share(owner, pid, (editor, "editor"), (viewer, "viewer"))
    r = p.call("POST", f"projects/{pid}/members", owner, json={"name": "notyet", "role": "viewer"})
    assert r.status_code == 201 and r.json()["pending"], r.text

    def put(path, data: bytes):
        r = p.call("PUT", f"projects/{pid}/files/{path}", editor, data=data)
        assert r.status_code in (200, 201), r.text
        return r.json()

    first = put("data/survey.csv", CSV.encode())
    put("data/survey.csv", (CSV + "121,33,a\n").encode())  # a second version
    put("notes.txt", b"plain notes")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Results"),
        nbformat.v4.new_code_cell(
            "show()",
            outputs=[
                nbformat.v4.new_output(
                    "display_data",
                    data={
                        "text/html": "<script>window.PWNED=1</script><b id='rich'>rich</b>",
                        "text/plain": "<script>alert('plain')</script>",
                    },
                )
            ],
        ),
    ]
    put("analysis.ipynb", nbformat.writes(nb).encode())
    r = p.call("POST", f"projects/{pid}/links", editor, json={"path": "notes.txt"})
    assert r.status_code == 201, r.text
    return {
        "owner": owner,
        "editor": editor,
        "viewer": viewer,
        "stranger": stranger,
        "pid": pid,
        "first_version": first["version_id"],
    }


def test_not_signed_in_is_sent_to_the_hub_sign_in(any_platform, team):
    for path in ("", f"projects/{team['pid']}", f"projects/{team['pid']}/files/notes.txt"):
        r = page(any_platform, path, allow_redirects=False)
        assert r.status_code == 302, (path, r.status_code, r.text[:200])
        assert "/hub/api/oauth2/authorize" in r.headers["Location"], r.headers["Location"]
        r = page(any_platform, path)  # followed: the hub's sign-in form, not a JSON 401
        assert r.status_code == 200 and "/hub/login" in r.url, r.url
        assert 'id="login_submit"' in r.text or "Sign in" in r.text
    # a script's request (not a navigation) is told, not sent round the sign-in
    r = page(any_platform, "", allow_redirects=False, headers={"Sec-Fetch-Mode": "cors"})
    assert r.status_code == 401 and "Not signed in" in text_of(r), r.text[:300]


def test_signed_in_browser_sees_my_projects_without_a_server(any_platform, team):
    p = any_platform
    user = p.user(password=True)
    project = p.project(user, "Browser study")
    s = requests.Session()
    nxt = "/services/datadive/"
    r = s.get(f"{p.url}/hub/login?next={quote(nxt)}", timeout=30)
    xsrf = s.cookies.get("_xsrf") or re.search(r'name="_xsrf" value="([^"]+)"', r.text).group(1)
    r = s.post(
        f"{p.url}/hub/login?next={quote(nxt)}",
        data={"username": user.name, "password": user.password, "_xsrf": xsrf},
        timeout=60,
    )
    assert r.status_code == 200 and r.url.endswith(nxt), (r.status_code, r.url)
    text = text_of(r)
    assert "Your projects" in text and "Browser study owner 1" in text, text
    assert f"/services/datadive/projects/{project['id']}" in r.text
    assert "/hub/static/css/style.min.css" in r.text  # the hub's own look
    # the hub serves that stylesheet, and its home page links to these pages (Services menu)
    assert s.get(f"{p.url}/hub/static/css/style.min.css", timeout=30).status_code == 200
    home = s.get(f"{p.url}/hub/home", timeout=30)
    assert home.status_code == 200 and 'href="/services/datadive/"' in home.text, home.text[-2000:]
    # pages were read with the server stopped (never started)
    assert not p.hub("GET", f"users/{user.name}").json().get("servers")


def test_my_projects_lists_role_members_and_last_change(any_platform, team):
    r = page(any_platform, "", team["viewer"])
    assert r.status_code == 200, r.text
    assert "text/html" in r.headers["Content-Type"]
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    text = text_of(r)
    # name (escaped), role, members (3 users + the pending one), a last change time
    assert re.search(
        r"Pages 'study' & co <script>alert\(1\)</script> <b>x</b> viewer 4 "
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC",
        text,
    ), text
    # everything escaped: the description's markup is text, and the page has no script at all
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;x&lt;/b&gt;" in r.text
    assert "<script" not in r.text and "<b>x</b>" not in r.text
    assert "You are not a member of any project" in page(any_platform, "", team["stranger"]).text


@pytest.mark.parametrize("who", ["owner", "editor", "viewer"])
def test_a_project_page_shows_files_members_links(any_platform, team, who):
    r = page(any_platform, f"projects/{team['pid']}", team[who])
    assert r.status_code == 200, r.text
    text = text_of(r)
    assert f"Your role: {who}" in text
    assert "data/" in text and "notes.txt" in text and "analysis.ipynb" in text
    for member in ("owner", "editor", "viewer"):
        assert team[member].name in text
    assert "notyet user viewer pending has not signed in yet" in text, text
    assert re.search(r"notes\.txt file " + team["editor"].name, text), text  # public link
    # "Open in JupyterLab" starts the server and opens the project's folder
    lab = re.search(r'href="([^"]*/hub/spawn\?next=[^"]*)"[^>]*>Open in JupyterLab', r.text)
    assert lab, r.text
    assert quote(
        quote("/hub/user-redirect/lab/tree/Pages 'study' & co", safe="/"), safe=""
    ) in lab.group(1)
    # the audit log is the owners' alone (as GET .../audit)
    assert ("Audit log" in text) == (who == "owner")
    # so are the bytes the project keeps (GET .../usage)
    assert ("This project keeps" in text) == (who == "owner")
    # a folder opens in place
    r = page(any_platform, f"projects/{team['pid']}?folder=data", team[who])
    assert r.status_code == 200 and "survey.csv" in text_of(r)
    assert "Up to the parent folder" in r.text


def test_a_stranger_gets_the_api_s_404_as_a_page(any_platform, team):
    pid = team["pid"]
    for path in (
        f"projects/{pid}",
        f"projects/{pid}/files/notes.txt",
        f"projects/{pid}/versions/notes.txt",
        f"projects/{pid}/notebook/analysis.ipynb",
    ):
        r = page(any_platform, path, team["stranger"])
        assert r.status_code == 404, (path, r.status_code)
        assert "text/html" in r.headers["Content-Type"]
        api = any_platform.call("GET", f"projects/{pid}", team["stranger"]).json()["message"]
        assert html.escape(api, quote=False) in r.text or api in text_of(r), r.text
        assert "notes.txt" not in text_of(r).replace(path, "")
    assert page(any_platform, "projects/nope", team["owner"]).status_code == 404


def test_audit_log_is_paged_newest_first_with_export(any_platform, team):
    r = page(any_platform, f"projects/{team['pid']}", team["owner"])
    text = text_of(r)
    assert "Audit log" in text and "uploaded" in text and "published" in text
    assert f"/services/datadive/api/v1/projects/{team['pid']}/audit/export" in r.text
    # newest first: the link was published after the uploads
    assert text.index("published") < text.index("uploaded")
    export = requests.get(
        f"{any_platform.api}/projects/{team['pid']}/audit/export",
        headers=team["owner"].headers,
        timeout=60,
    )
    assert export.status_code == 200 and '"action": "uploaded"' in export.text
    assert page(any_platform, f"projects/{team['pid']}?before=x", team["owner"]).status_code == 400


def test_a_csv_preview_shows_total_rows_types_and_missing(any_platform, team):
    r = page(any_platform, f"projects/{team['pid']}/files/data/survey.csv", team["viewer"])
    assert r.status_code == 200, r.text
    text = text_of(r)
    assert "121 rows in total, 3 columns" in text, text
    # column, type, missing (every 10th age is empty), one-line summary
    assert re.search(r"age integer 12 21 to 69; mean 42.41; 45 distinct", text), text
    assert re.search(r"group string 0 most often [ab] \(61\), [ab] \(60\); 2 distinct", text), text
    assert "First 50 rows" in text
    assert f"/services/datadive/api/v1/projects/{team['pid']}/files/data/survey.csv" in r.text


def test_an_older_version_and_the_versions_page(any_platform, team):
    pid = team["pid"]
    r = page(any_platform, f"projects/{pid}/versions/data/survey.csv", team["viewer"])
    assert r.status_code == 200, r.text
    text = text_of(r)
    assert text.count(team["editor"].name) == 2 and text.count("current version") == 2, text
    assert f"version={quote(team['first_version'], safe='')}" in r.text
    old = page(
        any_platform,
        f"projects/{pid}/files/data/survey.csv?version={quote(team['first_version'])}",
        team["viewer"],
    )
    assert old.status_code == 200, old.text
    assert "older version" in text_of(old) and "120 rows in total" in text_of(old)
    missing = page(
        any_platform, f"projects/{pid}/files/data/survey.csv?version=nope", team["viewer"]
    )
    assert missing.status_code == 404
    assert "No version 'nope' of 'data/survey.csv'" in text_of(missing), missing.text


def test_a_notebook_is_rendered_read_only_in_a_sandbox(any_platform, team):
    pid = team["pid"]
    r = page(any_platform, f"projects/{pid}/files/analysis.ipynb", team["viewer"])
    assert r.status_code == 200, r.text
    assert "window.PWNED" not in r.text and "<script" not in r.text  # the page runs nothing
    frame = re.search(r'<iframe[^>]*sandbox=""[^>]*src="([^"]+)"', r.text)
    assert frame, r.text
    f = requests.get(
        any_platform.url + html.unescape(frame.group(1)), headers=team["viewer"].headers, timeout=60
    )
    assert f.status_code == 200, f.text
    csp = f.headers["Content-Security-Policy"]
    assert csp.startswith("sandbox;") and "allow-scripts" not in csp and "script-src" not in csp
    assert "frame-ancestors 'self'" in csp and f.headers["X-Content-Type-Options"] == "nosniff"
    # the outputs' HTML is there as the notebook holds it, but only inside the sandbox
    assert "Results" in f.text and re.search(r"id=.rich.", f.text), f.text[-3000:]
    assert (
        page(any_platform, f"projects/{pid}/notebook/notes.txt", team["viewer"]).status_code == 400
    )


def test_other_files_get_a_download_link(any_platform, team):
    r = page(any_platform, f"projects/{team['pid']}/files/notes.txt", team["viewer"])
    assert r.status_code == 200
    assert "This kind of file has no preview here" in text_of(r)
    dl = re.search(r'href="([^"]*/api/v1/projects/[^"]*/files/notes\.txt)"', r.text).group(1)
    got = requests.get(any_platform.url + dl, headers=team["viewer"].headers, timeout=60)
    assert got.status_code == 200 and got.content == b"plain notes"


@pytest.mark.parametrize(
    "path",
    [
        "files/..%2F..%2Fsecret.txt",
        "files/%2E%2E/%2E%2E/other/notes.txt",
        "files/data/..%2F..%2Fx",
        "versions/..%2Fnotes.txt",
        "files/%2Fetc%2Fpasswd",
    ],
)
def test_path_traversal_is_refused(any_platform, team, path):
    r = page(any_platform, f"projects/{team['pid']}/{path}", team["owner"])
    assert r.status_code in (400, 404), (r.status_code, r.text[:300])
    assert "text/html" in r.headers["Content-Type"]
    assert "root:" not in r.text


def test_a_folder_path_opens_the_folder_and_a_missing_file_is_404(any_platform, team):
    pid = team["pid"]
    r = page(any_platform, f"projects/{pid}/files/data", team["viewer"], allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"].endswith(f"projects/{pid}?folder=data")
    r = page(any_platform, f"projects/{pid}/files/nothing.csv", team["viewer"])
    assert r.status_code == 404 and "No file 'nothing.csv' in this project" in text_of(r)
    r = page(any_platform, f"projects/{pid}?folder=nothing", team["viewer"])
    assert r.status_code == 404 and "No folder 'nothing'" in text_of(r)


def test_a_hub_admin_and_a_token_without_service_access(any_platform, team):
    pid = team["pid"]
    r = page(any_platform, f"projects/{pid}", any_platform.admin)
    assert r.status_code == 200 and "Your role: owner" in text_of(r) and "Audit log" in r.text
    r = any_platform.hub(
        "POST",
        f"users/{team['owner'].name}/tokens",
        json={"scopes": ["read:users:name!user"], "note": "no service access"},
    )
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    r = requests.get(
        f"{pages(any_platform)}/projects/{pid}",
        headers={"Authorization": f"token {token}"},
        timeout=60,
        allow_redirects=False,
    )
    api = any_platform.call("GET", f"projects/{pid}", token=token)
    assert r.status_code == api.status_code == 403, (r.status_code, api.status_code)
    assert api.json()["message"] in text_of(r)
