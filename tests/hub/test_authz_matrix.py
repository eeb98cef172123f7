"""Authorization matrix generated from the OpenAPI document.

Every operation × {owner, editor, viewer, non-member, hub admin, anonymous, another user's token,
a token without access to the service, an expired token} → the status its ``x-datadive-access``
implies. An operation without an example here fails the test: no route can be left out.
"""

import re
import time
import uuid

import pytest
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
]
RANK = {"viewer": 1, "editor": 2, "owner": 3}
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
    if principal in ("anonymous", "expired"):
        return frozenset({401})
    if principal == "no_service_scope":
        return frozenset({403})
    if principal == "admin" or access == "signed-in":
        return success_status(op)
    if access in ("admin", "template-author"):
        return frozenset({403})
    if principal in ("non_member", "other_users_token"):  # another user's token acts as them
        return frozenset({404})
    return success_status(op) if RANK[principal] >= RANK[access] else frozenset({403})


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
        r = platform.hub(
            "POST",
            f"users/{self.non_member.name}/tokens",
            json={"scopes": ["read:users:name!user"], "note": "no service access"},
        )
        assert r.status_code == 201, r.text
        self.no_scope_token = r.json()["token"]
        r = platform.hub("POST", f"users/{self.owner.name}/tokens", json={"expires_in": 1})
        self.expired_token = r.json()["token"]
        time.sleep(1.5)

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
        }[principal]


def make_world(platform, people: People, deleted: bool = False) -> dict:
    """A project with an editor, a viewer, a notebook and a data file with two versions."""
    p = platform.project(people.owner)
    pid = p["id"]
    for u, role in ((people.editor, "editor"), (people.viewer, "viewer")):
        r = platform.call(
            "POST",
            f"projects/{pid}/members",
            people.owner,
            json={"kind": "user", "name": u.name, "role": role},
        )
        assert r.status_code == 201, r.text
    r = platform.call("POST", f"projects/{pid}/notebooks", people.owner, json={"name": "nb"})
    assert r.status_code == 201, r.text
    world = {"project_id": pid, "notebook_id": r.json()["id"], "version_id": None}
    if "/projects/{project_id}/files/{path}" in document()["paths"]:
        for body in (CSV, CSV + b"3,5.0\n"):
            r = platform.call("PUT", f"projects/{pid}/files/data.csv", people.owner, data=body)
            assert r.status_code in (200, 201), r.text
        r = platform.call("GET", f"projects/{pid}/versions/data.csv", people.owner)
        versions = r.json()["versions"]
        world["version_id"] = versions[-1]["version_id"]
    if deleted:
        assert platform.call("DELETE", f"projects/{pid}", people.owner).status_code == 200
    return world


# operationId → (path parameters, request keyword arguments) for a successful call
def example(op_id: str, world: dict, people: People) -> tuple[dict, dict]:
    if "Template" in op_id:  # cell templates (issue 4)
        return template_example(op_id, people)
    pid = {"project_id": world["project_id"]}
    nb = {**pid, "notebook_id": world["notebook_id"]}
    data = {**pid, "path": "data.csv"}
    table = {
        "getOpenAPI": ({}, {}),
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
    }
    assert op_id in table, f"operation {op_id} has no example in the authorization matrix; add one"
    return table[op_id]


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
    )
    world = make_world(any_platform, people, deleted) if mutating else shared_world[deleted]
    params, kwargs = example(op["operationId"], world, people)
    path = template.format(**params)
    r = any_platform.call(method.upper(), path, token=people.token(principal) or "", **kwargs)
    want = expected(op["x-datadive-access"], principal, op)
    assert r.status_code in want, (
        f"{method.upper()} {template} as {principal}: {r.status_code}, expected {want}: "
        f"{r.text[:300]}"
    )
    if r.status_code >= 400 and method != "head":
        body = r.json()
        assert body["status"] == r.status_code and body["message"], body


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
