"""The user image's Python environment, built without Docker from ``images/singleuser/Dockerfile``.

``build(wheel_dir)`` reads the Dockerfile and does what it does, in a fresh virtual environment
standing for the image's ``${CONDA_DIR}``:

- ``COPY <repo files> /tmp/...`` records where each build-context file lands, so the ``RUN pip
  install ...`` command runs with the same arguments (same constraints and requirement files, the
  datadive wheel from ``wheel_dir`` standing for ``dist/``), in a venv created with
  ``python -m venv`` (no system site-packages: nothing from the test environment leaks in);
- ``COPY <repo files> ${CONDA_DIR}/...`` copies the image's configuration into the venv at the
  same place (``etc/jupyter/``, ``share/jupyter/lab/settings/``), where Jupyter finds it as it does
  in the image (``sys.prefix``).

The installed environment is cached in ``.venv/image-env/<key>`` (key: the Dockerfile, every file
its pip command reads, ``pyproject.toml`` and the Python version); a cached one gets the freshly
built wheel reinstalled (``--no-deps``) and the configuration files copied again. ``pip check``
runs every time. The only departures from the Dockerfile: the test environment's pip runs the
install (``pip --python``), with ``--no-compile`` (bytecode is then written at first import).
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "images" / "singleuser" / "Dockerfile"
CACHE = REPO / ".venv" / "image-env"
CONDA_DIR = "${CONDA_DIR}"
CONFIG_MANIFEST = ".image-config-files.json"


@dataclass
class Dockerfile:
    """What the Dockerfile copies and the pip commands it runs, in order."""

    context_copies: dict[str, str] = field(default_factory=dict)  # image path -> repo path
    prefix_copies: list[tuple[str, str]] = field(default_factory=list)  # (repo path, prefix rel)
    pip_installs: list[list[str]] = field(default_factory=list)

    @classmethod
    def parse(cls, path: Path = DOCKERFILE) -> Dockerfile:
        out = cls()
        text = path.read_text()
        logical, current = [], ""
        for line in text.splitlines():
            if line.lstrip().startswith("#") and not current:
                continue
            if line.rstrip().endswith("\\"):
                current += line.rstrip()[:-1] + " "
                continue
            current += line
            if current.strip():
                logical.append(current.strip())
            current = ""
        for instruction in logical:
            word, _, rest = instruction.partition(" ")
            word = word.upper()
            if word == "COPY":
                args = [a for a in shlex.split(rest) if not a.startswith("--")]
                *sources, dest = args
                for src in sources:
                    if dest.startswith(CONDA_DIR + "/"):
                        rel = dest[len(CONDA_DIR) + 1 :]
                        out.prefix_copies.append((src, rel))
                    else:
                        target = dest
                        if dest.endswith("/") and not src.endswith("/"):
                            target = dest + Path(src).name
                        out.context_copies[target] = src
            elif word == "RUN":
                for command in rest.split("&&"):
                    words = shlex.split(command)
                    if words[:2] == ["pip", "install"]:
                        out.pip_installs.append(words[2:])
        return out

    def local_args(self, args: list[str], wheel_dir: Path) -> list[str]:
        """``pip install`` arguments with image paths replaced by the build-context files."""
        out = []
        for arg in args:
            for image_path, src in sorted(self.context_copies.items(), key=lambda kv: -len(kv[0])):
                if arg == image_path or arg.startswith(image_path.rstrip("/") + "/"):
                    local = REPO / src
                    if src.rstrip("/") == "dist":
                        local = wheel_dir  # dist/: the wheel built from this source tree
                    arg = str(local) + arg[len(image_path.rstrip("/")) :]
                    break
            if any(ch in arg for ch in "*?["):
                matches = sorted(glob.glob(arg))
                if len(matches) != 1:
                    raise AssertionError(f"{arg} matches {matches}, expected one file")
                arg = matches[0]
            out.append(arg)
        return out

    def files_read_by_pip(self) -> list[Path]:
        files = []
        for args in self.pip_installs:
            for opt, value in zip(args, args[1:], strict=False):
                if opt in ("-c", "-r", "--constraint", "--requirement"):
                    files.append(REPO / self.context_copies[value])
        return files


@dataclass
class ImageEnv:
    prefix: Path
    python: Path
    dockerfile: Dockerfile
    built_now: bool
    seconds: float

    @property
    def bin(self) -> Path:
        return self.prefix / "bin"

    def clean_env(self, **extra: str) -> dict:
        """A process environment like the image's: this venv first on PATH, nothing else."""
        env = {
            "PATH": f"{self.bin}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.prefix / "home"),
            "LANG": "C.UTF-8",
        }
        env.update(extra)
        return env

    def run(self, *cmd: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            list(cmd),
            env=self.clean_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.prefix,
        )


def _pip(python: Path, *args: str, timeout: float = 900) -> None:
    """The test environment's pip acting on ``python``'s environment (``pip --python``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    r = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if r.returncode != 0:
        noise = ("WARNING: Location", "Looking in")
        out = "\n".join(
            line for line in (r.stdout + r.stderr).splitlines() if not line.startswith(noise)
        )
        raise AssertionError(f"pip {' '.join(args[:2])} ... failed (exit {r.returncode}):\n{out}")


def _key(dockerfile: Dockerfile) -> str:
    h = hashlib.sha256()
    for path in [DOCKERFILE, *dockerfile.files_read_by_pip(), REPO / "pyproject.toml"]:
        h.update(path.read_bytes())
    h.update(sys.version.encode())
    return h.hexdigest()[:16]


def base_python() -> str:
    """The interpreter behind the test environment (``python -m venv`` from it; no venv chain)."""
    return getattr(sys, "_base_executable", None) or sys.executable


def build(wheel_dir: Path) -> ImageEnv:
    import time

    started = time.monotonic()
    dockerfile = Dockerfile.parse()
    if not dockerfile.pip_installs:
        raise AssertionError(f"{DOCKERFILE} runs no `pip install`")
    CACHE.mkdir(parents=True, exist_ok=True)
    prefix = CACHE / _key(dockerfile)
    python = prefix / "bin" / "python"
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another pytest process may be building it
        built_now = False
        if not (prefix / ".complete").exists():
            for old in CACHE.iterdir():  # one cached environment is enough (each is ~1 GB)
                if old.is_dir():
                    shutil.rmtree(old)
            subprocess.run(
                [base_python(), "-m", "venv", "--without-pip", str(prefix)],
                check=True,
                timeout=120,
            )
            for args in dockerfile.pip_installs:
                # --no-compile: bytecode is written at first import instead (half the time)
                _pip(python, "install", "--no-compile", *dockerfile.local_args(args, wheel_dir))
            (prefix / ".complete").write_text("pip install done\n")
            built_now = True
        else:  # the dependencies are current (same key): bring in this source tree's wheel
            wheels = [
                a
                for args in dockerfile.pip_installs
                for a in dockerfile.local_args(args, wheel_dir)
                if a.endswith(".whl")
            ]
            _pip(python, "install", "--no-compile", "--no-deps", "--force-reinstall", *wheels)
        _copy_config(dockerfile, prefix)
        _pip(python, "check")
    return ImageEnv(prefix, python, dockerfile, built_now, time.monotonic() - started)


def _copy_config(dockerfile: Dockerfile, prefix: Path) -> None:
    """The Dockerfile's ``COPY ... ${CONDA_DIR}/...`` lines, into the venv (files copied last
    time are removed first, so a file deleted from the repository is gone here too)."""
    manifest = prefix / CONFIG_MANIFEST
    if manifest.exists():
        for rel in json.loads(manifest.read_text()):
            (prefix / rel).unlink(missing_ok=True)
    copied = []
    for src, rel in dockerfile.prefix_copies:
        source = REPO / src
        target = prefix / rel
        if source.is_dir():
            for f in sorted(p for p in source.rglob("*") if p.is_file()):
                dest = target / f.relative_to(source)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(f, dest)
                copied.append(str(dest.relative_to(prefix)))
        else:
            dest = target / source.name if rel.endswith("/") else target
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
            copied.append(str(dest.relative_to(prefix)))
    manifest.write_text(json.dumps(copied))
