"""normalize_path: the one validator of user-supplied relative paths."""

from __future__ import annotations

import pytest
from datadive_contents.paths import normalize_path
from datadive_contents.stores import PathRejected
from hypothesis import given
from hypothesis import strategies as st

GOOD = {
    "survey.csv": "survey.csv",
    "data/raw/": "data/raw",
    "Ünïcödé/ß.txt": "Ünïcödé/ß.txt",
    "e\u0301t\u00e9.txt": "\u00e9t\u00e9.txt",  # NFC
    "100% done.txt": "100% done.txt",
    ".hidden": ".hidden",
    "": "",
}

BAD = [
    "..",
    "../x",
    "a/../../b",
    "./x",
    "/etc/passwd",
    "Alpha//etc/passwd",
    "data//raw/survey.csv",
    "a%2f%2fb",
    "a\\b",
    "nul\x00",
    "%2e%2e/x",
    "%2E%2E%2Fx",
    "%252e%252e/x",
    "a%2fb",
    "a%5cb",
    "\uff0e\uff0e/x",
    "a\uff0fb",
    "\u2025/x",
    "a\u2215b",
    "x\u202egnp.exe",
    "zero\u200bwidth",
    "bell\x07",
    "line\nbreak",
    "x" * 256,
    "/".join(["d" * 200] * 6),
    ".datadive-versions/x",
    "a/.datadive-versions",
]


@pytest.mark.parametrize("raw,expected", GOOD.items())
def test_accepts_ordinary_paths(raw, expected):
    assert normalize_path(raw) == expected


@pytest.mark.parametrize("raw", BAD)
def test_rejects_hostile_paths_with_a_message(raw):
    with pytest.raises(PathRejected) as e:
        normalize_path(raw)
    assert "rejected" in str(e.value) or "longer" in str(e.value)


def test_root_can_be_refused():
    with pytest.raises(PathRejected, match="empty path"):
        normalize_path("", allow_root=False)


@given(st.text(max_size=60))
def test_output_is_confined_and_idempotent(raw):
    try:
        out = normalize_path(raw)
    except PathRejected:
        return
    segs = out.split("/") if out else []
    assert ".." not in segs and "." not in segs and "" not in segs
    assert not out.startswith("/") and "\\" not in out and "\x00" not in out
    assert normalize_path(out) == out
