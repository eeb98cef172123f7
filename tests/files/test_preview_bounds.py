"""Previews of hostile files: an xlsx whose shared strings inflate to hundreds of MB, deeply
nested JSON. Each gets a clear 422 quickly, through the service's real preview route, while
another user's requests keep their latency and the service's memory stays put."""

from __future__ import annotations

import io
import time
import zipfile

import openpyxl
import pytest
import requests
from datadive_contents.preview import PreviewFailed, preview
from untrusted import Bystander, service_process


def xlsx_with_shared_strings(strings) -> bytes:
    """A real workbook (written by openpyxl) whose sharedStrings.xml holds ``strings``."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["name", "value"])
    ws.append(["a", 1])
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "[Content_Types].xml":  # declare the part: openpyxl loads it
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
                    b'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                )
            z.writestr(item, data)
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as f:
            f.write(
                b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns='
                b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            )
            for s in strings:
                f.write(b"<si><t>" + s + b"</t></si>")
            f.write(b"</sst>")
    return out.getvalue()


def bomb() -> bytes:
    """~1 MB that inflates to ~318 MB of shared strings."""
    return xlsx_with_shared_strings(b"A" * 1000 + str(i).encode() for i in range(315_000))


def big_but_not_a_bomb() -> bytes:
    """Shared strings of ~24 MB that compress only ~3 times (no bomb, but over the limit)."""
    import random

    rnd = random.Random(7)
    alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789 "
    return xlsx_with_shared_strings(
        bytes(rnd.choice(alphabet) for _ in range(60)) * 4 for _ in range(100_000)
    )


def deep_json(depth: int) -> bytes:
    return b'[{"a": ' + b"[" * depth + b"]" * depth + b"}]"


async def test_xlsx_bomb_is_refused_from_the_zip_directory(local_store):
    await local_store.put("bomb.xlsx", bomb())
    t = time.perf_counter()
    with pytest.raises(PreviewFailed) as e:
        await preview(local_store, "bomb.xlsx")
    assert "inflate to 306 MB, more than the preview's limit of 16 MB" in str(e.value)
    assert time.perf_counter() - t < 5


async def test_zip_bomb_member_is_refused_by_its_ratio(local_store):
    # one worksheet-sized part (not counted in the parsed-whole limit) of 64 MB of zeros
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"0" * (64 << 20))
    await local_store.put("zeros.xlsx", data.getvalue())
    with pytest.raises(PreviewFailed) as e:
        await preview(local_store, "zeros.xlsx")
    assert "xl/worksheets/sheet1.xml inflates from" in str(e.value)
    assert "more than 200 times, the limit for a preview" in str(e.value)


async def test_xlsx_parts_over_the_inflate_limit_are_refused(local_store):
    await local_store.put("big.xlsx", big_but_not_a_bomb())
    with pytest.raises(PreviewFailed) as e:
        await preview(local_store, "big.xlsx")
    assert "inflate to 24 MB, more than the preview's limit of 16 MB" in str(e.value)
    r = await preview(local_store, "big.xlsx", max_inflated=64 << 20)  # an admin's higher limit
    assert [c["name"] for c in r["columns"]] == ["name", "value"]


@pytest.mark.parametrize("depth", [100, 100_000])
async def test_deep_json_is_refused(local_store, depth):
    for name, data in (
        ("deep.json", deep_json(depth)),
        ("deep.jsonl", deep_json(depth)[1:-1] + b"\n"),
        ("one.json", b'{"x": ' + b"[" * depth + b"]" * depth + b"}"),
    ):
        await local_store.put(name, data)
        with pytest.raises(PreviewFailed) as e:
            await preview(local_store, name)
        assert "nested more than 64 levels deep" in str(e.value), name


async def test_preview_gives_up_after_its_time_limit(local_store):
    await local_store.put("t.csv", b"a,b\n" + b"1,2\n" * 100_000)
    with pytest.raises(PreviewFailed) as e:
        await preview(local_store, "t.csv", rows=1000, timeout=0)
    assert "took longer than 0 s" in str(e.value)


@pytest.mark.hub
@pytest.mark.parametrize("attack", ["xlsx bomb", "deep json"])
def test_hostile_preview_through_the_service(platform, attack):
    owner, other = platform.user(), platform.user()
    project = platform.project(owner)
    theirs = platform.project(other)
    name, data = (
        ("bomb.xlsx", bomb()) if attack == "xlsx bomb" else ("deep.json", deep_json(100_000))
    )
    url = f"{platform.api}/projects/{project['id']}"
    r = requests.put(f"{url}/files/{name}", data=data, headers=owner.headers, timeout=120)
    assert r.status_code in (200, 201), r.text
    bystander = Bystander(
        lambda: requests.get(
            f"{platform.api}/projects/{theirs['id']}/files", headers=other.headers, timeout=30
        ).raise_for_status(),
        service_process(platform),
    )
    normal = bystander.baseline()
    r, seconds, latencies, grew, killed = bystander.during(
        lambda: requests.get(f"{url}/preview/{name}", headers=owner.headers, timeout=120)
    )
    print(
        f"{attack}: answer {getattr(r, 'status_code', r)} in {seconds:.2f}s; service RSS "
        f"+{grew >> 20} MB; bystander baseline {normal * 1000:.0f} ms, worst during "
        f"{max(latencies) * 1000:.0f} ms over {len(latencies)} requests"
    )
    assert not killed, f"the service grew by more than 1 GB ({grew >> 20} MB) and was killed"
    assert isinstance(r, requests.Response), r
    assert r.status_code == 422, r.text
    if attack == "xlsx bomb":
        assert "more than the preview's limit of 16 MB" in r.json()["message"]
    else:
        assert "nested more than 64 levels deep" in r.json()["message"]
    assert seconds < 10 and grew < 200 << 20
    assert max(latencies) < max(10 * normal, 1.0), latencies


async def test_many_previews_at_once_do_not_starve_the_store(local_store):
    """Parsers wait for ranged reads that the local store does in the default executor: with
    parsers in that executor too, enough previews at once would leave no thread for the reads."""
    import asyncio
    import os

    # 1000 rows of 100 bytes: more than the first ranged read, so the parser reads on
    await local_store.put("t.csv", b"a,b\n" + (b"1," + b"x" * 96 + b"\n") * 2000)
    n = min(32, (os.cpu_count() or 1) + 4) + 8  # more than the default executor has threads
    results = await asyncio.wait_for(
        asyncio.gather(*(preview(local_store, "t.csv", rows=1000) for _ in range(n))), 60
    )
    assert all(len(r["rows"]) == 1000 and r["requests"] > 1 for r in results)
