"""``%pip install`` in a project kernel: recorded in the project, there after a restart.

Loaded into project kernels by :mod:`.launch` (IPython extension). ``%pip install NAME[SPEC]...``
adds the packages to the project's ``requirements.txt``, re-locks with uv, builds the
environment of the new lock (from the shared cache when another project has it) and puts it
first on this kernel's ``sys.path``, so the package imports right away; then it writes the lock
and the requirements into the project folder (the server uploads them like any file a kernel
writes). The environment the kernel started in is never changed: it may be shared with other
projects. When resolving or building fails, nothing is written and the message says why.
Other ``%pip`` commands (``list``, ``show``...) run pip as usual.
"""

from __future__ import annotations

import importlib
import os
import shlex
import sys
import sysconfig
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from . import spec
from .build import BuildError, EnvironmentCache
from .kernelspec import read_json, write_json
from .lock import LockError, compile_lock
from .uvcli import Sources

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

STATE_ENV = "DATADIVE_ENV_STATE"
#: options of ``pip install`` that change nothing we record
HARMLESS = {"-q", "--quiet", "-U", "--upgrade", "--no-input", "--progress-bar=off"}


def install(line: str, state_file: Path, out: Callable[[str], object] = print) -> bool:
    """Record and install the packages of ``%pip install LINE``; False when nothing changed."""
    args = shlex.split(line)[1:]
    options = [a for a in args if a.startswith("-")]
    wanted = [a for a in args if not a.startswith("-")]
    odd = [o for o in options if o not in HARMLESS]
    if odd or not wanted:
        out(
            f"Datadive: %pip install here takes package names and version ranges only (not "
            f"{' '.join(odd) or 'nothing'}); e.g. %pip install 'semopy>=2.3'. Packages come from "
            "the indexes your administrator allows."
        )
        return False
    state = read_json(state_file)
    project_dir = Path(state.get("project_dir", ""))
    sources = Sources.from_json(state.get("sources") or {"cache_dir": ""})
    req_file, lock_file = project_dir / spec.REQUIREMENTS, project_dir / spec.LOCK
    try:
        old = req_file.read_text(encoding="utf-8") if req_file.exists() else ""
        new = old
        for item in wanted:
            new = spec.add_package(new, item)[0]
        out(f"Datadive: resolving {', '.join(wanted)} with the project's requirements...")
        lock = compile_lock(new, sources)
        built = EnvironmentCache(sources).build(lock)
    except (spec.SpecError, LockError, BuildError) as e:
        out(
            f"Datadive: nothing installed, nothing recorded: {e.message if hasattr(e, 'message') else e}"
        )
        return False
    use(built.path)
    writable = state.get("writable", True)
    if writable:
        lock_file.write_text(lock, encoding="utf-8")
        req_file.write_text(new, encoding="utf-8")
    state.update(env_key=built.key, built_at=time.time(), last_error=None)
    write_json(state_file, state)
    what = ", ".join(str(spec.parse_requirement(w)) for w in wanted)
    if writable:
        out(
            f"Datadive: installed {what} in the project environment and recorded it in "
            f"{spec.REQUIREMENTS} and {spec.LOCK} (there after a restart, and for the other "
            "members). Restart the kernel if you upgraded a package you had already imported."
        )
    else:
        out(
            f"Datadive: installed {what} for this kernel only: you are a viewer of the project, "
            f"so {spec.REQUIREMENTS} was not changed; ask an editor to add it."
        )
    return True


def use(env: Path) -> None:
    """Put ``env``'s site-packages first on sys.path (the running kernel imports from it)."""
    site_dir = sysconfig.get_path("purelib", vars={"base": str(env), "platbase": str(env)})
    if site_dir in sys.path:
        sys.path.remove(site_dir)
    sys.path.insert(1 if sys.path and sys.path[0] == "" else 0, site_dir)
    importlib.invalidate_caches()


def load_ipython_extension(ipython: InteractiveShell) -> None:
    state = os.environ.get(STATE_ENV)
    if not state:
        return
    original = ipython.find_line_magic("pip")  # type: ignore[no-untyped-call]

    def pip(line: str) -> object:
        if line.split()[:1] == ["install"]:
            install(line, Path(state))
            return None
        return original(line) if original else None

    pip.__doc__ = __doc__
    # functools.wraps on this IPython method hides that it is bound (self is not a parameter)
    ipython.register_magic_function(pip, "line", "pip")  # type: ignore[arg-type]
