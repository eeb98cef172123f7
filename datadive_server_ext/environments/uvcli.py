"""Running uv: the admin's package sources as arguments, streamed output, errors explained.

Every call passes ``--no-config`` (a user's ``uv.toml`` cannot add indexes the admin did not
allow) and ``--cache-dir <cache>/uv`` (downloads and built wheels are kept next to the
environments, on the same volume, so uv links files instead of copying them).
"""

from __future__ import annotations

import os
import re
import site
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_LOG_CHARS = 20_000


@dataclass(frozen=True)
class Sources:
    """Where packages may come from and where environments are kept (the admin's settings)."""

    cache_dir: Path
    index_urls: tuple[str, ...] = ("https://pypi.org/simple",)
    find_links: tuple[str, ...] = ()
    python: str = sys.executable
    max_env_mb: float = 2048.0
    timeout: float = 900.0
    #: site-packages folders of the image (the server's environment), first the server's own
    image_site: tuple[str, ...] = field(default_factory=lambda: server_site_packages())
    extra_env: dict[str, str] = field(default_factory=dict)

    def index_args(self) -> list[str]:
        args: list[str] = []
        if self.index_urls:
            args += ["--index-url", self.index_urls[0]]
            for url in self.index_urls[1:]:
                args += ["--extra-index-url", url]
        else:
            args.append("--no-index")
        for link in self.find_links:
            args += ["--find-links", link]
        return args

    def to_json(self) -> dict[str, Any]:
        return {
            "cache_dir": str(self.cache_dir),
            "index_urls": list(self.index_urls),
            "find_links": list(self.find_links),
            "python": self.python,
            "max_env_mb": self.max_env_mb,
            "timeout": self.timeout,
            "image_site": list(self.image_site),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Sources:
        return cls(
            cache_dir=Path(d["cache_dir"]),
            index_urls=tuple(d.get("index_urls", ())),
            find_links=tuple(d.get("find_links", ())),
            python=d.get("python") or sys.executable,
            max_env_mb=float(d.get("max_env_mb", 2048.0)),
            timeout=float(d.get("timeout", 900.0)),
            image_site=tuple(d.get("image_site") or server_site_packages()),
        )


def server_site_packages() -> tuple[str, ...]:
    """This interpreter's site-packages (its environment's first, then the base Python's)."""
    paths = sysconfig.get_paths()
    return tuple(dict.fromkeys([paths["purelib"], paths["platlib"], *site.getsitepackages()]))


def uv_bin() -> str:
    """The uv executable installed with this package (the ``uv`` wheel), else the one on PATH."""
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        return "uv"


class UvFailed(Exception):
    """uv exited with an error; ``log`` is its output."""

    def __init__(self, log: str, returncode: int):
        super().__init__(log[-2000:])
        self.log, self.returncode = log, returncode


def run(
    args: Sequence[str],
    sources: Sources,
    on_line: Callable[[str], None] | None = None,
    cwd: str | None = None,
) -> str:
    """Run ``uv ARGS`` (with the cache and --no-config); its output, or UvFailed."""
    cmd = [
        uv_bin(),
        *args[:2],
        "--no-config",
        "--cache-dir",
        str(sources.cache_dir / "uv"),
        *args[2:],
    ]
    env = {**os.environ, "NO_COLOR": "1", "UV_NO_PROGRESS": "1", **sources.extra_env}
    for var in (
        "UV_INDEX_URL",
        "UV_EXTRA_INDEX_URL",
        "UV_FIND_LINKS",
        "UV_INDEX",
        "UV_DEFAULT_INDEX",
        "PIP_INDEX_URL",
    ):
        env.pop(var, None)  # only the admin's sources
    lines: list[str] = []
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        env=env,
        cwd=cwd,
    )
    assert proc.stdout is not None
    timed_out = threading.Event()

    def stop() -> None:  # also when uv hangs without a word
        timed_out.set()
        proc.kill()

    watchdog = threading.Timer(sources.timeout, stop)
    watchdog.start()
    try:
        for line in proc.stdout:
            lines.append(line)
            if on_line is not None:
                on_line(line.rstrip("\n"))
        rc = proc.wait()
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    if timed_out.is_set():
        lines.append(
            f"error: stopped after {sources.timeout:g} s (DatadiveExtension."
            "environments_build_timeout); try again, or ask your administrator\n"
        )
    log = "".join(lines)[-MAX_LOG_CHARS:]
    if rc != 0:
        raise UvFailed(log, rc)
    return log


_NOT_FOUND = re.compile(
    r"Because ([A-Za-z0-9._-]+) was not found in the (?:package registry|provided package locations)"
)
_NO_VERSION = re.compile(
    r"Because (?:only |there is no version of |there are no versions of )?([A-Za-z0-9._-]+)\s*(?:[<>=!~][^ ]*)? ?(?:is available|==|<|>|\[)"
)
_FAILED_BUILD = re.compile(
    r"Failed to (?:build|download|prepare distributions?)[^`]*`([A-Za-z0-9._-]+)"
)
_NO_SPACE = re.compile(r"No space left on device|Disk quota exceeded", re.I)


def explain(log: str, cache_dir: Path) -> tuple[str, str | None]:
    """(message for the user, the package at fault or None) from uv's output."""
    cause = " ".join(
        ln.strip().removeprefix("error:").removeprefix("cause:").strip()
        for ln in log.splitlines()
        if ln.startswith(("error:", "  cause:"))
    )
    if _NO_SPACE.search(log):
        return (
            f"The environment cache ({cache_dir}) is full: no space left on the device. Ask your "
            "administrator to enlarge the cache volume or to remove old environments; the "
            "previous environment keeps working.",
            None,
        )
    m = _NOT_FOUND.search(log)
    if m:
        pkg = m[1]
        return (
            f"No package named {pkg!r} in the allowed package indexes. Check the spelling (the "
            f"name on pypi.org), or remove {pkg} from requirements.txt. uv said: {cause}",
            pkg,
        )
    m = _FAILED_BUILD.search(log)
    if m:
        pkg = m[1]
        tail = [ln.strip() for ln in log.splitlines() if ln.strip()][-6:]
        return (
            f"{pkg} failed to build from source. Pin a version of {pkg} that has a wheel for this "
            f"server (Python {sys.version_info.major}.{sys.version_info.minor}, Linux), or remove "
            f"it from requirements.txt. The end of the build log: {' | '.join(tail)}",
            pkg,
        )
    if "No solution found" in log:
        m = _NO_VERSION.search(cause)
        pkg = m[1] if m else None
        return (
            "The requirements cannot all be satisfied"
            + (f" (see {pkg})" if pkg else "")
            + f": {cause} Loosen or change the version ranges in requirements.txt.",
            pkg,
        )
    return (f"uv failed: {cause or log.strip()[-500:]}", None)
