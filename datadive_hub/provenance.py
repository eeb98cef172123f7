"""What a project's notebooks were made from: template versions, data reads, environment lock.

Pure functions over notebook JSON and a file list, used by the service when it takes a snapshot
(``history.take_snapshot``) and by ``datadive bundle export``. A cell made from a template carries
``metadata.datadive = {template, version, values}``; a cell that read project files carries
``metadata.datadive.data_read`` (written when the notebook is saved, from what its kernel read:
``datadive_server_ext.dataread``). Parsing is bounded: notebooks larger than
:data:`MAX_NOTEBOOK_BYTES` are not read (they are listed as skipped), and malformed ones count as
holding nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

#: a notebook larger than this is not read for its provenance (the manifest lists it as skipped)
MAX_NOTEBOOK_BYTES = 16 << 20
#: at most this many notebooks of a project are read at snapshot time, this many bytes in all
MAX_NOTEBOOKS = 500
MAX_TOTAL_BYTES = 256 << 20
#: the environment files of a project (docs/environments.md)
ENV_LOCK = "requirements.lock"
ENV_REQUIREMENTS = "requirements.txt"


def is_notebook(path: str) -> bool:
    return path.endswith(".ipynb") and ".ipynb_checkpoints/" not in path


def notebooks_to_read(entries: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """(the notebooks of a manifest to read, the paths of those skipped): each at most
    :data:`MAX_NOTEBOOK_BYTES`, at most :data:`MAX_NOTEBOOKS` and :data:`MAX_TOTAL_BYTES`."""
    read: list[dict[str, Any]] = []
    skipped: list[str] = []
    total = 0
    for f in entries:
        if not is_notebook(f["path"]):
            continue
        size = f.get("size") or 0
        if (
            size > MAX_NOTEBOOK_BYTES
            or len(read) >= MAX_NOTEBOOKS
            or total + size > MAX_TOTAL_BYTES
        ):
            skipped.append(f["path"])
            continue
        read.append(f)
        total += size
    return read, skipped


def _cell_meta(cell: Any) -> dict[str, Any]:
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    out = meta.get("datadive") if isinstance(meta, dict) else None
    return out if isinstance(out, dict) else {}


def notebook_provenance(data: bytes | str) -> dict[str, Any]:
    """``{"templates": {(id, version): cells}, "data_read": [{cell_id, path, etag, ...}]}`` of
    one notebook's bytes; an unreadable notebook holds nothing."""
    try:
        nb = json.loads(data)
    except ValueError:
        return {"templates": {}, "data_read": []}
    cells = nb.get("cells") if isinstance(nb, dict) else None
    templates: dict[tuple[str, str], int] = {}
    reads: list[dict[str, Any]] = []
    for cell in cells if isinstance(cells, list) else []:
        meta = _cell_meta(cell)
        tid, version = meta.get("template"), meta.get("version")
        if isinstance(tid, str) and isinstance(version, str):
            templates[(tid, version)] = templates.get((tid, version), 0) + 1
        for r in meta.get("data_read") or []:
            if isinstance(r, dict) and isinstance(r.get("path"), str):
                reads.append({"cell_id": cell.get("id"), **r})
    return {"templates": templates, "data_read": reads}


def merge_templates(per_notebook: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """``[{id, version, cells, notebooks}]`` over notebooks (path → notebook_provenance)."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(per_notebook):
        for (tid, version), n in per_notebook[path]["templates"].items():
            row = out.setdefault(
                (tid, version), {"id": tid, "version": version, "cells": 0, "notebooks": []}
            )
            row["cells"] += n
            row["notebooks"].append(path)
    return [out[k] for k in sorted(out)]


def merge_reads(
    per_notebook: dict[str, dict[str, Any]], versions: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """``[{notebook, cell_id, path, etag, version_id}]``: each recorded read with the store
    version it names. ``versions``: path → {etag → version id} of the versions known (the
    snapshot's own, plus older ones looked up); a read whose content no known version has
    gets ``version_id: null``."""
    out = []
    for nb_path in sorted(per_notebook):
        for r in per_notebook[nb_path]["data_read"]:
            vid = r.get("version_id") or versions.get(r["path"], {}).get(r.get("etag"))
            out.append(
                {
                    "notebook": nb_path,
                    "cell_id": r.get("cell_id"),
                    "path": r["path"],
                    "etag": r.get("etag"),
                    "version_id": vid,
                }
            )
    return out


def environment_of(files: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """``{"lock": {path, version_id, etag}, "requirements": ...}`` from a manifest's file list,
    or None when the project has no environment lock."""
    by_path = {f["path"]: f for f in files}
    if ENV_LOCK not in by_path:
        return None
    keep = ("path", "version_id", "etag", "size")
    req = by_path.get(ENV_REQUIREMENTS)
    return {
        "lock": {k: by_path[ENV_LOCK].get(k) for k in keep},
        "requirements": {k: req.get(k) for k in keep} if req else None,
    }
