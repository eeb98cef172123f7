"""Authorization matrix generated from the OpenAPI document.

Every operation × {owner, editor, viewer, non-member, hub admin, anonymous, another user's token,
a token without access to the service, an expired token, and members through several
memberships: a direct viewer who is also in an editor group, a user in a viewer group and an
editor group, a direct editor who is also in a viewer group, a user whose only group was removed
from the project, and guests (external collaborators, signed in by the service's cookie): a
viewer guest and an editor guest invited to the project, a guest whose invitation expired and one
whose invitation was revoked} → the status its ``x-datadive-access`` implies (the highest role
wins; a guest reaches only its projects' routes, ``GET projects``, the template library and
the document). An operation without an example here fails the test: no route can be left out. Every 401/403/404
body is checked to carry no project data: no project names, member names, file or notebook names
or ids other than the ones the request itself names.
"""

import json
import re
import time
import uuid

import pytest
from guest_client import Guest, invite
from openapi_check import document

pytestmark = pytest.mark.hub

PRINCIPALS = [
    "owner",
    "editor",
    "viewer",
    "non_member",
    "admin",
    "anonymous",
    "other_users_token",
    "no_service_scope",
    "expired",
    "direct_viewer_group_editor",
    "group_viewer_group_editor",
    "direct_editor_group_viewer",
    "removed_group_member",
    "guest_viewer",
    "guest_editor",
    "guest_expired",
    "guest_revoked",
]
RANK = {"viewer": 1, "editor": 2, "owner": 3}
# the role a principal holds in every world project (None: not a member)
ROLE = {
    "owner": "owner",
    "editor": "editor",
    "viewer": "viewer",
    "non_member": None,
    "other_users_token": None,  # another user's token acts as them: a non-member
    "direct_viewer_group_editor": "editor",
    "group_viewer_group_editor": "editor",
    "direct_editor_group_viewer": "editor",
    "removed_group_member": None,
}
# the role of a guest's live invitation to every world project; ended ones answer 401 everywhere
GUEST_ROLE = {"guest_viewer": "viewer", "guest_editor": "editor"}
ENDED_GUESTS = ("guest_expired", "guest_revoked")
#: the routes without a project in their path that guests may call (the template library is
#: read by an editor guest's server)
GUEST_ROUTES = {"listProjects", "getOpenAPI", "listTemplates", "getTemplate", "getTemplateVersion"}
CSV = b"id,score\n1,3.5\n2,4.0\n"


def operations():
    for template, item in document()["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete", "head"):
                yield template, method, op


def success_status(op) -> frozenset[int]:
    """The documented 2xx statuses (e.g. PUT of a file: 201 created or 200 replaced)."""
    return frozenset(int(code) for code in op["responses"] if code.startswith("2"))


def expected(access: str, principal: str, op) -> frozenset[int]:
    """The statuses ``principal`` must get from an operation with ``x-datadive-access: access``."""
    if principal in ("anonymous", "expired", *ENDED_GUESTS):
        return frozenset({401})
    if access == "guest-server":
        # guest servers are off on this platform: every caller is refused (the allowed case:
        # tests/hub/test_guest_servers.py)
        return frozenset({403})
    if principal in GUEST_ROLE:
        if op["operationId"] in GUEST_ROUTES:
            return success_status(op)
        if access in ("signed-in", "admin", "template-author"):
            return frozenset({403})
        role = GUEST_ROLE[principal]
        return success_status(op) if RANK[role] >= RANK[access] else frozenset({403})
    if principal == "no_service_scope":
        return frozenset({403})
    if principal == "admin" or access == "signed-in":
        return success_status(op)
    if access in ("admin", "template-author"):
        return frozenset({403})
    role = ROLE[principal]
    if role is None:
        return frozenset({404})
    return success_status(op) if RANK[role] >= RANK[access] else frozenset({403})


class People:
    def __init__(self, platform):
        self.platform = platform
        self.owner = platform.user()
        self.editor = platform.user()
        self.viewer = platform.user()
        self.non_member = platform.user()
        self.other = platform.user()
        self.extra = platform.user()
        self.admin = platform.user(admin=True)
        tag = uuid.uuid4().hex[:6]
        self.g_dv_edit = f"mx-{tag}-dv-edit"
        self.g_two_view, self.g_two_edit = f"mx-{tag}-two-view", f"mx-{tag}-two-edit"
        self.g_de_view = f"mx-{tag}-de-view"
        self.g_removed = f"mx-{tag}-removed"
        self.direct_viewer_group_editor = platform.user(groups=(self.g_dv_edit,))
        self.group_viewer_group_editor = platform.user(groups=(self.g_two_view, self.g_two_edit))
        self.direct_editor_group_viewer = platform.user(groups=(self.g_de_view,))
        self.removed_group_member = platform.user(groups=(self.g_removed,))
        self.projects: list[dict] = []  # every world project (for the no-leak check)
        self.notebooks: list[dict] = []
        r = platform.hub(
            "POST",
            f"users/{self.non_member.name}/tokens",
            json={"scopes": ["read:users:name!user"], "note": "no service access"},
        )
        assert r.status_code == 201, r.text
        self.no_scope_token = r.json()["token"]
        r = platform.hub("POST", f"users/{self.owner.name}/tokens", json={"expires_in": 1})
        self.expired_token = r.json()["token"]
        self.guests = {name: Guest(platform) for name in (*GUEST_ROLE, *ENDED_GUESTS)}
        home = platform.project(self.owner)
        self.projects.append(home)
        for name, seconds in (("guest_expired", 2), ("guest_revoked", None)):
            inv = invite(platform, self.owner, home["id"], "editor", seconds=seconds)
            assert self.guests[name].accept(inv["url"]).status_code == 302
            if seconds is None:
                url = f"projects/{home['id']}/invitations/{inv['id']}"
                assert platform.call("DELETE", url, self.owner).status_code == 204
        time.sleep(2.5)

    def invite_guests(self, project_id: str) -> None:
        """The viewer and editor guests accept an invitation to ``project_id`` (the first one
        makes them guests, later ones add the project to the signed-in guest)."""
        for name, role in GUEST_ROLE.items():
            guest = self.guests[name]
            inv = invite(self.platform, self.owner, project_id, role)
            action = "guest" if guest.session.cookies.get("datadive-guest") else "new"
            r = guest.accept(inv["url"], action=action)
            assert r.status_code == 302, r.text

    def token(self, principal: str) -> str | None:
        return {
            "owner": self.owner.token,
            "editor": self.editor.token,
            "viewer": self.viewer.token,
            "non_member": self.non_member.token,
            "admin": self.admin.token,
            "anonymous": None,
            "other_users_token": self.other.token,
            "no_service_scope": self.no_scope_token,
            "expired": self.expired_token,
            "direct_viewer_group_editor": self.direct_viewer_group_editor.token,
            "group_viewer_group_editor": self.group_viewer_group_editor.token,
            "direct_editor_group_viewer": self.direct_editor_group_viewer.token,
            "removed_group_member": self.removed_group_member.token,
        }[principal]

    def user_of(self, principal: str):
        """The JupyterHub user a principal's token acts as (None: no user)."""
        named = {"non_member": self.non_member, "other_users_token": self.other}
        if principal in named:
            return named[principal]
        if principal == "no_service_scope":
            return self.non_member
        if principal == "expired":
            return self.owner
        return getattr(self, principal, None)

    def names(self) -> set[str]:
        """Every user and group name a project's membership may show."""
        users = [
            self.owner,
            self.editor,
            self.viewer,
            self.non_member,
            self.other,
            self.extra,
            self.direct_viewer_group_editor,
            self.group_viewer_group_editor,
            self.direct_editor_group_viewer,
            self.removed_group_member,
        ]
        groups = [self.g_dv_edit, self.g_two_view, self.g_two_edit, self.g_de_view, self.g_removed]
        return {u.name for u in users} | set(groups)


def make_world(platform, people: People, deleted: bool = False) -> dict:
    """A project with an editor, a viewer, members through several memberships (the higher
    role added first, so that "the last membership wins" gives the lower one), a former group
    member, a notebook and a data file with two versions."""
    p = platform.project(people.owner)
    pid = p["id"]
    people.projects.append(p)

    def add(kind: str, name: str, role: str) -> None:
        r = platform.call(
            "POST",
            f"projects/{pid}/members",
            people.owner,
            json={"kind": kind, "name": name, "role": role},
        )
        assert r.status_code == 201, r.text

    add("user", people.editor.name, "editor")
    add("user", people.viewer.name, "viewer")
    add("group", people.g_dv_edit, "editor")
    add("user", people.direct_viewer_group_editor.name, "viewer")
    add("group", people.g_two_edit, "editor")
    add("group", people.g_two_view, "viewer")
    add("user", people.direct_editor_group_viewer.name, "editor")
    add("group", people.g_de_view, "viewer")
    add("group", people.g_removed, "editor")
    r = platform.call("DELETE", f"projects/{pid}/members/group/{people.g_removed}", people.owner)
    assert r.status_code in (200, 204), r.text
    nb_name = f"nb-{uuid.uuid4().hex[:8]}"
    r = platform.call("POST", f"projects/{pid}/notebooks", people.owner, json={"name": nb_name})
    assert r.status_code == 201, r.text
    people.notebooks.append(r.json())
    world = {"project_id": pid, "notebook_id": r.json()["id"], "version_id": None}
    if "/projects/{project_id}/files/{path}" in document()["paths"]:
        for body in (CSV, CSV + b"3,5.0\n"):
            r = platform.call("PUT", f"projects/{pid}/files/data.csv", people.owner, data=body)
            assert r.status_code in (200, 201), r.text
        r = platform.call("GET", f"projects/{pid}/versions/data.csv", people.owner)
        versions = r.json()["versions"]
        world["version_id"] = versions[-1]["version_id"]
    if "/projects/{project_id}/trash" in document()["paths"]:
        # a deleted file in the trash and a snapshot (issue 13)
        r = platform.call("PUT", f"projects/{pid}/files/gone.csv", people.owner, data=CSV)
        assert r.status_code == 201, r.text
        r = platform.call("DELETE", f"projects/{pid}/files/gone.csv", people.owner)
        assert r.status_code == 200, r.text
        r = platform.call("POST", f"projects/{pid}/snapshots", people.owner, json={"name": "snap"})
        assert r.status_code == 201, r.text
    people.invite_guests(pid)
    if deleted:
        assert platform.call("DELETE", f"projects/{pid}", people.owner).status_code == 200
    return world


# operationId → (path parameters, request keyword arguments) for a successful call
def example(op_id: str, world: dict, people: People) -> tuple[dict, dict]:
    if "Template" in op_id:  # cell templates (issue 4)
        return template_example(op_id, people)
    if op_id == "deleteLink":
        return {"project_id": world["project_id"], "link_id": link_to_revoke(world, people)}, {}
    if op_id == "deleteInvitation":
        inv = invite(people.platform, people.owner, world["project_id"])
        return {"project_id": world["project_id"], "invitation_id": inv["id"]}, {}
    if op_id in ("deleteDatasetLink", "updateDatasetLink", "copyDatasetLink"):
        ids = {"project_id": world["project_id"], "link_id": dataset_link(world, people)}
        return ids, ({"json": {}} if op_id == "updateDatasetLink" else {})
    pid = {"project_id": world["project_id"]}
    nb = {**pid, "notebook_id": world["notebook_id"]}
    data = {**pid, "path": "data.csv"}
    table = {
        "getOpenAPI": ({}, {}),
        "getGuestServer": ({}, {}),
        "listProjects": ({}, {}),
        "createProject": ({}, {"json": {"name": f"new-{uuid.uuid4().hex[:8]}"}}),
        "getProject": (pid, {}),
        "updateProject": (pid, {"json": {"description": "updated"}}),
        "deleteProject": (pid, {}),
        "restoreProject": (pid, {}),
        "purgeProject": (pid, {}),
        "listMembers": (pid, {}),
        "addMember": (pid, {"json": {"kind": "user", "name": people.extra.name, "role": "viewer"}}),
        "changeMemberRole": (
            {**pid, "kind": "user", "name": people.viewer.name},
            {"json": {"role": "editor"}},
        ),
        "removeMember": ({**pid, "kind": "user", "name": people.viewer.name}, {}),
        "listNotebooks": (pid, {}),
        "createNotebook": (pid, {"json": {"name": "another"}}),
        "getNotebook": (nb, {}),
        "updateNotebook": (nb, {"json": {"archived": True}}),
        "deleteNotebook": (nb, {}),
        "listFiles": (pid, {}),
        "downloadFile": (data, {}),
        "headFile": (data, {}),
        "uploadFile": ({**pid, "path": "new.csv"}, {"data": CSV}),
        "deleteFile": (data, {}),
        "copyFiles": (pid, {"json": {"from": "data.csv", "to": "copy.csv"}}),
        "moveFiles": (pid, {"json": {"from": "data.csv", "to": "moved.csv"}}),
        "listFileVersions": (data, {}),
        "restoreFileVersion": (data, {"json": {"version_id": world["version_id"]}}),
        "previewFile": (data, {}),
        "listTrash": (pid, {}),
        "restoreFromTrash": (pid, {"json": {"path": "gone.csv"}}),
        "listSnapshots": (pid, {}),
        "createSnapshot": (pid, {"json": {"name": f"s-{uuid.uuid4().hex[:8]}"}}),
        "getSnapshot": ({**pid, "name": "snap"}, {}),
        "compareSnapshots": ({**pid, "name": "snap"}, {"params": {"with": "current"}}),
        "restoreSnapshot": ({**pid, "name": "snap"}, {}),
        "listLinks": (pid, {}),
        "listAuditEvents": (pid, {}),
        "exportAuditEvents": (pid, {}),
        "getProjectUsage": (pid, {}),
        "createLink": (pid, {"json": {"path": "data.csv"}}),
        "listInvitations": (pid, {}),
        "createInvitation": (pid, {"json": {"role": "viewer"}}),
        "listDatasetLinks": (pid, {}),
        "createDatasetLink": (pid, {"json": dataset_link_body(people)}),
    }
    assert op_id in table, f"operation {op_id} has no example in the authorization matrix; add one"
    return table[op_id]


def link_to_revoke(world: dict, people: People) -> str:
    """A fresh public link of the world's data file (made by its owner) for each DELETE."""
    r = people.platform.call(
        "POST", f"projects/{world['project_id']}/links", people.owner, json={"path": "data.csv"}
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def dataset_source(people: People) -> str:
    """A world project (every principal holds the same role in it as in the others) whose
    data.csv the dataset-link examples link from: reading it needs that role there too."""
    if not hasattr(people, "dataset_source"):
        people.dataset_source = make_world(people.platform, people)["project_id"]
    return people.dataset_source


def dataset_link_body(people: People) -> dict:
    return {
        "source_project": dataset_source(people),
        "source_path": "data.csv",
        "path": f"linked-{uuid.uuid4().hex[:8]}.csv",
    }


def dataset_link(world: dict, people: People) -> str:
    """A fresh link of the source project's data.csv into the world project (by its owner)."""
    r = people.platform.call(
        "POST",
        f"projects/{world['project_id']}/datasets",
        people.owner,
        json=dataset_link_body(people),
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def template_example(op_id: str, people: People) -> tuple[dict, dict]:
    """A freshly published template per call, so deleting/deprecating it harms nothing else."""
    tid = f"matrix-{uuid.uuid4().hex[:8]}"
    source = f"id: {tid}\nversion: 1.0.0\ntitle: Matrix\nlanguage: python\ncode: print(1)\n"
    if op_id == "publishTemplate":
        return {}, {"json": {"source": source}}
    if op_id == "listTemplates":
        return {}, {}
    r = people.platform.call("POST", "templates", people.admin, json={"source": source})
    assert r.status_code == 201, r.text
    ids = {"template_id": tid, "version": "1.0.0"}
    return ids, ({"json": {"deprecated": True}} if op_id == "deprecateTemplateVersion" else {})


CASES = [
    pytest.param(template, method, principal, id=f"{op['operationId']}-{principal}")
    for template, method, op in operations()
    for principal in PRINCIPALS
]


@pytest.fixture(scope="module")
def people(any_platform):
    return People(any_platform)


@pytest.fixture(scope="module")
def shared_world(any_platform, people):
    return {False: make_world(any_platform, people), True: make_world(any_platform, people, True)}


@pytest.mark.parametrize("template,method,principal", CASES)
def test_matrix(any_platform, people, shared_world, template, method, principal):
    op = document()["paths"][template][method]
    deleted = op.get("x-datadive-state") == "deleted"
    mutating = method not in ("get", "head") and principal not in (
        "anonymous",
        "expired",
        "no_service_scope",
        *ENDED_GUESTS,
    )
    world = make_world(any_platform, people, deleted) if mutating else shared_world[deleted]
    params, kwargs = example(op["operationId"], world, people)
    path = template.format(**params)
    if principal in people.guests:
        r = people.guests[principal].call(method.upper(), path, **kwargs)
    else:
        r = any_platform.call(method.upper(), path, token=people.token(principal) or "", **kwargs)
    want = expected(op["x-datadive-access"], principal, op)
    assert r.status_code in want, (
        f"{method.upper()} {template} as {principal}: {r.status_code}, expected {want}: "
        f"{r.text[:300]}"
    )
    if r.status_code >= 400 and method != "head":
        body = r.json()
        assert body["status"] == r.status_code and body["message"], body
        asked = path + json.dumps(kwargs.get("json") or {})
        assert_no_project_data(r.text, principal, people, world, asked, r.status_code)


def _listed_role(platform, token: str, pid: str) -> str | None:
    """The role ``GET projects`` shows for ``pid`` (every page), or None when it is not listed."""
    params: dict = {}
    while True:
        r = platform.call("GET", "projects", token=token, params=params)
        assert r.status_code == 200, r.text
        for p in r.json()["projects"]:
            if p["id"] == pid:
                return p["role"]
        if not r.json()["next"]:
            return None
        params = {"cursor": r.json()["next"]}


@pytest.mark.parametrize("principal", [p for p in ROLE if p != "other_users_token"])
def test_highest_role_wins_and_is_what_the_member_sees(any_platform, people, principal):
    """Direct + group, two groups, a removed group: the project page and the project list show
    the highest role each principal holds; a principal whose only group left is no member."""
    world = make_world(any_platform, people)
    pid = world["project_id"]
    token = people.token(principal)
    r = any_platform.call("GET", f"projects/{pid}", token=token)
    if ROLE[principal] is None:
        assert r.status_code == 404, r.text
        assert _listed_role(any_platform, token, pid) is None
        return
    assert r.status_code == 200, r.text
    assert r.json()["role"] == ROLE[principal]
    assert _listed_role(any_platform, token, pid) == ROLE[principal]


@pytest.mark.parametrize("how", ["user left the group", "group deleted"])
def test_access_through_a_group_ends_when_the_hub_group_does(any_platform, people, how):
    """JupyterHub owns groups: leaving one (or its deletion) ends the access it gave within the
    service's few-second cache of the hub's answer, without any change to the project."""
    platform = any_platform
    group = f"mx-left-{uuid.uuid4().hex[:6]}"
    member = platform.user(groups=(group,))
    pid = platform.project(people.owner)["id"]
    r = platform.call(
        "POST",
        f"projects/{pid}/members",
        people.owner,
        json={"kind": "group", "name": group, "role": "editor"},
    )
    assert r.status_code == 201, r.text
    r = platform.call("GET", f"projects/{pid}", member)
    assert r.status_code == 200 and r.json()["role"] == "editor", r.text
    if how == "group deleted":
        assert platform.hub("DELETE", f"groups/{group}").status_code == 204
    else:
        r = platform.hub("DELETE", f"groups/{group}/users", json={"users": [member.name]})
        assert r.status_code == 200, r.text
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        r = platform.call("GET", f"projects/{pid}", member)
        if r.status_code == 404:
            break
        assert r.status_code == 200, r.text
        time.sleep(0.5)
    assert r.status_code == 404, f"still {r.status_code} 30 s after the hub group changed"
    assert platform.call("PUT", f"projects/{pid}/files/x.csv", member, data=CSV).status_code == 404
    assert _listed_role(platform, member.token, pid) is None


def assert_no_project_data(text: str, principal: str, people: People, world, asked, status):
    """An error body names nothing of any project beyond what the request itself named: no
    project names, member names, notebook or file names, project/notebook/version ids. A member
    refused for a too-low role (403) may be told the project's name: they can read it anyway."""
    caller = people.user_of(principal)
    role = ROLE.get(principal) or GUEST_ROLE.get(principal)
    secrets: dict[str, str] = {}
    for p in people.projects:
        if not (status == 403 and role and p["id"] == world["project_id"]):
            secrets[p["name"]] = "a project name"
        secrets[p["id"]] = "a project id"
    for nb in people.notebooks:
        secrets[nb["name"]] = "a notebook name"
        secrets[nb["id"]] = "a notebook id"
    for name in people.names():
        secrets[name] = "a member name"
    if world.get("version_id"):
        secrets[world["version_id"]] = "a version id"
    secrets["data.csv"] = "a file name"
    secrets["gone.csv"] = "a file name"
    for secret, what in secrets.items():
        if secret in asked or (caller is not None and secret == caller.name):
            continue
        if principal in ENDED_GUESTS and secret == people.owner.name:
            continue  # "ask <the owner who invited you>": they sent the guest the link
        assert secret not in text, f"{status} to {principal} reveals {what} ({secret!r}): {text}"


def _sample(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", template.replace("{kind}", "user"))


def test_every_route_is_documented_and_every_documented_route_exists():
    """The service's routing table and the OpenAPI document describe the same routes."""
    from datadive_hub.api import api_routes

    prefix = "/services/datadive/api/v1/"
    documented = list(document()["paths"])
    for pattern, _handler in api_routes(prefix):
        rx = re.compile(pattern + "$")
        assert any(rx.match(prefix + _sample(t).lstrip("/")) for t in documented), (
            f"route {pattern} is not in the OpenAPI document"
        )
    for t in documented:
        url = prefix + _sample(t).lstrip("/")
        assert any(re.compile(p + "$").match(url) for p, _ in api_routes(prefix)), (
            f"documented path {t} has no route"
        )
