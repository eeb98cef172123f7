"""preview(): first rows + column types of each format, with ranged reads on real stores."""

from __future__ import annotations

import io
import json
import time

import numpy as np
import pandas as pd
import pytest
from datadive_contents.preview import (
    PreviewFailed,
    UnsupportedFormat,
    format_for,
    preview,
    record_ends,
)


def frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "score": rng.random(n).round(6),
            "group": rng.choice(["control", "treated"], n),
            "when": pd.date_range("2024-01-01", periods=n, freq="min"),
            "ok": np.arange(n) % 2 == 0,
        }
    )


EXPECTED_TYPES = {
    "id": "integer",
    "score": "number",
    "group": "string",
    "when": "datetime",
    "ok": "boolean",
}


def types(result) -> dict:
    return {c["name"]: c["type"] for c in result["columns"]}


def test_format_by_suffix_and_unsupported_lists_supported():
    assert format_for("a/b/Survey.CSV") == "csv"
    assert format_for("x.parquet") == "parquet"
    with pytest.raises(UnsupportedFormat) as e:
        format_for("photo.png")
    assert ".csv" in str(e.value) and ".parquet" in str(e.value) and ".xlsx" in str(e.value)


def test_record_ends_respect_quoted_newlines():
    data = b'a,b\n1,"x\ny"\n2,z\n'
    assert record_ends(data, 10) == [4, 12, 16]


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "json", "parquet", "xlsx"])
async def test_each_format_small(preview_store, fmt):
    df = frame(50)
    await preview_store.put(f"data/t.{fmt}", encode(df, fmt))
    r = await preview(preview_store, f"data/t.{fmt}", rows=10)
    assert r["format"] == fmt
    assert [c["name"] for c in r["columns"]] == list(df.columns)
    got = types(r)
    if fmt in ("json", "jsonl"):
        assert got["when"] == "datetime"  # ISO strings are recognised as datetimes
    assert got == EXPECTED_TYPES
    assert len(r["rows"]) == 10 and r["truncated"] is True
    first = r["rows"][0]
    assert first[0] == 0 and first[2] in ("control", "treated") and first[4] is True
    assert first[3].startswith("2024-01-01")
    assert r["bytes_read"] <= r["size"] and r["requests"] >= 1
    assert "summary" not in r  # only when asked for
    json.dumps(r)  # JSON-ready
    if fmt in ("parquet", "xlsx"):
        assert r["total_rows"] == 50


async def test_all_rows_when_file_is_short(preview_store):
    await preview_store.put("s.csv", b"a;b\n1;x\n2;y\n")
    r = await preview(preview_store, "s.csv", rows=100)
    assert r["delimiter"] == ";" and r["rows"] == [[1, "x"], [2, "y"]]
    assert r["truncated"] is False


async def test_tsv_values_may_hold_commas(preview_store):
    """A TSV is split at tabs only, even when its header has no tab and its values commas."""
    await preview_store.put("names.tsv", b"full name\nSmith, J\nLee, K\n")
    r = await preview(preview_store, "names.tsv", rows=5, summary=True)
    assert r["delimiter"] == "\t" and r["rows"] == [["Smith, J"], ["Lee, K"]]
    assert [c["name"] for c in r["columns"]] == ["full name"]
    assert [c["name"] for c in r["summary"]["columns"]] == ["full name"]


async def test_quoted_newlines_missing_values_and_encodings(preview_store):
    text = 'name,n,note\n"Smith, J",1,"line one\nline two"\nMüller,,ok\nLee,3,\n'
    await preview_store.put("q.csv", b"\xef\xbb\xbf" + text.encode())
    r = await preview(preview_store, "q.csv", rows=2)
    assert r["rows"] == [["Smith, J", 1, "line one\nline two"], ["Müller", None, "ok"]]
    assert types(r) == {"name": "string", "n": "integer", "note": "string"}
    assert r["truncated"] is True
    await preview_store.put("latin.csv", "ville\nZürich\n".encode("cp1252"))
    r = await preview(preview_store, "latin.csv", rows=5)
    assert r["rows"] == [["Zürich"]]


async def test_json_shapes(preview_store):
    await preview_store.put("cols.json", json.dumps({"a": [1, 2], "b": ["x", "y"]}).encode())
    r = await preview(preview_store, "cols.json", rows=5)
    assert r["rows"] == [[1, "x"], [2, "y"]]
    await preview_store.put("wrapped.json", json.dumps({"data": [{"a": 1}, {"a": 2.5}]}).encode())
    r = await preview(preview_store, "wrapped.json", rows=5)
    assert types(r) == {"a": "number"}
    await preview_store.put("lines.json", b'{"a": 1}\n{"a": 2}\n')
    r = await preview(preview_store, "lines.json", rows=5)
    assert r["rows"] == [[1], [2]]
    await preview_store.put("bad.json", b'[{"a": 1}, {oops}]')
    with pytest.raises(PreviewFailed):
        await preview(preview_store, "bad.json", rows=5)
    await preview_store.put("scalar.json", b"42")
    with pytest.raises(PreviewFailed, match="array of records"):
        await preview(preview_store, "scalar.json", rows=5)


async def test_not_what_the_name_says(preview_store):
    await preview_store.put("fake.parquet", b"this is not parquet at all" * 10)
    with pytest.raises(PreviewFailed, match="Parquet"):
        await preview(preview_store, "fake.parquet")
    await preview_store.put("fake.xlsx", b"PK\x03\x04 broken zip")
    with pytest.raises(PreviewFailed, match="Excel"):
        await preview(preview_store, "fake.xlsx")
    await preview_store.put("bin.csv", bytes(range(256)) * 10)
    with pytest.raises(PreviewFailed, match="binary"):
        await preview(preview_store, "bin.csv")


async def test_xlsx_sheet_choice(preview_store):
    buf = io.BytesIO()
    with pd.ExcelWriter(buf) as w:
        pd.DataFrame({"a": [1]}).to_excel(w, sheet_name="first", index=False)
        pd.DataFrame({"b": ["x", "y"]}).to_excel(w, sheet_name="second", index=False)
    await preview_store.put("book.xlsx", buf.getvalue())
    r = await preview(preview_store, "book.xlsx", sheet="second")
    assert (
        r["sheet"] == "second"
        and r["sheets"] == ["first", "second"]
        and r["rows"] == [["x"], ["y"]]
    )
    with pytest.raises(PreviewFailed, match="first, second"):
        await preview(preview_store, "book.xlsx", sheet="third")


async def test_xlsx_with_empty_rows_above_its_header(local_store):
    """A sheet whose table starts below empty rows: its first non-empty row is the header, the
    rows asked for all come back, and ``total_rows`` counts the rows below the header only."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A3"], ws["B3"] = "name", "n"
    for i in range(5):
        ws.append([f"p{i}", i])
    buf = io.BytesIO()
    wb.save(buf)
    await local_store.put("low.xlsx", buf.getvalue())
    r = await preview(local_store, "low.xlsx", rows=2)
    assert [c["name"] for c in r["columns"]] == ["name", "n"]
    assert r["rows"] == [["p0", 0], ["p1", 1]] and r["truncated"] is True
    assert r["total_rows"] == 5
    r = await preview(local_store, "low.xlsx", rows=5)
    assert len(r["rows"]) == 5 and r["truncated"] is False and r["total_rows"] == 5
    r = await preview(local_store, "low.xlsx", rows=2, summary=True)
    assert r["total_rows"] == r["summary"]["rows"] == 5 and len(r["rows"]) == 2


async def test_large_files_are_read_in_ranges(preview_store):
    n = 200_000
    df = frame(n)
    pq = io.BytesIO()
    df.to_parquet(pq, row_group_size=50_000)
    js = df.head(50_000).to_json(orient="records", date_format="iso").encode()
    xl = io.BytesIO()
    df.head(20_000).to_excel(xl, index=False)
    jl = df.head(50_000).to_json(orient="records", lines=True, date_format="iso").encode()
    for name, data in (
        ("big.parquet", pq.getvalue()),
        ("big.json", js),
        ("big.xlsx", xl.getvalue()),
        ("big.jsonl", jl),
    ):
        await preview_store.put(name, data)
        r = await preview(preview_store, name, rows=100)
        assert len(r["rows"]) == 100 and r["truncated"]
        assert types(r) == EXPECTED_TYPES, name
        assert r["bytes_read"] < len(data) / 2, (name, r["bytes_read"], len(data))


@pytest.mark.slow
async def test_100mb_csv_preview_reads_little(preview_store):
    row = b"12345,0.123456,control,2024-01-01 00:00:00,True,some free text to pad the line\n"
    header = b"id,score,group,when,ok,comment\n"
    block = row * ((1 << 20) // len(row))
    data = header + block * 100
    assert len(data) > 100_000_000 - (1 << 20)
    await preview_store.put("big.csv", data)
    t = time.perf_counter()
    r = await preview(preview_store, "big.csv", rows=100)
    elapsed = time.perf_counter() - t
    assert len(r["rows"]) == 100 and r["truncated"]
    assert r["bytes_read"] < 2 << 20 and r["requests"] <= 2, r["bytes_read"]
    assert types(r)["when"] == "datetime" and types(r)["id"] == "integer"
    assert elapsed < 1.0, f"preview took {elapsed:.3f}s"


async def test_first_rows_too_large_is_refused(preview_store):
    await preview_store.put("wide.csv", b"a\n" + b"x" * (3 << 20) + b"\n1\n")
    with pytest.raises(PreviewFailed) as e:
        await preview(preview_store, "wide.csv", rows=1, max_bytes=2 << 20)
    assert str(e.value) == (
        "the first rows of 'wide.csv' need more than 2 MB; ask for fewer rows or download the file"
    )


# ---------------------------------------------------------------- limits, at their boundaries
# documented in docs/files-api.md: rows from 0 to 1000, default 100; the byte budget of one
# preview is 32 MiB (DatadiveService answers 422 "ask for fewer rows or download the file")
ROW_CAP = 1000
DEFAULT_ROWS = 100
BYTE_BUDGET = 32 << 20


def encode(df: pd.DataFrame, fmt: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "csv":
        df.to_csv(buf, index=False)
    elif fmt == "tsv":
        df.to_csv(buf, index=False, sep="\t")
    elif fmt == "jsonl":
        df.to_json(buf, orient="records", lines=True, date_format="iso")
    elif fmt == "json":
        df.to_json(buf, orient="records", date_format="iso")
    elif fmt == "parquet":
        df.to_parquet(buf)
    else:
        df.to_excel(buf, index=False)
    return buf.getvalue()


FORMATS = ["csv", "tsv", "jsonl", "json", "parquet", "xlsx"]


@pytest.mark.parametrize("fmt", FORMATS)
async def test_row_cap_at_the_limit_and_one_past_it(preview_store, fmt):
    """1000 rows may be asked for and come back (all of a 1000-row file, not truncated; the
    first 1000 of a 1001-row file, truncated); 1001 is refused with the range to use."""
    await preview_store.put(f"exact.{fmt}", encode(frame(ROW_CAP), fmt))
    await preview_store.put(f"over.{fmt}", encode(frame(ROW_CAP + 1), fmt))
    r = await preview(preview_store, f"exact.{fmt}", rows=ROW_CAP)
    assert len(r["rows"]) == ROW_CAP and r["truncated"] is False
    assert [row[0] for row in r["rows"]] == list(range(ROW_CAP))
    r = await preview(preview_store, f"over.{fmt}", rows=ROW_CAP)
    assert len(r["rows"]) == ROW_CAP and r["truncated"] is True
    assert r["rows"][-1][0] == ROW_CAP - 1
    for bad in (ROW_CAP + 1, -1):
        with pytest.raises(PreviewFailed, match=f"rows must be a whole number from 0 to {ROW_CAP}"):
            await preview(preview_store, f"over.{fmt}", rows=bad)


@pytest.mark.parametrize("fmt", FORMATS)
async def test_default_and_zero_rows(preview_store, fmt):
    await preview_store.put(f"t.{fmt}", encode(frame(DEFAULT_ROWS + 1), fmt))
    r = await preview(preview_store, f"t.{fmt}")
    assert len(r["rows"]) == DEFAULT_ROWS and r["truncated"] is True
    r = await preview(preview_store, f"t.{fmt}", rows=0)
    assert r["rows"] == [] and r["truncated"] is True
    if fmt not in ("json", "jsonl"):
        assert [c["name"] for c in r["columns"]] == list(frame(1).columns)
    else:  # JSON records carry their names: none read, none known
        assert r["columns"] == []


def _one_wide_record(fmt: str, width: int) -> bytes:
    if fmt == "csv":
        return b"a\n" + b"x" * width + b"\n"
    return json.dumps({"a": ["x" * width]}).encode()  # one JSON object: read whole


@pytest.mark.parametrize("fmt", ["csv", "json"])
async def test_byte_budget_at_the_limit_and_one_byte_short(preview_store, fmt):
    """A preview whose first rows need exactly ``max_bytes`` works; one byte less is refused
    with what to do, never a partial row."""
    data = _one_wide_record(fmt, 300_000)
    await preview_store.put(f"wide.{fmt}", data)
    r = await preview(preview_store, f"wide.{fmt}", rows=1, max_bytes=len(data))
    assert r["rows"] == [["x" * 300_000]] and r["bytes_read"] == len(data)
    with pytest.raises(PreviewFailed, match="ask for fewer rows or download the file"):
        await preview(preview_store, f"wide.{fmt}", rows=1, max_bytes=len(data) - 1)


@pytest.mark.slow
async def test_default_byte_budget_is_32_mib(local_store):
    """The default budget, at its boundary: first rows of exactly 32 MiB preview, one more byte
    does not (local store only: the boundary is the same on every store)."""
    header = b"a\n"
    exact = header + b"x" * (BYTE_BUDGET - len(header) - 1) + b"\n"
    assert len(exact) == BYTE_BUDGET
    await local_store.put("exact.csv", exact)
    r = await preview(local_store, "exact.csv", rows=1)
    assert len(r["rows"]) == 1 and r["bytes_read"] == BYTE_BUDGET
    await local_store.put("over.csv", header + b"x" * (BYTE_BUDGET - len(header)) + b"\n")
    with pytest.raises(PreviewFailed, match="need more than 32 MB"):
        await preview(local_store, "over.csv", rows=1)


def test_record_ends_counts_exactly_the_records_asked_for():
    data = b"a,b\n1,2\n3,4\n"
    assert record_ends(data, 1) == [4]
    assert record_ends(data, 2) == [4, 8]
    assert record_ends(data, 5) == [4, 8, 12]
    assert record_ends(b"\nx\n", 2) == [1, 3]  # an empty first line is a record too
    assert record_ends(b"no newline", 3) == []
    quoted = b'a,"x\ny"\n"q",2\n3,4\n'
    assert record_ends(quoted, 1) == [8]
    assert record_ends(quoted, 2) == [8, 14]
    assert record_ends(quoted, 9) == [8, 14, 18]


def test_record_ends_keeps_an_empty_record_between_two_newlines():
    assert record_ends(b"a\n\nb\n", 3) == [2, 3, 5]


async def test_budget_smaller_than_the_file_clips_the_last_read(local_store):
    """First rows that end exactly at the budget preview even though the file goes on (the
    last ranged read is cut to the byte left), and the refusal says what to do."""
    budget = 64 << 10 | 1  # the first ranged read plus one byte
    head = b"a\n" + b"x" * (budget - 3) + b"\n"
    assert len(head) == budget
    await local_store.put("long.csv", head + b"y" * 300_000 + b"\n")
    r = await preview(local_store, "long.csv", rows=1, max_bytes=budget)
    assert r["rows"] == [["x" * (budget - 3)]] and r["truncated"] is True
    assert r["bytes_read"] == budget
    with pytest.raises(PreviewFailed) as e:
        await preview(local_store, "long.csv", rows=1, max_bytes=budget - 1)
    assert str(e.value).endswith("need more than 0 MB; ask for fewer rows or download the file")


class ChangingStore:
    """The real local store, counting GETs; after GET number ``change_after`` the object at
    ``key`` is replaced by ``new`` (as another user saving it mid-preview would)."""

    def __init__(self, store, key: str, new: bytes, change_after: int) -> None:
        self.store, self.key, self.new, self.change_after = store, key, new, change_after
        self.gets = 0
        self.heads = 0
        self.bytes = 0
        self.ranges: list[tuple] = []  # (start, end) of each GET

    async def head(self, key, **kw):
        self.heads += 1
        return await self.store.head(key, **kw)

    async def get(self, key, **kw):
        data, info = await self.store.get(key, **kw)
        self.ranges.append((kw.get("start"), kw.get("end")))
        self.gets += 1
        self.bytes += len(data)
        if self.gets == self.change_after:
            await self.store.put(self.key, self.new)
        return data, info


async def test_preview_reads_one_version_and_counts_its_requests(local_store):
    """A CSV replaced while its preview reads it: every row comes from the version the first
    read saw, and ``requests`` / ``bytes_read`` are what the store served."""
    pad = b"," + b"p" * 300

    def table(base: int) -> bytes:
        return b"n,pad\n" + b"".join(b"%06d" % (base + i) + pad + b"\n" for i in range(2000))

    await local_store.put("t.csv", table(0))  # 600 KB: the first 1000 rows take several reads
    store = ChangingStore(local_store, "t.csv", table(900_000), change_after=1)
    r = await preview(store, "t.csv", rows=1000)
    assert store.gets >= 2
    assert [row[0] for row in r["rows"]] == list(range(1000))
    assert r["requests"] == store.gets and r["bytes_read"] == store.bytes
    r = await preview(local_store, "t.csv", rows=2)  # the change did happen
    assert [row[0] for row in r["rows"]] == [900_000, 900_001]


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "json"])
@pytest.mark.parametrize("rows", [10, 1000])
async def test_a_file_inside_the_first_range_costs_one_request(local_store, fmt, rows):
    """A small file is read whole by the first ranged GET: no second request (not even an empty
    one at the end of the file), whether more rows are asked for than it has or fewer."""
    await local_store.put(f"s.{fmt}", encode(frame(50), fmt))
    store = ChangingStore(local_store, f"s.{fmt}", b"", change_after=0)
    r = await preview(store, f"s.{fmt}", rows=rows)
    assert len(r["rows"]) == min(rows, 50) and r["truncated"] is (rows < 50)
    assert r["requests"] == store.gets == 1 and r["bytes_read"] == r["size"]


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "json"])
async def test_an_empty_file_counts_the_one_request_it_cost(local_store, fmt):
    """An empty file's preview is one GET (which also tells the size): ``requests`` says 1, not
    0, and nothing more is read."""
    await local_store.put(f"empty.{fmt}", b"")
    store = ChangingStore(local_store, f"empty.{fmt}", b"", change_after=0)
    r = await preview(store, f"empty.{fmt}", rows=10)
    assert r["columns"] == [] and r["rows"] == [] and r["size"] == 0 and r["truncated"] is False
    assert r["requests"] == store.gets == 1 and r["bytes_read"] == 0


@pytest.mark.parametrize("fmt", ["parquet", "xlsx"])
async def test_requests_and_bytes_read_are_what_the_store_served(local_store, fmt):
    await local_store.put(f"t.{fmt}", encode(frame(500), fmt))
    store = ChangingStore(local_store, f"t.{fmt}", b"", change_after=0)  # never changes
    r = await preview(store, f"t.{fmt}", rows=10)
    assert len(r["rows"]) == 10
    assert r["requests"] == store.gets >= 1 and r["bytes_read"] == store.bytes


async def test_csv_reads_grow_fourfold_from_64_kib(local_store):
    """Rows that need more than the first 64 KiB are read in ranges four times larger each
    time (64 KiB, 256 KiB, 1 MiB, ...; docs/files-api.md): the GETs the store served and
    ``bytes_read`` show it, and the rows are the first 1000, in order."""
    row = b"," + b"p" * 393 + b"\n"  # 400-byte rows: 1000 rows need ~400 KB, the file is 2 MB
    await local_store.put("t.csv", b"n,pad\n" + b"".join(b"%05d" % i + row for i in range(5000)))
    store = ChangingStore(local_store, "t.csv", b"", change_after=0)
    r = await preview(store, "t.csv", rows=1000)
    kib = 1 << 10
    assert store.ranges == [(0, 64 * kib), (64 * kib, 320 * kib), (320 * kib, 1344 * kib)]
    assert r["bytes_read"] == 1344 * kib and r["requests"] == 3
    assert [row[0] for row in r["rows"]] == list(range(1000)) and r["truncated"] is True


@pytest.mark.parametrize("fmt", ["parquet", "xlsx"])
async def test_parquet_and_excel_read_the_end_of_the_file_first(local_store, fmt):
    """Parquet's footer and an xlsx's zip directory are at the end: the first GET reads there
    (after one HEAD for the size), not the start of the file (docs/files-api.md)."""
    await local_store.put(f"t.{fmt}", encode(frame(20_000), fmt))  # ~0.5 MB: several blocks
    store = ChangingStore(local_store, f"t.{fmt}", b"", change_after=0)
    r = await preview(store, f"t.{fmt}", rows=10)
    assert store.heads == 1 and store.ranges[0][0] > 0 and store.ranges[0][1] == r["size"]
    assert [row[0] for row in r["rows"]] == list(range(10))


@pytest.mark.parametrize("fmt", ["parquet", "xlsx"])
async def test_an_empty_parquet_or_excel_file_is_refused_as_empty(local_store, fmt):
    await local_store.put(f"e.{fmt}", b"")
    with pytest.raises(PreviewFailed) as e:
        await preview(local_store, f"e.{fmt}")
    assert str(e.value) == f"'e.{fmt}' is empty, not a {fmt} file"


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
async def test_an_older_version_previews_its_own_rows(local_store, fmt):
    """``version_id`` previews that version (rows, size, etag, version id), not the current one."""
    await local_store.put(f"v.{fmt}", encode(frame(20), fmt))
    old = await local_store.head(f"v.{fmt}")
    await local_store.put(f"v.{fmt}", encode(frame(30).assign(id=lambda d: d.id + 100), fmt))
    new = await local_store.head(f"v.{fmt}")
    r = await preview(local_store, f"v.{fmt}", rows=3, version_id=old.version_id)
    assert [row[0] for row in r["rows"]] == [0, 1, 2]
    assert (r["version_id"], r["etag"], r["size"]) == (old.version_id, old.etag, old.size)
    r = await preview(local_store, f"v.{fmt}", rows=3)
    assert [row[0] for row in r["rows"]] == [100, 101, 102]
    assert (r["version_id"], r["etag"], r["size"]) == (new.version_id, new.etag, new.size)
    assert old.version_id != new.version_id and old.etag != new.etag
