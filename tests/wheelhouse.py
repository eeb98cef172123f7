"""Tiny packages written at test time into a folder uv installs from (``--find-links``), so the
environment tests and ``benchmarks/environments.py`` never reach a package registry.

``make_wheelhouse(folder)`` writes: tinypkg 1.0 and 2.0 (``tinypkg.__version__``), tinytop 1.0
(depends on tinydep>=1), tinydep 1.0, tinybroken 1.0 (an sdist whose build always fails, with a
message naming itself) and purepkg1..purepkg5 1.0 (pure Python, for the benchmark).
"""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import zipfile
from pathlib import Path


def wheel(
    folder: Path, name: str, version: str, requires: tuple[str, ...] = (), code: str = ""
) -> Path:
    """A pure-Python wheel ``name-version-py3-none-any.whl`` with a module ``name``."""
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f'__version__ = "{version}"\n{code}',
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        + "".join(f"Requires-Dist: {r}\n" for r in requires),
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: datadive-tests\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    files[f"{dist}/RECORD"] = "\n".join([*record, f"{dist}/RECORD,,"]) + "\n"
    out = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(out, "w") as z:
        for path, text in files.items():
            z.writestr(path, text)
    return out


def broken_sdist(folder: Path, name: str, version: str) -> Path:
    """An sdist whose in-tree build backend (no build requirements: works offline) fails."""
    base = f"{name}-{version}"
    files = {
        "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "backend"\n'
        f'backend-path = ["."]\n[project]\nname = "{name}"\nversion = "{version}"\n',
        "backend.py": "def build_wheel(*args, **kwargs):\n"
        f"    raise RuntimeError('{name} needs a C compiler that is not installed')\n",
        "PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
    }
    out = folder / f"{base}.tar.gz"
    with tarfile.open(out, "w:gz") as tar:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{base}/{path}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


PURE = tuple(f"purepkg{i}" for i in range(1, 6))


def make_wheelhouse(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    wheel(folder, "tinypkg", "1.0")
    wheel(folder, "tinypkg", "2.0")
    wheel(folder, "tinydep", "1.0")
    wheel(folder, "tinytop", "1.0", requires=("tinydep>=1",))
    broken_sdist(folder, "tinybroken", "1.0")
    for name in PURE:  # some bulk, as a small real package has
        body = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(300))
        wheel(folder, name, "1.0", code=body)
    return folder
