"""What retention and quotas need from a store that keeps versions (local directory and S3):
removing one old version for good, and the bytes kept below a folder, every version counted."""

import os

import pytest
from datadive_contents.stores import StoreError
from datadive_contents.stores.base import NotFound


@pytest.fixture(params=["local", "s3"])
def versioned_store(request):
    return request.getfixturevalue({"local": "local_store", "s3": "s3_store"}[request.param])


async def test_an_old_version_is_removed_for_good_and_the_others_stay(versioned_store):
    store = versioned_store
    first = await store.put("a/data.csv", b"one\n")
    second = await store.put("a/data.csv", b"two!\n")
    third = await store.put("a/data.csv", b"three\n")
    await store.delete_version("a/data.csv", first.version_id)
    left = [v.version_id for v in await store.list_versions("a/data.csv")]
    assert left == [third.version_id, second.version_id]
    assert (await store.get("a/data.csv"))[0] == b"three\n"
    assert (await store.get("a/data.csv", version_id=second.version_id))[0] == b"two!\n"
    with pytest.raises(NotFound):
        await store.get("a/data.csv", version_id=first.version_id)


async def test_stored_bytes_counts_every_version_below_a_folder_only(versioned_store):
    store = versioned_store
    await store.put("p1/x.csv", b"1234")
    await store.put("p1/x.csv", b"123456")
    await store.put("p1/sub/y.txt", b"12")
    await store.put("p10/z.txt", b"not in p1" * 100)  # same leading characters, other folder
    assert await store.stored_bytes("p1") == 4 + 6 + 2
    await store.delete("p1/sub/y.txt")  # a delete keeps the bytes (the version stays)
    assert await store.stored_bytes("p1") == 12
    versions = await store.list_versions("p1/x.csv")
    await store.delete_version("p1/x.csv", versions[-1].version_id)
    assert await store.stored_bytes("p1") == 8


async def test_the_hub_store_cannot_remove_versions(hub_store):
    await hub_store.put("k.txt", b"x")
    with pytest.raises(StoreError, match="cannot remove single versions"):
        await hub_store.delete_version("k.txt", "any")


async def test_reading_a_local_file_while_it_is_written_makes_no_phantom_version(local_store):
    """A reader that looks at a file while a write swaps it in must not take the new content
    for a change made outside the store (which would archive it as an extra version)."""
    import asyncio

    await local_store.put("busy.txt", b"0" * 1000)

    async def reader(stop):
        while not stop.is_set():
            await local_store.head("busy.txt")
            await local_store.list_versions("busy.txt")

    stop = asyncio.Event()
    readers = [asyncio.ensure_future(reader(stop)) for _ in range(3)]
    for i in range(1, 30):
        await local_store.put("busy.txt", b"%d" % (i % 10) * (1000 + i))
    stop.set()
    await asyncio.gather(*readers)
    assert len(await local_store.list_versions("busy.txt")) == 30


async def test_a_version_removed_while_versions_are_listed_is_left_out_not_an_error(local_store):
    """Retention runs beside readers: a version removed between the directory listing and its
    ``stat`` is simply not listed (it answered 500 before)."""
    store = local_store
    made = [await store.put("race.csv", b"v%d\n" % i) for i in range(4)]
    listed = store._version_names

    def names_then_removed(key):
        names = listed(key)
        os.unlink(store._source(key, made[2].version_id)[0])  # what retention does, right after
        store._version_names = listed
        return names

    store._version_names = names_then_removed
    page, cursor = await store.list_versions_page("race.csv", 2)
    assert [v.version_id for v in page] == [made[3].version_id, made[1].version_id]
    assert cursor == made[1].version_id
    page, cursor = await store.list_versions_page("race.csv", 2, after=made[1].version_id)
    assert [v.version_id for v in page] == [made[0].version_id] and cursor is None
