"""Build a project's environment from its lock, cached by the lock's hash.

An environment is a virtual environment made by ``uv venv --system-site-packages`` plus a
``.pth`` file naming the server's own site-packages, so everything the image has stays
importable while what the project installs comes first on ``sys.path`` (the project's versions
win). It is filled with ``uv pip sync`` from the lock, leaving out pins the image already has at
exactly the locked version. Environments live in ``<cache_dir>/envs/<key>``, where the key
hashes the lock's pins and the interpreter: projects (and users sharing the cache) with the same
lock share one environment. A build happens in a temporary folder that is renamed into place
only when complete (uv makes the environment relocatable), so a half-built environment is never
used; a failed build removes its folder and leaves every other environment as it was.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import platform
import secrets
import shutil
import sysconfig
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from . import spec
from .uvcli import Sources, UvFailed, explain, run

MARKER = "datadive-env.json"
BASE_PTH = "_datadive_image_packages.pth"

Phase = Callable[[str, float], None]
OnLine = Callable[[str], None]


class BuildError(Exception):
    """The environment could not be built; ``message`` names the package and the fix."""

    def __init__(self, message: str, package: str | None = None, log: str = "") -> None:
        super().__init__(message)
        self.message, self.package, self.log = message, package, log


@dataclass
class Built:
    key: str
    path: Path
    cached: bool
    seconds: float
    installed: list[str] = field(default_factory=list)
    from_image: list[str] = field(default_factory=list)
    size_mb: float = 0.0

    @property
    def python(self) -> str:
        return str(self.path / "bin" / "python")


def env_key(pins: list[spec.Pin], sources: Sources) -> str:
    """Hash of the lock's pins, the interpreter and the image (the server's environment)."""
    basis = "\n".join(
        [
            spec.lock_digest(pins),
            os.path.realpath(sources.python),
            platform.python_version(),
            *sources.image_site,
        ]
    )
    return hashlib.sha256(basis.encode()).hexdigest()[:24]


def image_packages(folders: tuple[str, ...]) -> dict[str, str]:
    """name → version of the distributions in the server's site-packages (the image's), read
    from the ``*.dist-info`` folder names: a directory listing, not hundreds of metadata files."""
    out: dict[str, str] = {}
    for folder in folders:
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for entry in names:
            stem, dot, kind = entry.rpartition(".")
            if kind not in ("dist-info", "egg-info") or "-" not in stem:
                continue
            name, _, version = stem.partition("-")
            out.setdefault(canonicalize_name(name), version.split("-")[0])
    return out


def same_version(have: str | None, pinned: str) -> bool:
    try:
        return have is not None and Version(have) == Version(pinned)
    except InvalidVersion:
        return have == pinned


def applies(pin: spec.Pin) -> bool:
    return pin.marker is None or Marker(pin.marker).evaluate()


class EnvironmentCache:
    """The environments under ``<sources.cache_dir>/envs``."""

    def __init__(self, sources: Sources) -> None:
        self.sources = sources
        self.root = sources.cache_dir / "envs"

    def path(self, key: str) -> Path:
        return self.root / key

    def ready(self, key: str) -> bool:
        return (self.path(key) / MARKER).is_file()

    def key_of(self, lock_text: str) -> str:
        return env_key(self._pins(lock_text), self.sources)

    def _pins(self, lock_text: str) -> list[spec.Pin]:
        try:
            return spec.parse_lock(lock_text)
        except spec.SpecError as e:
            raise BuildError(e.message, e.package) from None

    @contextmanager
    def _locked(self, key: str) -> Iterator[None]:
        locks = self.sources.cache_dir / "locks"
        locks.mkdir(parents=True, exist_ok=True)
        with open(locks / f"{key}.lock", "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)  # another server sharing the cache may build it now
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def build(
        self,
        lock_text: str,
        on_line: OnLine | None = None,
        on_phase: Phase | None = None,
    ) -> Built:
        """The environment of ``lock_text``: from the cache, or built now (BuildError)."""
        started = time.monotonic()
        pins = self._pins(lock_text)
        key = env_key(pins, self.sources)
        phase = on_phase or (lambda name, fraction: None)
        if self.ready(key):
            return self.cached(key, started)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with self._locked(key):
                if self.ready(key):
                    return self.cached(key, started)
                return self._build(key, pins, started, on_line, phase)
        except OSError as e:
            if e.errno in (errno.ENOSPC, errno.EDQUOT):
                raise BuildError(
                    f"The environment cache ({self.sources.cache_dir}) is full: {e.strerror}. Ask "
                    "your administrator to enlarge the cache volume or remove old environments; "
                    "the previous environment keeps working."
                ) from None
            raise BuildError(
                f"Could not write the environment cache ({e}); ask your administrator"
            ) from None

    def cached(self, key: str, started: float | None = None) -> Built:
        """The built environment ``key`` (it must be ready)."""
        started = time.monotonic() if started is None else started
        info = json.loads((self.path(key) / MARKER).read_text())
        return Built(
            key,
            self.path(key),
            True,
            time.monotonic() - started,
            info.get("installed", []),
            info.get("from_image", []),
            info.get("size_mb", 0.0),
        )

    def _build(
        self, key: str, pins: list[spec.Pin], started: float, on_line: OnLine | None, phase: Phase
    ) -> Built:
        tmp = self.root / f".building-{key}-{secrets.token_hex(4)}"
        try:
            phase("creating the environment", 0.05)
            self._uv(
                [
                    "venv",
                    str(tmp),
                    "--relocatable",
                    "--system-site-packages",
                    "--python",
                    self.sources.python,
                ],
                on_line,
            )
            site_dir = Path(
                sysconfig.get_path("purelib", vars={"base": str(tmp), "platbase": str(tmp)})
            )
            site_dir.mkdir(parents=True, exist_ok=True)
            (site_dir / BASE_PTH).write_text("".join(f"{p}\n" for p in self.sources.image_site))
            have = image_packages(self.sources.image_site)
            wanted = [p for p in pins if applies(p)]
            from_image = [p.line() for p in wanted if same_version(have.get(p.name), p.version)]
            install = [p for p in wanted if not same_version(have.get(p.name), p.version)]
            phase("installing packages", 0.2)
            if install:
                (tmp / "datadive-sync.txt").write_text("".join(p.line() + "\n" for p in install))
                count = {"n": 0}

                def line(text: str) -> None:
                    if text.lstrip().startswith(("+ ", "Prepared", "Building", "Downloading")):
                        count["n"] += 1
                        phase(
                            "installing packages",
                            min(0.9, 0.2 + 0.7 * count["n"] / (len(install) + 2)),
                        )
                    if on_line:
                        on_line(text)

                self._uv(
                    [
                        "pip",
                        "sync",
                        str(tmp / "datadive-sync.txt"),
                        "--python",
                        str(tmp / "bin" / "python"),
                        "--link-mode",
                        "hardlink",
                        *self.sources.index_args(),
                    ],
                    line,
                )
                (tmp / "datadive-sync.txt").unlink()
            phase("checking the size", 0.92)
            size_mb = folder_mb(tmp)
            if size_mb > self.sources.max_env_mb:
                raise BuildError(
                    f"The environment would take {size_mb:.0f} MB, more than the "
                    f"{self.sources.max_env_mb:g} MB allowed (largest: {largest(site_dir)}). Remove "
                    "large packages from requirements.txt, or ask your administrator to raise "
                    "DatadiveExtension.environments_max_size_mb."
                )
            seconds = time.monotonic() - started
            info: dict[str, Any] = {
                "key": key,
                "installed": [p.line() for p in install],
                "from_image": from_image,
                "size_mb": round(size_mb, 1),
                "python": self.sources.python,
                "built_at": time.time(),
                "seconds": round(seconds, 3),
            }
            (tmp / MARKER).write_text(json.dumps(info, indent=1))
            try:
                os.rename(tmp, self.path(key))
            except OSError:
                if not self.ready(key):  # nobody else finished it: a real error
                    raise
            phase("done", 1.0)
            return Built(
                key, self.path(key), False, seconds, info["installed"], from_image, size_mb
            )
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    def _uv(self, args: list[str], on_line: OnLine | None) -> str:
        try:
            return run(args, self.sources, on_line)
        except UvFailed as e:
            message, package = explain(e.log, self.sources.cache_dir)
            raise BuildError(message, package, e.log) from None


def folder_mb(folder: Path) -> float:
    """Size of the files under ``folder`` (symlinks not followed), in MB."""
    total = 0
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total / 1e6


def largest(site: Path) -> str:
    sizes = sorted(((folder_mb(p), p.name) for p in site.iterdir() if p.is_dir()), reverse=True)
    return ", ".join(f"{name} {mb:.0f} MB" for mb, name in sizes[:3]) or "nothing installed"
