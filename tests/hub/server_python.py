"""A Python for user servers that every account can run (for ``datadive up`` run as root).

When this environment's interpreter cannot be run by another account (here: the venv's Python
lives under /root, mode 0700), an equivalent one is made: a venv of a readable interpreter of the
same minor version whose site-packages load this environment's (a ``.pth`` file) and whose
``share``/``etc`` are this environment's (labextensions, server extension config). Run as a
script, it prints the path (``DATADIVE_SERVER_PYTHON=$(python tests/hub/server_python.py)``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

NOBODY = 65534
CHECK = "import jupyterhub.singleuser, ipykernel, datadive_server_ext, datadive_contents"


def runs_as_nobody(python: str) -> str | None:
    """None if an unprivileged account can run ``python`` and import the user server, else why."""
    env = {k: os.environ[k] for k in ("PATH", "PYTHONPATH") if k in os.environ}
    try:
        out = subprocess.run(
            [python, "-c", CHECK],
            cwd="/",
            env={**env, "HOME": "/"},
            user=NOBODY,
            group=NOBODY,
            extra_groups=[],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except OSError as e:
        return str(e)
    return None if out.returncode == 0 else (out.stderr.strip().splitlines() or ["?"])[-1]


def reachable_python() -> tuple[str | None, str]:
    """(path, how) of a Python every account can run with this environment's packages, or
    (None, why not)."""
    if runs_as_nobody(sys.executable) is None:
        return sys.executable, "this environment's Python"
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidates = (f"/usr/bin/{version}", f"/usr/local/bin/{version}")
    base = next((p for p in candidates if os.path.exists(p)), None)
    if base is None:
        return None, (
            f"{sys.executable} cannot be run by another account and no readable {version} "
            "exists to stand in for it"
        )
    key = hashlib.sha256(f"{sys.prefix}:{base}".encode()).hexdigest()[:10]
    env = Path(tempfile.gettempdir()) / f"datadive-server-python-{key}"
    python = env / "bin" / "python"
    if not python.exists():
        tmp = Path(tempfile.mkdtemp(prefix=env.name + "-", dir=env.parent))
        subprocess.run([base, "-m", "venv", "--without-pip", str(tmp)], check=True)
        site = Path(sysconfig.get_path("purelib", vars={"base": str(tmp), "platbase": str(tmp)}))
        ours = sysconfig.get_path("purelib")
        (site / "datadive-shared-env.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
        for shared in ("share", "etc"):
            if (Path(sys.prefix) / shared).exists():
                (tmp / shared).symlink_to(Path(sys.prefix) / shared)
        for d in [tmp, *tmp.rglob("*")]:
            if d.is_dir() and not d.is_symlink():
                d.chmod(0o755)
        try:
            tmp.rename(env)
        except OSError:  # made meanwhile by another run
            shutil.rmtree(tmp, ignore_errors=True)
    why = runs_as_nobody(str(python))
    if why:
        return None, f"the stand-in {python} cannot import the user server: {why}"
    return str(python), f"{python} (a venv of {base} loading this environment's packages)"


if __name__ == "__main__":
    path, how = reachable_python()
    if not path:
        sys.exit(how)
    print(path)
