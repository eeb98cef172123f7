"""The local directory store cleans up after writers that were killed mid-write, and never lists
temp files; a write in progress in another process is left alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from datadive_contents.stores.local import TMP_PREFIX, VERSIONS_DIR, LocalDirectoryStore

ROOT = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from datadive_contents.stores.local import LocalDirectoryStore

    async def chunks():
        yield b"x" * 65536
        print("writing", flush=True)
        await asyncio.sleep(3600)  # a slow upload: the temp file stays in progress
        yield b"y"

    asyncio.run(LocalDirectoryStore(sys.argv[1]).put_stream("data/big.csv", chunks()))
    """
)


def temp_files(root: Path) -> list[str]:
    return sorted(
        n
        for n in os.listdir(root / VERSIONS_DIR)
        if n.startswith(TMP_PREFIX) and not n.endswith(".lock")
    )


def start_writer(root: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'contents'}:{ROOT}"}
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(root)], stdout=subprocess.PIPE, env=env, text=True
    )
    assert proc.stdout.readline().strip() == "writing", "the writer did not start writing"
    return proc


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(10)


async def test_killed_writer_temp_file_is_removed_and_live_one_kept(tmp_path):
    root = tmp_path / "store"
    LocalDirectoryStore(str(root))
    killed = start_writer(root)
    try:
        left = temp_files(root)
        assert len(left) == 1  # the upload in progress
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(10)
    finally:
        stop(killed)
    assert temp_files(root) == left  # a killed writer leaves its temp file behind
    live = start_writer(root)
    try:
        in_progress = [n for n in temp_files(root) if n not in left]
        assert len(in_progress) == 1
        store = LocalDirectoryStore(str(root))  # a service (re)starting on the directory
        assert temp_files(root) == in_progress  # the dead writer's file is gone, the live one kept
        assert (await store.list("", recursive=True)).files == []
        assert store.sweep_temp_files() == 0  # sweeping again still keeps the live upload
        assert temp_files(root) == in_progress
    finally:
        stop(live)
    assert LocalDirectoryStore(str(root)).sweep_temp_files() == 0
    assert temp_files(root) == []  # removed when that store opened the directory


async def test_temp_files_are_never_listed(tmp_path):
    store = LocalDirectoryStore(str(tmp_path / "store"))
    await store.put("data/a.csv", b"a,b\n1,2\n")
    # a temp file next to the data, e.g. from an older release or a copy of the directory
    (tmp_path / "store" / "data" / f"{TMP_PREFIX}abc").write_bytes(b"partial")
    (tmp_path / "store" / f"{TMP_PREFIX}top").write_bytes(b"partial")
    flat = await store.list("data")
    deep = await store.list("", recursive=True)
    top = await store.list("")
    assert [f.key for f in flat.files] == ["data/a.csv"]
    assert [f.key for f in deep.files] == ["data/a.csv"]
    assert top.files == [] and top.folders == ["data"]


@pytest.mark.parametrize("age", [0, 7200])
async def test_unowned_temp_files_go_once_an_hour_old(tmp_path, age):
    root = tmp_path / "store"
    LocalDirectoryStore(str(root))
    old = root / VERSIONS_DIR / f"{TMP_PREFIX}legacyname"
    old.write_bytes(b"partial")
    when = old.stat().st_mtime - age
    os.utime(old, (when, when))
    LocalDirectoryStore(str(root))
    assert old.exists() == (age == 0)
