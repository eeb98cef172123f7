"""Project access decisions (datadive_hub/access.py) in-process, on a real SQLite database.

The matrix in test_authz_matrix.py checks the same rules through the running service; these
tests are its fast counterpart (seconds), which ``./dev mutate`` runs against every mutant.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

import pytest
from tornado import web

from datadive_hub.access import project_for, role_among, visible_projects
from datadive_hub.db import make_engine, session_factory
from datadive_hub.hubapi import HubUser
from datadive_hub.models import Base, Membership, PrincipalKind, Project, Role

U, G = PrincipalKind.user, PrincipalKind.group


def member(kind, name, role):
    return SimpleNamespace(kind=kind, name=name, role=role)


def user(name="ann", groups=(), admin=False, kind="user"):
    return HubUser(name=name, kind=kind, admin=admin, groups=frozenset(groups))


@pytest.mark.parametrize("order", [1, -1], ids=["low-first", "high-first"])
@pytest.mark.parametrize(
    "members, groups",
    [
        ([member(U, "ann", Role.viewer), member(G, "lab", Role.owner)], {"lab"}),
        ([member(G, "lab", Role.viewer), member(G, "team", Role.editor)], {"lab", "team"}),
        ([member(U, "ann", Role.editor), member(G, "lab", Role.viewer)], {"lab"}),
    ],
    ids=["direct+group", "two-groups", "direct-beats-group"],
)
def test_highest_role_wins_whatever_the_order(members, groups, order):
    best = max(m.role for m in members)
    assert role_among(members[::order], user(groups=groups)) == best


def test_only_matching_principals_count():
    members = [
        member(U, "bob", Role.owner),  # another user
        member(G, "ann", Role.owner),  # a group that happens to carry the user's name
        member(U, "lab", Role.owner),  # a user named like the caller's group
        member(G, "other", Role.owner),  # a group the caller is not in
    ]
    assert role_among(members, user(groups={"lab"})) is None
    # the group removed from the caller: the membership through it no longer counts
    with_group = [member(U, "ann", Role.viewer), member(G, "lab", Role.owner)]
    assert role_among(with_group, user(groups={"lab"})) is Role.owner
    assert role_among(with_group, user(groups=set())) is Role.viewer
    assert role_among([], user()) is None


def test_admins_own_everything_services_nothing():
    assert role_among([], user(admin=True)) is Role.owner
    # a service token named like a member gets no role, even an admin one
    members = [member(U, "ann", Role.owner)]
    assert role_among(members, user(kind="service")) is None
    assert role_among(members, user(kind="service", admin=True)) is None


# --- project_for and visible_projects on a real database -------------------------------------


@pytest.fixture
def db(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'access.sqlite'}")
    Base.metadata.create_all(engine)
    session = session_factory(engine)()
    yield session
    session.close()
    engine.dispose()


def add_project(db, name, members, deleted=False):
    p = Project(
        name=name,
        name_key=name.lower(),
        created_by=members[0][1] if members else "admin",
        deleted_at=datetime(2026, 1, 1) if deleted else None,
    )
    p.members = [Membership(kind=k, name=n, role=r) for k, n, r in members]
    db.add(p)
    db.commit()
    return p


def handler(db, who):
    return SimpleNamespace(db=db, user=who, role=None)


def test_project_for_grants_the_needed_role_and_records_it(db):
    p = add_project(db, "Survey", [(U, "ann", Role.viewer), (G, "lab", Role.editor)])
    h = handler(db, user(groups={"lab"}))
    assert project_for(h, p.id, Role.editor) is p
    assert h.role is Role.editor
    h = handler(db, user(groups={"lab"}))
    assert project_for(h, p.id, Role.viewer) is p
    assert h.role is Role.editor  # the effective role, not the one asked for


def test_project_for_403_names_the_role_and_what_is_needed(db):
    p = add_project(db, "Survey", [(U, "ann", Role.editor), (U, "bob", Role.owner)])
    h = handler(db, user())
    with pytest.raises(web.HTTPError) as e:
        project_for(h, p.id, Role.owner)
    assert e.value.status_code == 403
    assert e.value.log_message == (
        "You are editor of project 'Survey'; this needs owner. "
        "Ask an owner of the project to change your role"
    )
    assert h.role is None


@pytest.mark.parametrize(
    "case", ["unknown", "non-member", "not-a-string", "id-in-a-list", "deleted", "live"]
)
def test_project_for_404_reveals_nothing(db, case):
    p = add_project(
        db,
        "Secret plans",
        [(U, "bob", Role.owner)] + ([] if case == "non-member" else [(U, "ann", Role.owner)]),
        deleted=case == "deleted",
    )
    # an id that is not a string (a JSON body's list) never reaches the database lookup, which
    # would take a one-element list for the primary key
    pid = {"unknown": "0" * 32, "not-a-string": 123, "id-in-a-list": [p.id]}.get(case, p.id)
    h = handler(db, user())
    with pytest.raises(web.HTTPError) as e:
        project_for(h, pid, Role.viewer, deleted=case == "live")
    assert e.value.status_code == 404
    msg = e.value.log_message
    assert "Secret plans" not in msg and "bob" not in msg
    if case == "live":
        assert msg == (
            f"No deleted project {pid!r} that you are a member of; list yours with "
            "GET projects?deleted=1"
        )
    else:
        assert msg == (f"No project {pid!r} that you are a member of; list yours with GET projects")
    assert h.role is None


def test_project_for_finds_a_deleted_project_when_asked(db):
    p = add_project(db, "Old", [(U, "ann", Role.owner)], deleted=True)
    assert project_for(handler(db, user()), p.id, Role.owner, deleted=True) is p


def names(page):
    return [p.name for p, _ in page]


@pytest.fixture
def projects_db(db):
    """Five live projects and one deleted one, seen by ann (direct + group lab), bob, an admin."""
    add_project(
        db, "beta", [(U, "ann", Role.viewer), (G, "lab", Role.owner), (U, "bob", Role.editor)]
    )
    add_project(db, "Alpha", [(G, "lab", Role.viewer)])
    add_project(db, "gamma", [(U, "bob", Role.owner)])
    add_project(db, "Delta", [(U, "ann", Role.editor)])
    add_project(db, "empty", [])
    add_project(db, "Zeta", [(U, "ann", Role.owner)], deleted=True)
    return db


def test_members_see_their_projects_in_name_order_with_all_members(projects_db):
    with projects_db.get_bind().connect() as conn:
        page = visible_projects(conn, user(groups={"lab"}))
    assert names(page) == ["Alpha", "beta", "Delta"]
    beta_members = {(m.kind, m.name, m.role) for m in dict((p.name, ms) for p, ms in page)["beta"]}
    assert beta_members == {
        (U, "ann", Role.viewer),
        (G, "lab", Role.owner),
        (U, "bob", Role.editor),
    }
    with projects_db.get_bind().connect() as conn:
        assert names(visible_projects(conn, user())) == ["beta", "Delta"]  # without the group
        assert names(visible_projects(conn, user("bob"))) == ["beta", "gamma"]
        assert names(visible_projects(conn, user("carol"))) == []
        assert names(visible_projects(conn, user(groups={"lab"}), deleted=True)) == ["Zeta"]


def test_admins_list_everything_only_when_asked(projects_db):
    admin = user("root", admin=True)
    with projects_db.get_bind().connect() as conn:
        everything = visible_projects(conn, admin, all_projects=True)
        assert names(everything) == ["Alpha", "beta", "Delta", "empty", "gamma"]
        assert dict((p.name, ms) for p, ms in everything)["empty"] == []
        assert names(visible_projects(conn, admin)) == []  # their own: none
        assert names(visible_projects(conn, admin, all_projects=True, deleted=True)) == ["Zeta"]
        # a plain user asking for everything still gets only their own
        assert names(visible_projects(conn, user(), all_projects=True)) == ["beta", "Delta"]


def test_services_list_nothing(projects_db):
    with projects_db.get_bind().connect() as conn:
        assert visible_projects(conn, user("ann", kind="service", groups={"lab"})) == []


def test_pages_continue_after_the_last_key(projects_db):
    me = user(groups={"lab"})
    with projects_db.get_bind().connect() as conn:
        first = visible_projects(conn, me, limit=2)
        assert names(first) == ["Alpha", "beta"]
        last = first[-1][0]
        rest = visible_projects(conn, me, after=(last.name_key, last.id), limit=2)
        assert names(rest) == ["Delta"]
        admin = user("root", admin=True)
        page = visible_projects(conn, admin, all_projects=True, after=("beta", last.id), limit=2)
        assert names(page) == ["Delta", "empty"]


def guest(roles: dict, name="guest:Rosa") -> HubUser:
    return HubUser(name=name, kind="guest", guest_roles=roles)


def ids_by_name(db) -> dict[str, str]:
    return {p.name: p.id for p in db.query(Project)}


def test_guests_see_exactly_their_invited_projects_in_name_order(projects_db):
    ids = ids_by_name(projects_db)
    me = guest({ids["gamma"]: Role.viewer, ids["Alpha"]: Role.editor, ids["Zeta"]: Role.viewer})
    with projects_db.get_bind().connect() as conn:
        page = visible_projects(conn, me)
        assert names(page) == ["Alpha", "gamma"]
        assert {(m.name, m.role) for m in dict((p.name, ms) for p, ms in page)["gamma"]} == {
            ("bob", Role.owner)
        }
        assert names(visible_projects(conn, me, deleted=True)) == ["Zeta"]
        assert names(visible_projects(conn, me, all_projects=True)) == ["Alpha", "gamma"]
        first = visible_projects(conn, me, limit=1)
        assert names(first) == ["Alpha"]
        after = (first[0][0].name_key, first[0][0].id)
        assert names(visible_projects(conn, me, after=after, limit=1)) == ["gamma"]
        assert visible_projects(conn, guest({})) == []


def test_a_guest_role_comes_from_its_invitations_never_from_memberships(projects_db):
    ids = ids_by_name(projects_db)
    # a membership named like the guest (or a group it cannot be in) grants it nothing
    add_project(projects_db, "named", [(U, "guest:Rosa", Role.owner), (G, "lab", Role.owner)])
    ids = ids_by_name(projects_db)
    me = guest({ids["gamma"]: Role.viewer})
    assert project_for(handler(projects_db, me), ids["gamma"], Role.viewer).name == "gamma"
    with pytest.raises(web.HTTPError) as refused:
        project_for(handler(projects_db, me), ids["gamma"], Role.editor)
    assert refused.value.status_code == 403
    for other in ("named", "beta", "Alpha"):
        with pytest.raises(web.HTTPError) as hidden:
            project_for(handler(projects_db, me), ids[other], Role.viewer)
        assert hidden.value.status_code == 404
    with projects_db.get_bind().connect() as conn:
        assert names(visible_projects(conn, me)) == ["gamma"]
