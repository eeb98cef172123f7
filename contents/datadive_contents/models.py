"""Contents models (the dicts of the Jupyter contents API) built from stores and working copies.

Pure helpers of :class:`~datadive_contents.manager.DatadiveContentsManager`: the model skeleton,
a folder's entries from its store listing and local files, a file's content as text or base64,
and the reverse (a saved model's content to bytes).
"""

from __future__ import annotations

import base64
import fnmatch
import mimetypes
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tornado.web import HTTPError

from .mounts import Mount
from .workingcopy import DirFound

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timestamp(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def base_model(path: str, kind: str, modified: datetime, writable: bool = True) -> dict[str, Any]:
    """A model without content: ``kind`` is file | notebook | directory."""
    return {
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "type": kind,
        "writable": writable,
        "created": modified,
        "last_modified": modified,
        "content": None,
        "format": None,
        "mimetype": None,
        "size": None,
        "hash": None,
        "hash_algorithm": None,
    }


def api_path(m: Mount, rel: str) -> str:
    """The API path of ``rel`` inside mount ``m``."""
    return "/".join(p for p in (m.folder, rel) if p)


def folder_entries(
    m: Mount, rel: str, found: DirFound, listed: Callable[[str], bool]
) -> list[dict[str, Any]]:
    """The entries of folder ``rel`` of ``m`` from ``found`` (``WorkingCopy.refresh_dir``'s
    answer): a file changed here shows its local size and time, else the store's."""
    remote, rfolders, local_files, local_dirs = found
    entries = []
    prefix = rel + "/" if rel else ""
    bases = m.wc.bases_in(rel) if local_files else {}  # one query, not one per entry
    for name in sorted(set(remote) | set(local_files)):
        if not listed(name):
            continue
        info = remote.get(name)
        st = local_files.get(name)
        changed = False
        if st is not None:
            b = bases.get(name)
            changed = b is None or (b.mtime_ns, b.size) != (st.st_mtime_ns, st.st_size)
        if info is not None and not changed:
            modified, size = info.last_modified, info.size
        else:
            assert st is not None
            modified, size = timestamp(st.st_mtime), st.st_size
        kind = "notebook" if name.endswith(".ipynb") else "file"
        linked = info is not None and info.read_only
        e = base_model(api_path(m, prefix + name), kind, modified, m.writable and not linked)
        e["size"] = size
        if kind == "file":
            e["mimetype"] = mimetype(name)
        entries.append(e)
    for name in sorted((rfolders | local_dirs) - set(remote) - set(local_files)):
        if listed(name):
            entries.append(
                base_model(api_path(m, prefix + name), "directory", EPOCH, writable=m.writable)
            )
    return entries


def globs_matcher(globs: tuple[str, ...]) -> Callable[[str], object] | None:
    """One regular expression for all of ``globs`` (one match per name, not one fnmatch per
    glob); None for no globs."""
    if not globs:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs)).match


def set_file_content(model: dict[str, Any], data: bytes, format: str | None, path: str) -> None:
    """Put ``data`` in a file model: as text when asked or when it is UTF-8, else base64."""
    if format == "text" or format is None:
        try:
            model["content"] = data.decode("utf-8")
            model["format"] = "text"
            model["mimetype"] = model["mimetype"] or "text/plain"
            return
        except UnicodeDecodeError:
            if format == "text":
                raise HTTPError(400, f"{path} is not UTF-8 encoded", reason="bad format") from None
    model["content"] = base64.encodebytes(data).decode("ascii")
    model["format"] = "base64"
    model["mimetype"] = model["mimetype"] or "application/octet-stream"


def decode(content: Any, fmt: str | None, path: str) -> bytes:
    """A saved file model's content as bytes (format text or base64)."""
    if fmt == "base64":
        try:
            return base64.b64decode(
                content.encode("ascii") if isinstance(content, str) else content
            )
        except Exception as e:
            raise HTTPError(400, f"Encoding error saving {path}: {e}") from e
    if not isinstance(content, str):
        raise HTTPError(400, f"content of {path} must be text (format 'text') or base64")
    return content.encode("utf-8")


_MIMETYPES: dict[str, str | None] = {}


def mimetype(name: str) -> str | None:
    """``mimetypes.guess_type(name)[0]``, cached by extension (a listing asks once per type)."""
    ext = os.path.splitext(name)[1]
    if ":" in name or ext.lower() in mimetypes.encodings_map or ext in mimetypes.suffix_map:
        return mimetypes.guess_type(name)[0]  # schemes, .gz/.tgz...: the full rules
    if ext not in _MIMETYPES:
        _MIMETYPES[ext] = mimetypes.guess_type("x" + ext)[0]
    return _MIMETYPES[ext]


def local_files(root: str) -> dict[str, int]:
    """Relative path → size of the ordinary files under ``root`` (internal names skipped)."""
    out: dict[str, int] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".datadive-")]
        for name in filenames:
            if not name.startswith(".datadive-"):
                p = os.path.join(dirpath, name)
                try:
                    out[os.path.relpath(p, root)] = os.path.getsize(p)
                except OSError:
                    pass
    return out


def read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()
