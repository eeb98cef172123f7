"""Semantic-version ordering (MAJOR.MINOR.PATCH[-pre][+build]) for "latest version" look-ups."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


def version_key(version: str) -> tuple[Any, ...]:
    """Sort key: releases after their pre-releases, numeric identifiers numerically (semver §11)."""
    m = _SEMVER.match(version)
    if not m:
        raise ValueError(f"{version!r} is not a semantic version (MAJOR.MINOR.PATCH)")
    major, minor, patch, pre = m.groups()
    if pre is None:
        pre_key: tuple[Any, ...] = (1,)
    else:
        pre_key = (0, *((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")))
    return (int(major), int(minor), int(patch), pre_key)


def latest_version(versions: Iterable[str]) -> str | None:
    """The highest version, preferring releases; None for an empty list."""
    vs = list(versions)
    if not vs:
        return None
    return max(vs, key=version_key)
