"""History in every store backend: authors kept with versions, pages of versions, deleted files
that keep their history and come back (roll forward), and the current version of every file.

Through ``hub`` (a user server's HubServiceStore) the author is the hub user whose token wrote,
whatever the caller passes: user servers cannot claim to be someone else.
"""

import asyncio


async def test_each_version_keeps_its_author_and_pages_newest_first(store):
    key = "data/results.csv"
    for i, who in enumerate(["alice", "bob", "carol"]):
        await store.put(key, f"v{i}\n".encode(), author=who)
    await store.put("data/results.csv.bak", b"other key with the same prefix", author="dave")
    page1, nxt = await store.list_versions_page(key, 2)
    assert nxt is not None and len(page1) == 2
    page2, end = await store.list_versions_page(key, 2, nxt)
    assert end is None and len(page2) == 1
    versions = page1 + page2
    assert len({v.version_id for v in versions}) == 3
    contents = [(await store.get(key, version_id=v.version_id))[0] for v in versions]
    assert contents == [b"v2\n", b"v1\n", b"v0\n"]  # newest first, nothing of the .bak
    authors = [v.author for v in versions]
    if type(store).__name__ == "HubServiceStore":
        assert authors[0] and set(authors) == {authors[0]}  # the token's user, every time
        assert authors[0] not in ("alice", "bob", "carol")
    elif type(store).__name__ == "S3Store":
        # an S3 listing carries no metadata: the author is on each version's HEAD
        heads = [await store.head(key, version_id=v.version_id) for v in versions]
        assert [h.author for h in heads] == ["carol", "bob", "alice"]
    else:
        assert authors == ["carol", "bob", "alice"]
    current = await store.head(key)
    if type(store).__name__ != "HubServiceStore":
        assert current.author == "carol"


async def test_a_deleted_file_keeps_its_versions_and_comes_back_rolled_forward(store):
    first = await store.put("notes.txt", b"first\n", author="alice")
    await store.put("notes.txt", b"second\n", author="bob")
    await store.delete("notes.txt")
    assert await store.head("notes.txt") is None
    versions = await store.list_versions("notes.txt")
    assert len(versions) == 2
    restored = await store.restore_version("notes.txt", first.version_id, author="erin")
    assert (await store.get("notes.txt"))[0] == b"first\n"
    assert restored.version_id not in {v.version_id for v in versions}
    assert len(await store.list_versions("notes.txt")) == 3  # nothing destroyed
    if type(store).__name__ != "HubServiceStore":
        assert (await store.head("notes.txt")).author == "erin"


async def test_list_latest_gives_each_files_current_version(store):
    await store.put("a.csv", b"1", author="alice")
    newest = await store.put("a.csv", b"2", author="alice")
    other = await store.put("sub/b.csv", b"3", author="bob")
    await store.put("gone.csv", b"4")
    await store.delete("gone.csv")
    latest = {f.key: f.version_id for f in await store.list_latest("")}
    assert latest == {"a.csv": newest.version_id, "sub/b.csv": other.version_id}


async def test_s3_current_versions_of_1001_files_cost_two_lists(s3_store):
    sem = asyncio.Semaphore(32)

    async def put(i: int) -> None:
        async with sem:
            await s3_store.put(f"many/{i:04d}.txt", b"x")

    await asyncio.gather(*(put(i) for i in range(1001)))
    s3_store.requests.clear()
    latest = await s3_store.list_latest("many")
    assert len(latest) == 1001 and all(f.version_id for f in latest)
    assert dict(s3_store.requests) == {"list_object_versions": 2}


async def test_local_version_written_outside_the_store_is_adopted(local_store, tmp_path):
    await local_store.put("x.txt", b"one", author="alice")
    (tmp_path / "store" / "x.txt").write_bytes(b"changed by hand")
    latest = await local_store.list_latest("")
    assert latest[0].version_id  # kept as a version, so a snapshot can point at it
    got, _ = await local_store.get("x.txt", version_id=latest[0].version_id)
    assert got == b"changed by hand"
