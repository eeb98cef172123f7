"""Normalise and validate user-supplied relative paths (the one place every part uses).

``normalize_path("data/survey.csv/")`` → ``"data/survey.csv"``; anything that could escape a
project, hide its real name or confuse a reader raises :class:`PathRejected` with a message.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote

from .stores.base import PathRejected

MAX_PATH_BYTES = 1024
MAX_SEGMENT_BYTES = 255
#: names used by the storage layer itself; users cannot create or address them
RESERVED_SEGMENTS = frozenset({".datadive-versions", ".datadive-journal"})

# invisible or direction-changing characters (bidi overrides/isolates/marks, zero-width chars, BOM)
_INVISIBLE = frozenset(
    "\u061c\u200b\u200c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2066\u2067\u2068\u2069\ufeff\u00ad"
)
_SEPARATOR_LIKE = frozenset("./\\:")
# look-alikes of '/' and '\\' that NFKC does not fold (division/fraction slash, solidus operators)
_SLASH_LOOKALIKES = frozenset("\u2215\u2044\u29f8\u29f9\u29f5\u2216\u1735\u2cc6\u3033")


def _reject(path: str, why: str) -> PathRejected:
    return PathRejected(
        f"path {path!r} rejected: {why}; use a plain relative path such as 'data/survey.csv'"
    )


def _check_chars(original: str, text: str) -> None:
    for ch in text:
        if ch == "\\":
            raise _reject(original, "backslashes are not allowed")
        if ch == "\x00":
            raise _reject(original, "NUL bytes are not allowed")
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cs", "Co", "Cn", "Zl", "Zp") or ch in _INVISIBLE:
            raise _reject(
                original, f"control or invisible character U+{ord(ch):04X} is not allowed"
            )
        if ch in _SLASH_LOOKALIKES:
            raise _reject(original, f"look-alike of a slash U+{ord(ch):04X} is not allowed")
        if ch not in _SEPARATOR_LIKE and ord(ch) > 127:
            folded = unicodedata.normalize("NFKC", ch)
            if any(c in _SEPARATOR_LIKE for c in folded):
                raise _reject(
                    original, f"look-alike of a dot, slash or colon U+{ord(ch):04X} is not allowed"
                )


def _check_segments(original: str, text: str) -> list[str]:
    if text.startswith("/"):
        raise _reject(original, "absolute paths are not allowed")
    segments = text.rstrip("/").split("/") if text.rstrip("/") else []
    if "" in segments:
        # "a//b": an absolute path spliced into a path ("Project/" + "/etc/passwd")
        raise _reject(
            original, "empty segments ('//', an absolute path inside a path) are not allowed"
        )
    for seg in segments:
        if seg in (".", ".."):
            raise _reject(original, "'.' and '..' segments are not allowed")
        if len(seg.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise _reject(original, f"a name is longer than {MAX_SEGMENT_BYTES} bytes")
        if seg in RESERVED_SEGMENTS:
            raise _reject(original, f"{seg!r} is reserved for Datadive's storage")
    return segments


def normalize_path(path: str, *, allow_root: bool = True) -> str:
    """Return ``path`` NFC-normalised, without a trailing ``/``; raise PathRejected if hostile.

    Rejects: absolute paths (also inside a path: ``a//b``), ``.``/``..`` segments, backslashes,
    NUL and other control or
    invisible characters (bidi overrides, zero-width), look-alikes of ``.``, ``/``, ``\\`` or ``:``
    (fullwidth dot/solidus, division slash...), percent-encoded forms of any of these, paths over
    1024 bytes or with a segment over 255 bytes, and reserved storage names.
    ``""`` (the root) is accepted unless ``allow_root`` is false.
    """
    if not isinstance(path, str):
        raise PathRejected(f"path must be a string, got {type(path).__name__}")
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise _reject(path, "it is not valid Unicode") from None
    if len(path.encode("utf-8")) > MAX_PATH_BYTES:
        raise PathRejected(f"path rejected: longer than {MAX_PATH_BYTES} bytes; use a shorter path")
    text = unicodedata.normalize("NFC", path)
    _check_chars(path, text)
    segments = _check_segments(path, text)
    # the same checks on percent-decoded forms (single and double encoding)
    decoded = text
    for _ in range(3):
        nxt = unquote(decoded)
        if nxt == decoded:
            break
        decoded = unicodedata.normalize("NFC", nxt)
        if decoded.count("/") != text.count("/"):
            raise _reject(path, "percent-encoded slashes are not allowed")
        _check_chars(path, decoded)
        _check_segments(path, decoded)
    result = "/".join(segments)
    if not result and not allow_root:
        raise PathRejected("an empty path is not allowed here; give a file or folder name")
    return result


def join(*parts: str) -> str:
    """Join key parts with '/' (empty parts dropped), without normalising."""
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))
