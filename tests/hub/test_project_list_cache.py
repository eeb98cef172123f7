"""The project list's answer cache (datadive_hub/pagecache.py): a change is seen at once.

In-process checks of the cache on a real SQLite database, then the running service: a removed
member, a renamed project and a new project show in the very next list, callers never see each
other's cached pages, and a write made by another process is seen within the cache's lifetime.
"""

from __future__ import annotations

import sqlite3
import time

from sqlalchemy import text

from datadive_hub.db import make_engine
from datadive_hub.hubapi import HubUser
from datadive_hub.pagecache import PageCache, caller_key


def _engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    return engine


def test_a_write_or_commit_ends_every_cached_answer(tmp_path):
    engine = _engine(tmp_path)
    cache = PageCache(60)
    cache.watch(engine)
    cache.put("k", cache.generation, b"page")
    with engine.connect() as conn:  # reads leave it alone
        conn.execute(text("SELECT x FROM t")).all()
    assert cache.get("k") == b"page"
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
    assert cache.get("k") is None
    # a reader that starts after a write statement but before its commit reads the old rows:
    # the commit starts another generation, so that page is not kept either
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (2)"))
        started = cache.generation
    cache.put("k", started, b"page read before the commit")
    assert cache.get("k") is None


def test_a_page_read_while_a_write_happened_is_never_kept(tmp_path):
    engine = _engine(tmp_path)
    cache = PageCache(60)
    cache.watch(engine)
    started = cache.generation  # the reader starts ...
    with engine.begin() as conn:  # ... a write lands while it reads ...
        conn.execute(text("UPDATE t SET x = 2"))
    cache.put("k", started, b"stale page")  # ... and what it read is not kept
    assert cache.get("k") is None


def test_answers_expire_are_bounded_and_can_be_turned_off():
    cache = PageCache(0.2, size=2)
    for key in ("a", "b", "c"):
        cache.put(key, cache.generation, key.encode())
    assert cache.get("a") is None  # the least recently used went
    assert cache.get("c") == b"c"
    time.sleep(0.3)
    assert cache.get("c") is None
    off = PageCache(0)
    off.put("a", off.generation, b"a")
    assert off.get("a") is None


def test_callers_differing_in_anything_the_list_depends_on_get_different_keys():
    ann = HubUser(name="ann", groups=frozenset({"lab"}))
    variants = [
        ann,
        HubUser(name="bob", groups=frozenset({"lab"})),
        HubUser(name="ann"),
        HubUser(name="ann", groups=frozenset({"lab"}), admin=True),
        HubUser(name="ann", kind="guest", guest_roles={"p1": "viewer"}),
        HubUser(name="ann", kind="guest", guest_roles={"p1": "editor"}),
    ]
    assert len({caller_key(u) for u in variants}) == len(variants)
    assert caller_key(ann) == caller_key(HubUser(name="ann", groups=frozenset({"lab"})))


def _names(platform, user) -> list[str]:
    r = platform.call("GET", "projects", user)
    assert r.status_code == 200, r.text
    return [p["name"] for p in r.json()["projects"]]


def test_changes_through_the_service_show_in_the_very_next_list(platform):
    owner, viewer, stranger = platform.user(), platform.user(), platform.user()
    project = platform.project(owner)
    pid, name = project["id"], project["name"]
    platform.share(owner, pid, (viewer, "viewer"))
    for _ in range(2):  # the second answer comes from the cache
        assert name in _names(platform, viewer)
        assert name not in _names(platform, stranger)
    r = platform.call("PATCH", f"projects/{pid}", owner, json={"name": name + " renamed"})
    assert r.status_code == 200, r.text
    assert name + " renamed" in _names(platform, viewer)
    r = platform.call("DELETE", f"projects/{pid}/members/user/{viewer.name}", owner)
    assert r.status_code == 204, r.text
    assert name + " renamed" not in _names(platform, viewer)
    second = platform.project(owner)
    assert second["name"] in _names(platform, owner)


def test_a_write_by_another_process_is_seen_within_the_cache_lifetime(platform):
    owner = platform.user()
    project = platform.project(owner)
    assert project["name"] in _names(platform, owner)
    with sqlite3.connect(platform.data_dir / "datadive.sqlite", timeout=10) as db:
        db.execute(
            "UPDATE projects SET name = ?, name_key = ? WHERE id = ?",
            ("Edited elsewhere", "edited elsewhere", project["id"]),
        )
    deadline = time.monotonic() + 2.0 + 3.0  # project_list_cache_seconds (2) + slack
    while "Edited elsewhere" not in _names(platform, owner):
        assert time.monotonic() < deadline, "an outside write was not seen within the lifetime"
        time.sleep(0.2)
