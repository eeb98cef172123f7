"""Folder names of projects in a user's server: labels that never move data.

A project is shown as a top-level folder named after it. The name is only a label: the
working copy, its sync state and every upload belong to the project id (see
:mod:`datadive_contents.manager`). What this module guarantees is that a label, once given to a
project in this server, is never given to another project, so a tab left open on
``Study/analysis.ipynb`` can never save into a different project that happens to be called
"Study" now (a look-alike made by a stranger, or a new project after the old one was deleted).

- A project keeps its folder while its name is unchanged.
- A renamed project gets its new name (the old label stays reserved for it).
- A new project, or one whose name is reserved for another project, gets ``"name (2)"``, ...
- On a fresh server, older projects (``created_at``) get the plain name first.
"""

from __future__ import annotations

from typing import Any

from .paths import normalize_path
from .stores.base import PathRejected


def label(project: dict[str, Any]) -> str:
    """The folder name a project would like: its name, made a valid single path segment."""
    name = (
        str(project.get("name") or project["id"])
        .replace("/", "-")
        .replace("\\", "-")
        .lstrip(".")
        .strip()
    )
    try:
        return normalize_path(name, allow_root=False)
    except PathRejected:
        return str(project["id"])


def assign_folders(
    projects: list[dict[str, Any]], previous: dict[str, dict[str, Any]], reserved: dict[str, str]
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]], dict[str, str]]:
    """Give each project a unique folder.

    ``previous``: ``{project id: {"name", "folder"}}`` from the last assignment;
    ``reserved``: ``{folder.casefold(): project id}``, every label ever given in this server.
    Returns ``(projects with "folder", new previous, new reserved)``; inputs are not changed.
    """
    reserved = dict(reserved)
    current: dict[str, dict[str, Any]] = {}
    used: set[str] = set()
    out: dict[str, dict[str, Any]] = {}
    pending = []
    for p in projects:
        pid = str(p["id"])
        before = previous.get(pid)
        want = label(p)
        if before is not None and before.get("name") == p.get("name"):
            folder = before["folder"]
            if folder.casefold() not in used and reserved.get(folder.casefold(), pid) == pid:
                used.add(folder.casefold())
                reserved[folder.casefold()] = pid
                out[pid] = {**p, "folder": folder}
                current[pid] = {"name": p.get("name"), "folder": folder}
                continue
        pending.append((str(p.get("created_at") or ""), pid, want, p))
    for _, pid, want, p in sorted(pending, key=lambda t: (t[0], t[1])):
        cand, n = want, 2
        while cand.casefold() in used or reserved.get(cand.casefold(), pid) != pid:
            cand, n = f"{want} ({n})", n + 1
        used.add(cand.casefold())
        reserved[cand.casefold()] = pid
        out[pid] = {**p, "folder": cand}
        current[pid] = {"name": p.get("name"), "folder": cand}
    return [out[str(p["id"])] for p in projects], current, reserved
