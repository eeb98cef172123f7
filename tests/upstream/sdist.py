"""Fetch jupyter_server's own contents tests from the sdist of the installed version.

Nothing of jupyter_server is kept in this repository: at test time the sdist is downloaded once with
``pip download`` into ``.venv/upstream-cache/``, its SHA-256 is checked against ``SDIST_SHA256``
below, and only the files in ``FILES`` are written into ``tests/upstream/fetched/`` (git-ignored),
with the fixtures listed in ``DROPPED_FIXTURES`` removed (they select FileContentsManager; our
conftest provides DatadiveContentsManager instead).

A new jupyter_server version: run ``python tests/upstream/sdist.py --hash`` once, check the printed
hash against PyPI's page for that release, and add it to ``SDIST_SHA256``.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CACHE = ROOT / ".venv" / "upstream-cache"
TARGET = HERE / "fetched"

#: jupyter_server version → SHA-256 of its sdist (jupyter_server-<version>.tar.gz on PyPI)
SDIST_SHA256 = {
    "2.21.1": "a8960aa29263f6041283e97d4756b099fb49b767baab6371891ecb1bd40a63df",
}

#: files taken from the sdist (paths inside its tests/ folder)
FILES = (
    "utils.py",
    "services/__init__.py",
    "services/contents/__init__.py",
    "services/contents/test_manager.py",
    "services/contents/test_api.py",
)

#: module-level fixtures removed from a fetched file, and why
DROPPED_FIXTURES = {
    "services/contents/test_manager.py": {
        "jp_contents_manager": "parametrized over FileContentsManager; conftest.py gives ours",
    },
    "services/contents/test_api.py": {
        "jp_argv": "selects FileContentsManager on the command line; conftest.py configures ours",
    },
}

#: upstream imports its sample tree from its own tests/conftest.py; ours is tests/upstream/conftest.py
IMPORTS = {"from tests.conftest import dirs": "from ....conftest import dirs"}


class FetchError(RuntimeError):
    """The sdist could not be downloaded or does not match its pinned hash."""


def installed_version() -> str:
    return importlib.metadata.version("jupyter_server")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def download(version: str) -> Path:
    """The cached sdist of ``version`` (downloaded with pip when missing)."""
    sdist = CACHE / f"jupyter_server-{version}.tar.gz"
    if sdist.exists():
        return sdist
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        # --no-binary only for jupyter_server: its build backend (needed by pip to read the
        # sdist's metadata) may come as a wheel, which takes seconds instead of minutes
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            "jupyter_server",
            "--disable-pip-version-check",
            "-d",
            tmp,
            f"jupyter_server=={version}",
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        got = Path(tmp) / sdist.name
        if proc.returncode or not got.exists():
            said = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.startswith("ERROR")]
            tail = "\n".join(said[-3:] or (proc.stdout + proc.stderr).strip().splitlines()[-3:])
            raise FetchError(
                f"could not download the jupyter_server {version} sdist ({' '.join(cmd[2:])}); "
                f"is the package index reachable? pip said:\n{tail}"
            )
        os.replace(got, sdist)
    return sdist


def verified_sdist(version: str) -> Path:
    if version not in SDIST_SHA256:
        raise FetchError(
            f"jupyter_server {version} is installed but tests/upstream/sdist.py pins no sdist hash "
            f"for it: run `python tests/upstream/sdist.py --hash`, check the hash against PyPI "
            f"and add it to SDIST_SHA256"
        )
    sdist = download(version)
    got = sha256(sdist)
    if got != SDIST_SHA256[version]:
        sdist.unlink()
        raise FetchError(
            f"{sdist.name} has SHA-256 {got}, expected {SDIST_SHA256[version]} (pinned in "
            f"tests/upstream/sdist.py); the download was removed, nothing was extracted"
        )
    return sdist


def drop_fixtures(source: str, names: dict[str, str], where: str) -> str:
    """``source`` without the top-level functions ``names`` (decorators included)."""
    lines = source.splitlines(keepends=True)
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name in names:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            found[node.name] = (first, node.end_lineno)
    missing = set(names) - set(found)
    if missing:
        raise FetchError(f"{where}: fixtures {sorted(missing)} not found; update DROPPED_FIXTURES")
    for name, (first, last) in sorted(found.items(), key=lambda kv: -kv[1][0]):
        lines[first - 1 : last] = [
            f"# {name}: removed by tests/upstream/sdist.py ({names[name]})\n"
        ]
    return "".join(lines)


def rewrite_imports(source: str) -> str:
    for old, new in IMPORTS.items():
        source = "\n".join(new if line == old else line for line in source.split("\n"))
    return source


def sample_tree(sdist: Path, version: str) -> list[tuple[str, str]]:
    """Upstream's sample tree (``dirs`` in its tests/conftest.py): (folder, name) pairs."""
    with tarfile.open(sdist) as tar:
        member = tar.extractfile(f"jupyter_server-{version}/tests/conftest.py")
        tree = ast.parse(member.read().decode())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", "") for t in node.targets] == [
            "dirs"
        ]:
            return [tuple(pair) for pair in ast.literal_eval(node.value)]
    raise FetchError("upstream tests/conftest.py has no `dirs` sample tree any more")


def _write_if_changed(path: Path, text: str) -> None:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def fetch(version: str | None = None) -> list[tuple[str, str]]:
    """Write the upstream tests into ``fetched/``; return upstream's sample tree."""
    version = version or installed_version()
    sdist = verified_sdist(version)
    prefix = f"jupyter_server-{version}/"
    texts = {"__init__.py": "", "LICENSE": ""}
    with tarfile.open(sdist) as tar:
        texts["LICENSE"] = tar.extractfile(prefix + "LICENSE").read().decode()
        for rel in FILES:
            source = tar.extractfile(f"{prefix}tests/{rel}").read().decode()
            if rel in DROPPED_FIXTURES:
                source = drop_fixtures(source, DROPPED_FIXTURES[rel], rel)
            texts[rel] = rewrite_imports(source)
    head = f"# fetched from the jupyter_server {version} sdist by tests/upstream/sdist.py; do not edit\n"
    for rel, text in texts.items():
        _write_if_changed(TARGET / rel, head + text if rel.endswith(".py") and text else text)
    return sample_tree(sdist, version)


if __name__ == "__main__":
    v = installed_version()
    if sys.argv[1:] == ["--hash"]:
        print(f'"{v}": "{sha256(download(v))}",')
    else:
        fetch(v)
        print(f"jupyter_server {v} tests written to {TARGET}")
