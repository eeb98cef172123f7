"""Text / category / tag filtering of template summaries (used by the hub and the server)."""

from __future__ import annotations

from typing import Any


def matches(
    summary: dict[str, Any],
    q: str | None = None,
    category: str | None = None,
    tag: str | None = None,
) -> bool:
    """True when every word of ``q`` occurs in the id, title, description, category or tags, the
    category equals ``category`` and ``tag`` is one of the tags (all case-insensitive)."""
    tags = [t.casefold() for t in summary.get("tags") or ()]
    if category and (summary.get("category") or "").casefold() != category.casefold():
        return False
    if tag and tag.casefold() not in tags:
        return False
    if q:
        hay = " ".join(
            [
                summary.get("id", ""),
                summary.get("title", ""),
                summary.get("description", ""),
                summary.get("category", ""),
                *tags,
            ]
        ).casefold()
        return all(word in hay for word in q.casefold().split())
    return True
