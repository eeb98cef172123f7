"""How ``datadive bundle verify`` compares a re-run cell's outputs with the recorded ones.

Compared, in order: standard output (the stream chunks joined), each result or display's
``text/plain``, errors (name and message), and plots by the data they were drawn from (the
``application/vnd.datadive.plot+json`` the kernel-side helper adds beside a figure's image:
lines, bars, points, labels). Numbers in text and plot data match within a relative tolerance
(:data:`RTOL`) or an absolute one (:data:`ATOL`); memory addresses (``0x7f...``) are ignored.
Not compared: pixels of images (an image without plot data: only that there is one, and its
``text/plain``), HTML (a data frame's ``text/plain`` says the same), standard error (warnings
differ between library versions), execution counts and timing.
"""

from __future__ import annotations

import math
import re
from typing import Any

#: the kernel-side helper's mimetype of a figure's data (datadive_server_ext.dataread)
PLOT_MIME = "application/vnd.datadive.plot+json"
RTOL = 1e-6
ATOL = 1e-9
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|nan|inf")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")


def _text(v: Any) -> str:
    return "".join(v) if isinstance(v, list) else str(v or "")


def comparable(outputs: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """The parts of a cell's outputs that are compared, in order."""
    out: list[tuple[str, Any]] = []
    for o in outputs:
        kind = o.get("output_type")
        if kind == "stream":
            if o.get("name") != "stdout":
                continue
            if out and out[-1][0] == "stdout":
                out[-1] = ("stdout", out[-1][1] + _text(o.get("text")))
            else:
                out.append(("stdout", _text(o.get("text"))))
        elif kind in ("execute_result", "display_data"):
            data = o.get("data") or {}
            if PLOT_MIME in data:
                out.append(("plot", data[PLOT_MIME]))
            elif any(k.startswith("image/") for k in data):
                out.append(("image", _text(data.get("text/plain"))))
            elif "text/plain" in data:
                out.append(("text", _text(data["text/plain"])))
        elif kind == "error":
            out.append(("error", f"{o.get('ename')}: {o.get('evalue')}"))
    return out


def numbers_close(a: float, b: float, rtol: float = RTOL, atol: float = ATOL) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=rtol, abs_tol=atol)


def texts_match(a: str, b: str, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """Same text, except numbers that differ within the tolerance (and memory addresses)."""
    a, b = _ADDRESS.sub("0x?", a).rstrip(), _ADDRESS.sub("0x?", b).rstrip()
    if a == b:
        return True
    if _NUMBER.sub("#", a) != _NUMBER.sub("#", b):
        return False
    return all(
        numbers_close(float(x), float(y), rtol, atol)
        for x, y in zip(_NUMBER.findall(a), _NUMBER.findall(b), strict=True)
    )


def data_match(a: Any, b: Any, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """Equal JSON values, numbers within the tolerance (plot data)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a == b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return numbers_close(float(a), float(b), rtol, atol)
    if isinstance(a, str) and isinstance(b, str):
        return texts_match(a, b, rtol, atol)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(
            data_match(x, y, rtol, atol) for x, y in zip(a, b, strict=True)
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(data_match(a[k], b[k], rtol, atol) for k in a)
    return bool(a == b)


def compare_outputs(
    recorded: list[dict[str, Any]],
    rerun: list[dict[str, Any]],
    rtol: float = RTOL,
    atol: float = ATOL,
) -> str | None:
    """None when the re-run matches the recorded outputs, else a sentence saying how not."""
    old, new = comparable(recorded), comparable(rerun)
    for i, (a, b) in enumerate(zip(old, new, strict=False)):
        if a[0] != b[0]:
            return f"output {i + 1} was {a[0]}, now {b[0]}" + (
                f" ({_short(b[1])})" if b[0] == "error" else ""
            )
        same = (
            data_match(a[1], b[1], rtol, atol)
            if a[0] == "plot"
            else (texts_match(a[1], b[1], rtol, atol))
        )
        if not same:
            return f"{a[0]} output {i + 1} differs: was {_short(a[1])!r}, now {_short(b[1])!r}"
    if len(old) != len(new):
        more = new[len(old)] if len(new) > len(old) else old[len(new)]
        return (
            f"{len(old)} output(s) recorded, {len(new)} now"
            f" ({'new' if len(new) > len(old) else 'missing'}: {more[0]} {_short(more[1])!r})"
        )
    return None


def _short(v: Any, n: int = 80) -> str:
    s = v if isinstance(v, str) else str(v)
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"
