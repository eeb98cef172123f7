"""Members who have not signed in yet: an owner adds them by name, the membership is pending, and
it takes effect when JupyterHub first knows them."""

import time
import uuid

import pytest

pytestmark = pytest.mark.hub


def members(platform, project, user) -> dict:
    r = platform.call("GET", f"projects/{project['id']}/members", user)
    assert r.status_code == 200, r.text
    return {m["name"]: m for m in r.json()["members"]}


def wait_not_pending(platform, project, user, name, timeout=15.0) -> dict:
    """The service caches the hub's answers for a few seconds."""
    deadline = time.monotonic() + timeout
    while True:
        m = members(platform, project, user)[name]
        if not m["pending"] or time.monotonic() > deadline:
            return m
        time.sleep(0.5)


def test_a_user_added_before_first_sign_in_gets_the_role_when_they_arrive(any_platform):
    owner = any_platform.user()
    project = any_platform.project(owner)
    newcomer = f"newcomer-{uuid.uuid4().hex[:6]}"
    r = any_platform.call(
        "POST",
        f"projects/{project['id']}/members",
        owner,
        json={"name": newcomer, "role": "editor"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["pending"] is True and r.json()["role"] == "editor"
    listed = members(any_platform, project, owner)
    assert listed[newcomer]["pending"] is True
    assert listed[owner.name]["pending"] is False

    # the person signs in for the first time (JupyterHub now knows them)
    person = any_platform.user(newcomer)
    mine = any_platform.call("GET", "projects", person).json()["projects"]
    assert [p["id"] for p in mine] == [project["id"]]
    r = any_platform.call(
        "PUT",
        f"projects/{project['id']}/files/from-the-newcomer.txt",
        person,
        data=b"written as editor",
    )
    assert r.status_code in (200, 201), r.text
    assert wait_not_pending(any_platform, project, owner, newcomer)["pending"] is False


def test_names_are_normalised_as_jupyterhub_does(any_platform):
    owner = any_platform.user()
    existing = any_platform.user()
    project = any_platform.project(owner)
    url = f"projects/{project['id']}/members"
    # a known user typed in capitals is that user, not a new pending name
    r = any_platform.call(
        "POST", url, owner, json={"name": existing.name.upper(), "role": "viewer"}
    )
    assert r.status_code == 201, r.text
    assert (r.json()["name"], r.json()["pending"]) == (existing.name, False)
    # an unknown one is kept lower-cased, the way JupyterHub will name them at sign-in
    typed = f"Later.Person-{uuid.uuid4().hex[:4]}"
    r = any_platform.call("POST", url, owner, json={"name": typed, "role": "viewer"})
    assert r.status_code == 201, r.text
    assert (r.json()["name"], r.json()["pending"]) == (typed.lower(), True)
    r = any_platform.call("POST", url, owner, json={"name": typed.lower(), "role": "editor"})
    assert r.status_code == 409, r.text
    assert set(members(any_platform, project, owner)) == {owner.name, existing.name, typed.lower()}


def test_a_pending_member_is_changed_and_removed_like_any_other(any_platform):
    owner = any_platform.user()
    project = any_platform.project(owner)
    name = f"soon-{uuid.uuid4().hex[:6]}"
    base = f"projects/{project['id']}/members"
    assert any_platform.call("POST", base, owner, json={"name": name, "role": "viewer"}).ok
    r = any_platform.call("PATCH", f"{base}/user/{name}", owner, json={"role": "owner"})
    assert r.status_code == 200, r.text
    assert (r.json()["role"], r.json()["pending"]) == ("owner", True)
    r = any_platform.call("DELETE", f"{base}/user/{name}", owner)
    assert r.status_code == 204, r.text
    assert set(members(any_platform, project, owner)) == {owner.name}


def test_only_owners_add_pending_members(any_platform):
    owner, editor = any_platform.user(), any_platform.user()
    project = any_platform.project(owner)
    base = f"projects/{project['id']}/members"
    assert any_platform.call("POST", base, owner, json={"name": editor.name, "role": "editor"}).ok
    r = any_platform.call("POST", base, editor, json={"name": "friend-of-editor", "role": "owner"})
    assert r.status_code == 403, r.text
    assert "friend-of-editor" not in members(any_platform, project, owner)
