"""Which version of a project file a notebook read, and what its plots were drawn from.

Kernel side (an IPython extension the server loads into every Python kernel it starts,
``--ext=datadive_server_ext.dataread``; also in ``datadive bundle verify``'s kernels):

- **reads**: an audit hook (:func:`sys.addaudithook`, event ``open``) notes the files a cell
  opens for reading: ``pd.read_csv``, ``read_excel``, ``open()``, whatever the templates' code
  or the researcher's uses (readers in C that bypass Python's ``open``, e.g. pyreadstat, are not
  seen). After the cell, the files inside the project's working copy are looked up in the working
  copy's state: a file unchanged since it was synced is that store version (its ETag); a file
  changed locally and not uploaded yet gets ``etag: null``. The cell's reads go to
  ``<working copy>/.datadive-reads/<hash of the notebook's path>.json`` (internal: never synced).
- **plots**: a matplotlib figure is also displayed as ``application/vnd.datadive.plot+json``:
  the data drawn (lines, bars, points, labels), which JupyterLab does not show and
  ``datadive bundle verify`` compares instead of pixels.

Server side: :func:`pre_save_hook` (registered on the contents manager) copies the reads of the
notebook being saved into its cells, ``metadata.datadive.data_read = [{path, etag, size,
read_at}]``, so the notebook file (and every snapshot of it) says which data produced which
output. A snapshot resolves each ETag to the store's version id (docs/history.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import logging

    from IPython.core.interactiveshell import ExecutionInfo, ExecutionResult, InteractiveShell
    from jupyter_server.services.contents.manager import ContentsManager
    from jupyter_server.services.kernels.kernelmanager import MappingKernelManager
    from numpy.typing import ArrayLike

#: the file in a working copy's root naming its project (datadive_contents.workingcopy.MARKER)
MARKER = ".datadive-project"
READS_DIR = ".datadive-reads"
PLOT_MIME = "application/vnd.datadive.plot+json"
#: at most this many cells' reads are kept per notebook, and this many files per cell
MAX_CELLS = 2000
MAX_READS = 100
#: at most this many points per line or collection in a figure's data
MAX_POINTS = 100_000
_SKIP_SUFFIXES = (".py", ".pyc", ".so", ".pth", ".ipynb")


def project_root(path: str) -> str | None:
    """The working copy root (the folder holding :data:`MARKER`) that ``path`` is in."""
    d = os.path.realpath(path)
    d = d if os.path.isdir(d) else os.path.dirname(d)
    while True:
        if os.path.isfile(os.path.join(d, MARKER)):
            return d
        up = os.path.dirname(d)
        if up == d:
            return None
        d = up


def reads_file(root: str, notebook_rel: str) -> str:
    digest = hashlib.sha256(notebook_rel.encode()).hexdigest()[:32]
    return os.path.join(root, READS_DIR, f"{digest}.json")


def _base(root: str, rel: str) -> tuple[str, int, int] | None:
    """(etag, mtime_ns, size) of ``rel`` at its last sync, from the working copy's state
    (``<project home>/state.sqlite`` beside ``files/``)."""
    state = os.path.join(os.path.dirname(root), "state.sqlite")
    if not os.path.isfile(state):
        return None
    try:
        db = sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=2)
        try:
            row = db.execute(
                "SELECT etag, mtime_ns, size FROM base WHERE path=?", (rel,)
            ).fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    return (row[0], row[1], row[2]) if row else None


def describe(root: str, real: str) -> dict[str, Any]:
    """One read: the project path, and the store version's ETag if the file is that version."""
    rel = os.path.relpath(real, root).replace(os.sep, "/")
    st = os.stat(real)
    base = _base(root, rel)
    synced = base is not None and base[1] == st.st_mtime_ns and base[2] == st.st_size
    return {
        "path": rel,
        "etag": base[0] if base is not None and synced else None,
        "size": st.st_size,
        "read_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


class Recorder:
    """The kernel's reads, per cell, written to the notebook's reads file after each cell."""

    def __init__(self, root: str, notebook_rel: str) -> None:
        self.root = root
        self.file = reads_file(root, notebook_rel)
        self.notebook = notebook_rel
        self.opened: list[Any] = []
        self.cells: dict[str, list[dict[str, Any]]] = {}
        try:  # what earlier kernels of this notebook recorded (a re-run replaces a cell's)
            with open(self.file, encoding="utf-8") as f:
                self.cells = dict(json.load(f).get("cells") or {})
        except (OSError, ValueError, AttributeError, TypeError):
            pass

    def hook(
        self, event: str, args: tuple[Any, ...]
    ) -> None:  # runs on every audited event: keep it cheap
        if event == "open" and len(self.opened) < 10_000:
            path, mode, flags = args
            if mode is None:
                if flags & (os.O_WRONLY | os.O_RDWR) == 0:
                    self.opened.append(path)
            elif isinstance(mode, str) and not any(c in mode for c in "wax+"):
                self.opened.append(path)

    def reads(self) -> list[dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for p in dict.fromkeys(self.opened):
            if not isinstance(p, str | bytes | os.PathLike):
                continue
            p = os.fsdecode(p)
            if p.endswith(_SKIP_SUFFIXES):
                continue
            real = os.path.realpath(p)
            if not real.startswith(self.root + os.sep) or not os.path.isfile(real):
                continue
            rel = os.path.relpath(real, self.root)
            if any(s.startswith(".datadive-") for s in rel.split(os.sep)):
                continue
            out.setdefault(real, describe(self.root, real))
            if len(out) >= MAX_READS:
                break
        return list(out.values())

    def pre_run_cell(self, info: ExecutionInfo) -> None:
        self.opened = []

    def post_run_cell(self, result: ExecutionResult) -> None:
        cell_id = getattr(getattr(result, "info", None), "cell_id", None)
        reads = self.reads()
        self.opened = []
        if not cell_id or (not reads and cell_id not in self.cells):
            return
        self.cells[cell_id] = reads  # [] clears what an earlier run of the cell read
        while len(self.cells) > MAX_CELLS:
            self.cells.pop(next(iter(self.cells)))
        self.save()

    def save(self) -> None:
        os.makedirs(os.path.dirname(self.file), exist_ok=True)
        tmp = f"{self.file}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"notebook": self.notebook, "cells": self.cells}, f)
        os.replace(tmp, self.file)


# ---------------------------------------------------------------- plots


def _floats(values: ArrayLike, limit: int = MAX_POINTS) -> list[float | None]:
    import numpy as np

    arr = np.asarray(values, dtype=float).ravel()[:limit]
    return [None if not np.isfinite(v) else float(v) for v in arr]


def plot_data(fig: Any) -> dict[str, Any]:
    """The data a matplotlib figure draws: per axes, its labels, lines, bars and points (any
    object that looks like a Figure: the kernel's matplotlib is not imported here)."""
    axes = []
    for ax in fig.get_axes():
        lines = [
            {"label": ln.get_label(), "x": _floats(ln.get_xdata()), "y": _floats(ln.get_ydata())}
            for ln in ax.get_lines()
        ]
        bars = [
            _floats([p.get_x(), p.get_y(), p.get_width(), p.get_height()])
            for p in ax.patches
            if hasattr(p, "get_width") and hasattr(p, "get_x")
        ]
        points = [_floats(c.get_offsets()) for c in ax.collections if len(c.get_offsets())]
        axes.append(
            {
                "title": ax.get_title(),
                "xlabel": ax.get_xlabel(),
                "ylabel": ax.get_ylabel(),
                "xticklabels": [t.get_text() for t in ax.get_xticklabels()],
                "lines": lines,
                "bars": bars,
                "points": points,
            }
        )
    return {"axes": axes}


def _register_plot_formatter(ip: InteractiveShell) -> None:
    from IPython.core.formatters import BaseFormatter
    from traitlets import ObjectName, Unicode

    class PlotDataFormatter(BaseFormatter):
        """Figures by their class name (matplotlib's set-up pops every formatter's Figure
        entry when the backend changes, so no registry entry is used)."""

        format_type = Unicode(PLOT_MIME)
        print_method = ObjectName("_repr_datadive_plot_")
        _return_type = (dict,)

        def __call__(self, obj: object) -> dict[str, Any] | None:
            kind = type(obj)
            if kind.__name__ == "Figure" and kind.__module__ == "matplotlib.figure":
                try:
                    return plot_data(obj)
                except Exception:  # a figure we cannot read is shown as usual, without data
                    return None
            return None

    display = ip.display_formatter
    assert display is not None  # set when the shell starts
    formatters = display.formatters
    if PLOT_MIME in formatters:
        return
    formatters[PLOT_MIME] = PlotDataFormatter(parent=display)
    active = display.active_types
    if PLOT_MIME not in active:
        display.active_types = [*active, PLOT_MIME]


# ---------------------------------------------------------------- loading


_recorder: Recorder | None = None


def load_ipython_extension(ip: InteractiveShell) -> None:
    global _recorder
    _register_plot_formatter(ip)
    session = os.environ.get("JPY_SESSION_NAME")  # the notebook's API path (jupyter_server)
    root = project_root(os.getcwd())
    if _recorder is not None or not session or root is None:
        return
    here = os.path.relpath(os.path.realpath(os.getcwd()), root)
    rel = os.path.normpath(os.path.join(here, os.path.basename(session))).replace(os.sep, "/")
    _recorder = Recorder(root, rel)
    sys.addaudithook(_recorder.hook)
    ip.events.register("pre_run_cell", _recorder.pre_run_cell)
    ip.events.register("post_run_cell", _recorder.post_run_cell)


# ---------------------------------------------------------------- server side


def add_reads(nb: dict[str, Any], recorded: dict[str, Any]) -> bool:
    """Put the recorded reads into the cells of ``nb`` (matched by cell id); True if changed."""
    cells = recorded.get("cells") or {}
    changed = False
    for cell in nb.get("cells") or []:
        reads = cells.get(cell.get("id")) if isinstance(cell, dict) else None
        if reads is None:
            continue
        meta = cell.setdefault("metadata", {}).setdefault("datadive", {})
        if reads:
            if meta.get("data_read") != reads:
                meta["data_read"], changed = reads, True
        elif "data_read" in meta:
            del meta["data_read"]
            changed = True
    return changed


def pre_save_hook(
    model: dict[str, Any], path: str, contents_manager: ContentsManager, **kwargs: Any
) -> None:
    """Copy what the notebook's kernel read into the notebook being saved (one stat when the
    kernel read nothing of the project)."""
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    top = getattr(contents_manager, "working_root", None) or contents_manager.root_dir
    local = os.path.join(top, *path.strip("/").split("/"))
    root = project_root(os.path.dirname(local))
    if root is None:
        return
    rel = os.path.relpath(os.path.realpath(local), root).replace(os.sep, "/")
    try:
        with open(reads_file(root, rel), encoding="utf-8") as f:
            recorded = json.load(f)
    except (OSError, ValueError):
        return
    add_reads(model["content"], recorded)


def install(
    kernel_manager: MappingKernelManager, contents_manager: ContentsManager, log: logging.Logger
) -> None:
    """Load the kernel side into every Python kernel the server starts; copy reads on save."""
    contents_manager.register_pre_save_hook(pre_save_hook)
    original = kernel_manager.start_kernel

    async def start_kernel(*args: Any, **kwargs: Any) -> str:
        name = kwargs.get("kernel_name") or kernel_manager.default_kernel_name
        try:
            specs = kernel_manager.kernel_spec_manager
            assert specs is not None  # always set by jupyter_client
            language = specs.get_kernel_spec(name).language
        except Exception:  # an unknown kernel: the kernel manager says so itself
            language = None
        if language == "python":
            kwargs["extra_arguments"] = [*kwargs.get("extra_arguments", []), f"--ext={__name__}"]
        return await original(*args, **kwargs)

    kernel_manager.start_kernel = start_kernel  # type: ignore[method-assign]
    log.info("Datadive: notebooks record which project file versions their kernels read")
