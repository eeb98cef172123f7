"""APA-style numbers. The ``apa_*`` functions are self-contained: the generated cell embeds their
source, so the cell prints exactly the line the assistant shows."""

from __future__ import annotations

import math
from typing import Any


def apa_p(p):
    """p as APA writes it: ``p = .026``, ``p < .001`` (never 0), no leading zero."""
    p = float(p)
    if p != p:
        raise ValueError("p is not a number")
    if p < 0.001:
        return "p < .001"
    return "p = " + f"{p:.3f}".replace("0.", ".", 1)


def apa_num(x, bounded=False):
    """Two decimals; ``bounded`` values (cannot exceed 1: r, rho, V, eta squared) lose the 0."""
    x = float(x)
    if x != x or x in (float("inf"), float("-inf")):
        return "n/a"
    s = f"{x:.2f}"
    if s == "-0.00":
        s = "0.00"
    return s.replace("0.", ".", 1) if bounded else s


def apa_df(x):
    """Degrees of freedom: whole numbers as such, corrected ones with two decimals."""
    x = float(x)
    return f"{x:.0f}" if abs(x - round(x)) < 1e-9 else f"{x:.2f}"


def format_p(p: float) -> str:
    """The p in prose and tables (same rule as :func:`apa_p`)."""
    return apa_p(p)


def apa_line(template: str, values: dict[str, Any]) -> str:
    """Fill an APA template: each value is ``(kind, number)`` with kind ``p``, ``df``, ``num``,
    ``b`` (bounded) or ``text``."""
    out = {}
    for key, (kind, value) in values.items():
        if kind == "text":
            out[key] = value
        elif value is None or (isinstance(value, float) and math.isnan(value)):
            out[key] = "n/a"
        elif kind == "p":
            out[key] = apa_p(value)
        elif kind == "df":
            out[key] = apa_df(value)
        else:
            out[key] = apa_num(value, bounded=kind == "b")
    return template.format(**out)
