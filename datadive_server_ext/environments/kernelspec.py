"""The "Python (<project>)" kernel of a project and the state file its launcher reads.

The kernelspec does not name an environment directly: it runs :mod:`.launch` with the
project's state file, which picks the environment of the project's lock at kernel start (so a
lock another member changed is used at the next kernel start) and falls back to the last
environment that built.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_data_dir

PREFIX = "datadive-env-"


def safe_id(project_id: str) -> str:
    """A file-name-safe form of a project id (unusual ids are hashed)."""
    if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", project_id):
        return project_id.lower()
    return hashlib.sha256(project_id.encode()).hexdigest()[:32]


def kernel_name(project_id: str) -> str:
    return PREFIX + safe_id(project_id)


def default_kernels_dir() -> Path:
    return Path(jupyter_data_dir()) / "kernels"


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def install(kernels_dir: Path, project_id: str, project_name: str, state_file: Path) -> Path:
    """Register (or refresh) the project's kernel; returns its folder."""
    folder = kernels_dir / kernel_name(project_id)
    spec = {
        "argv": [
            sys.executable,
            "-m",
            "datadive_server_ext.environments.launch",
            str(state_file),
            "-f",
            "{connection_file}",
        ],
        "display_name": f"Python ({project_name})",
        "language": "python",
        "metadata": {"datadive": {"project_id": project_id}, "debugger": True},
    }
    write_json(folder / "kernel.json", spec)
    return folder


def remove(kernels_dir: Path, project_id: str) -> None:
    folder = kernels_dir / kernel_name(project_id)
    for name in ("kernel.json",):
        try:
            (folder / name).unlink()
        except FileNotFoundError:
            pass
    try:
        folder.rmdir()
    except OSError:
        pass
