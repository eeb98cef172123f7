"""Notebooks of a project start with the project's kernel by default.

The server's kernel manager is wrapped: a kernel asked for with the default kernel name (what a
notebook made with "Python 3" asks for) in a project folder whose environment has a registered
kernel starts as that project kernel instead; any other kernel name (R, another project's kernel)
starts as asked. Off with ``DatadiveExtension.environments_project_kernel_by_default = False``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jupyter_server.services.contents.manager import ContentsManager
    from jupyter_server.services.kernels.kernelmanager import MappingKernelManager

from .kernelspec import kernel_name


def project_identity(cm: ContentsManager, folder: str) -> tuple[str, str]:
    """(project id, project name) of the project shown at ``folder`` ("" = the single root)."""
    mount = cm.project_at(folder) if hasattr(cm, "project_at") else None
    pid = getattr(mount, "project_id", None) or (folder or "root")
    name = getattr(mount, "name", None) or folder or os.path.basename(os.path.abspath(cm.root_dir))
    return str(pid), str(name)


def project_kernel(cm: ContentsManager, kernels_dir: Path, path: str) -> str | None:
    """The registered project kernel for a kernel started at API path ``path``, or None."""
    path = (path or "").strip("/")
    folder = path.split("/", 1)[0] if getattr(cm, "datadive_mode", False) else ""
    if getattr(cm, "datadive_mode", False) and not folder:
        return None
    name = kernel_name(project_identity(cm, folder)[0])
    return name if (kernels_dir / name / "kernel.json").is_file() else None


def install(
    kernel_manager: MappingKernelManager,
    cm: ContentsManager,
    kernels_dir: Path,
    log: logging.Logger,
) -> None:
    original = kernel_manager.start_kernel

    async def start_kernel(*args: Any, **kwargs: Any) -> str:
        asked = kwargs.get("kernel_name")
        default = getattr(kernel_manager, "default_kernel_name", "python3")
        if asked in (None, "", default) and kwargs.get("path") is not None:
            chosen = project_kernel(cm, kernels_dir, kwargs["path"])
            if chosen:
                log.info("Datadive: %s starts with the project kernel %s", kwargs["path"], chosen)
                kwargs["kernel_name"] = chosen
        kernel_id: str = await original(*args, **kwargs)
        return kernel_id

    # wraps this manager's method on the instance (the class stays as jupyter_server made it)
    kernel_manager.start_kernel = start_kernel  # type: ignore[method-assign]
