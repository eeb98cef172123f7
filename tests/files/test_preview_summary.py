"""Row counts and per-column summaries of previews (the panel's preview tab shows both)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from datadive_contents.preview import preview
from datadive_contents.summary import HISTOGRAM_BINS, summarise

SMALL_CSV = b"participant,age,score,group\np1,34,7.5,a\np2,29,,b\np3,41,8.25,a\np4,,6.0,a\n"


async def test_small_csv_read_whole_has_exact_total_rows(preview_store):
    """A 4-row file read completely: total_rows is 4 (it was null before), no estimate."""
    await preview_store.put("survey.csv", SMALL_CSV)
    r = await preview(preview_store, "survey.csv", rows=20)
    assert r["total_rows"] == 4
    assert "total_rows_estimate" not in r
    assert r["truncated"] is False


async def test_large_csv_estimates_rows_from_a_ranged_read(preview_store):
    n = 200_000
    rng = np.random.default_rng(5)  # rows of similar length, as in most real files
    df = pd.DataFrame({"id": np.arange(n) + 100_000, "x": rng.random(n).round(6)})
    await preview_store.put("big.csv", df.to_csv(index=False).encode())
    r = await preview(preview_store, "big.csv", rows=20)
    assert r["total_rows"] is None
    assert abs(r["total_rows_estimate"] - n) / n < 0.15, r["total_rows_estimate"]
    assert r["bytes_read"] < 1 << 20  # still a ranged read of the start


async def test_summary_of_a_small_csv(preview_store):
    await preview_store.put("survey.csv", SMALL_CSV)
    r = await preview(preview_store, "survey.csv", rows=0, summary=True)
    s = r["summary"]
    assert s["complete"] is True and s["rows"] == 4
    cols = {c["name"]: c for c in s["columns"]}
    assert cols["age"]["type"] == "integer"
    assert cols["age"]["missing"] == 1 and cols["age"]["count"] == 3
    assert (cols["age"]["min"], cols["age"]["max"]) == (29, 41)
    assert cols["age"]["mean"] == pytest.approx((34 + 29 + 41) / 3, abs=1e-5)
    assert sum(cols["age"]["histogram"]["counts"]) == 3
    assert cols["score"]["type"] == "number" and cols["score"]["missing"] == 1
    assert cols["group"]["distinct"] == 2
    assert cols["group"]["top"] == [["a", 3], ["b", 1]]
    assert cols["participant"]["distinct"] == 4
    assert r["total_rows"] == 4 and r["rows"] == []


async def test_summary_of_a_large_csv_is_bounded(preview_store):
    """12 MB: the summary reads its first 4 MB (whole records), the file is never read whole."""
    n = 600_000
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"id": np.arange(n), "v": rng.normal(10, 2, n).round(4)})
    data = df.to_csv(index=False).encode()
    assert len(data) > 8 << 20
    await preview_store.put("big.csv", data)
    r = await preview(preview_store, "big.csv", rows=50, summary=True)
    s = r["summary"]
    assert s["complete"] is False
    assert 0 < s["bytes"] <= 4 << 20
    assert r["bytes_read"] <= (4 << 20) + (64 << 10)
    assert s["rows"] > 100_000
    v = next(c for c in s["columns"] if c["name"] == "v")
    assert 9.5 < v["mean"] < 10.5
    assert len(v["histogram"]["counts"]) == HISTOGRAM_BINS
    assert r["total_rows"] is None
    assert abs(r["total_rows_estimate"] - n) / n < 0.05
    assert len(r["rows"]) == 50


async def test_summary_of_parquet_uses_its_first_rows(preview_store):
    df = pd.DataFrame({"g": ["x", "y"] * 1500, "n": np.arange(3000)})
    buf = io.BytesIO()
    df.to_parquet(buf)
    await preview_store.put("t.parquet", buf.getvalue())
    r = await preview(preview_store, "t.parquet", rows=10, summary=True)
    assert r["total_rows"] == 3000 and len(r["rows"]) == 10 and r["truncated"] is True
    cols = {c["name"]: c for c in r["summary"]["columns"]}
    assert r["summary"]["rows"] == 1000
    assert cols["g"]["top"] == [["x", 500], ["y", 500]]
    assert cols["n"]["min"] == 0 and cols["n"]["max"] == 999


async def test_jsonl_read_whole_counts_rows(preview_store):
    await preview_store.put("t.jsonl", b'{"a": 1}\n{"a": 2}\n{"a": null}\n')
    r = await preview(preview_store, "t.jsonl", rows=10, summary=True)
    assert r["total_rows"] == 3
    assert r["summary"]["columns"][0]["missing"] == 1
    r = await preview(preview_store, "t.jsonl", rows=1, summary=True)  # the file, not the row
    assert (r["summary"]["rows"], r["summary"]["bytes"]) == (3, r["size"])
    assert r["total_rows"] == 3 and r["truncated"] is True


def test_summarise_dates_and_empty_columns():
    df = pd.DataFrame(
        {
            "when": ["2024-01-01", "2024-03-01", None],
            "nothing": [None, None, None],
            "flag": [True, False, True],
        }
    )
    cols = {c["name"]: c for c in summarise(df)}
    assert cols["when"]["type"] == "date"
    assert (cols["when"]["min"], cols["when"]["max"]) == ("2024-01-01", "2024-03-01")
    assert cols["nothing"]["type"] == "empty" and cols["nothing"]["missing"] == 3
    assert cols["flag"]["type"] == "boolean" and cols["flag"]["top"][0] == ["True", 2]


def test_summary_through_the_service(team):
    """``?summary=1`` on the files API (validated against the OpenAPI document)."""
    assert team.put("data/survey.csv", SMALL_CSV).status_code in (200, 201)
    r = team.call("GET", "preview/data/survey.csv", team.viewer, params={"summary": "1"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total_rows"] == 4
    assert [c["name"] for c in body["summary"]["columns"]] == [
        "participant",
        "age",
        "score",
        "group",
    ]
    r = team.call("GET", "preview/data/survey.csv", team.viewer, params={"summary": "yes"})
    assert r.status_code == 400 and "summary must be" in r.json()["message"]


def _frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"id": np.arange(n), "g": ["x", "y"] * (n // 2)})


def _encode(df: pd.DataFrame, fmt: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "json":
        df.to_json(buf, orient="records")
    elif fmt == "xlsx":
        df.to_excel(buf, index=False)
    else:
        df.to_parquet(buf)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["json", "xlsx", "parquet"])
async def test_summary_of_json_excel_parquet_covers_the_first_1000_rows(local_store, fmt):
    """A JSON array, xlsx or Parquet file is summarised from its first 1000 rows (``complete``
    false when it has more), while ``rows`` still come back as asked; a file of fewer rows is
    summarised whole and, when all its rows were asked for, is not ``truncated``."""
    await local_store.put(f"big.{fmt}", _encode(_frame(1500), fmt))
    r = await preview(local_store, f"big.{fmt}", rows=10, summary=True)
    s = r["summary"]
    assert s["rows"] == 1000 and s["complete"] is False and s["bytes"] is None
    ids = next(c for c in s["columns"] if c["name"] == "id")
    assert (ids["min"], ids["max"]) == (0, 999)
    assert [row[0] for row in r["rows"]] == list(range(10)) and r["truncated"] is True
    await local_store.put(f"small.{fmt}", _encode(_frame(40), fmt))
    r = await preview(local_store, f"small.{fmt}", rows=40, summary=True)
    assert r["summary"]["rows"] == 40 and r["summary"]["complete"] is True
    assert len(r["rows"]) == 40 and r["truncated"] is False and r["total_rows"] == 40
    r = await preview(local_store, f"small.{fmt}", rows=10, summary=True)  # all 40 were parsed
    assert len(r["rows"]) == 10 and r["truncated"] is True and r["summary"]["rows"] == 40


async def test_summary_of_a_one_column_csv_counts_the_whole_file(preview_store):
    """One column (no delimiter in the file at all); the summary read the file whole, so
    ``total_rows`` is exact even though only one row was asked for, and there is no estimate."""
    await preview_store.put("one.csv", b"city\nZurich\nBern\nZurich\n")
    r = await preview(preview_store, "one.csv", rows=1, summary=True)
    assert r["rows"] == [["Zurich"]] and r["truncated"] is True
    assert [c["name"] for c in r["summary"]["columns"]] == ["city"]
    assert r["summary"]["columns"][0]["top"] == [["Zurich", 2], ["Bern", 1]]
    assert r["total_rows"] == 3 and "total_rows_estimate" not in r


async def test_row_estimate_comes_from_the_summary_sample(local_store):
    """A file read in part: with a summary, the row estimate uses the summary's larger sample,
    so first rows shorter than the rest do not mislead it (without, they do)."""
    short = b"".join(b"%d,a\n" % i for i in range(100))
    long = b"".join(b"%d,%s\n" % (i, b"b" * 94) for i in range(100, 20_100))
    await local_store.put("t.csv", b"n,t\n" + short + long)  # 20,100 rows, ~2 MB
    r = await preview(local_store, "t.csv", rows=50, summary=True, summary_bytes=1 << 20)
    assert r["summary"]["complete"] is False and r["total_rows"] is None
    assert abs(r["total_rows_estimate"] - 20_100) / 20_100 < 0.05, r["total_rows_estimate"]
    r = await preview(local_store, "t.csv", rows=50)
    assert r["total_rows_estimate"] > 5 * 20_100  # 50 short rows alone
