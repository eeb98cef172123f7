"""A project's requirements file and lock file: their format, validation and edits.

``requirements.txt`` (at the project's top) lists what the project asks for, one package per
line: a name, optional extras, an optional version range and an optional environment marker
(PEP 508), e.g. ``semopy>=2.3`` or ``factor_analyzer==0.5.1``. Comments (``#``) and blank lines
are kept. URLs, local paths and pip options are refused: packages come only from the indexes the
hub admin allows. ``requirements.lock`` is what uv resolved from it: ``name==version`` pins (with
uv's ``# via`` comments), and a first line that records the hash of the requirements it was
resolved from, so a stale lock is recognised.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

#: file names at the top of a project (see docs/environments.md for why these names)
REQUIREMENTS = "requirements.txt"
LOCK = "requirements.lock"

MAX_FILE_BYTES = 64 * 1024
MAX_PACKAGES = 300
EXAMPLE = "e.g. 'semopy>=2.3' or 'factor_analyzer==0.5.1'"
LOCK_HEADER = "# Locked by Datadive with uv from requirements.txt (sha256 {digest})."
_HEADER_RE = re.compile(
    r"^# Locked by Datadive with uv from requirements\.txt \(sha256 ([0-9a-f]{64})\)\."
)
_PIN_RE = re.compile(
    r"^(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?:\[[^\]]*\])?"
    r"\s*==\s*(?P<version>[^\s;\\]+)\s*(?:;\s*(?P<marker>[^\\]+?))?\s*(?P<cont>\\)?$"
)


class SpecError(ValueError):
    """Bad requirements or lock; ``str()`` says what is wrong and what to do."""

    def __init__(self, message: str, package: str | None = None):
        super().__init__(message)
        self.message = message
        self.package = package


def requirements_digest(text: str) -> str:
    """sha256 of the requirements as parsed (comments and spacing do not count)."""
    lines = sorted(str(r) for r in parse_requirements(text))
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _check_size(text: str, what: str) -> None:
    if len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
        raise SpecError(
            f"{what} is larger than {MAX_FILE_BYTES // 1024} KB; list only the packages"
        )


def parse_requirement(line: str, where: str = "") -> Requirement:
    """One requirement line → Requirement, or SpecError naming the line and the fix."""
    text = line.strip()
    at = f"{where}: " if where else ""
    if not text:
        raise SpecError(f"{at}give a package name and optional version range, {EXAMPLE}")
    if text.startswith("-"):
        raise SpecError(
            f"{at}{text!r}: pip options are not allowed here; list one package per line, "
            f"{EXAMPLE} (the indexes come from your administrator's settings)"
        )
    if (
        "://" in text
        or text.startswith((".", "/", "~"))
        or " @ " in text
        or "@" in text.split(";")[0]
    ):
        raise SpecError(
            f"{at}{text!r}: URLs and local paths are not allowed; give a package name from the "
            f"allowed indexes, {EXAMPLE}"
        )
    try:
        req = Requirement(text)
    except InvalidRequirement as e:
        first = text.split()[0] if text.split() else text
        raise SpecError(
            f"{at}{text!r} is not a package requirement ({str(e).splitlines()[0]}); write a "
            f"name and optional version range, {EXAMPLE}",
            package=first,
        ) from None
    return req


def parse_requirements(text: str) -> list[Requirement]:
    """The requirements of ``requirements.txt``; SpecError names the first bad line."""
    _check_size(text, REQUIREMENTS)
    out: list[Requirement] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        req = parse_requirement(line, f"{REQUIREMENTS} line {i}")
        key = canonicalize_name(req.name)
        if key in seen:
            raise SpecError(
                f"{REQUIREMENTS} lines {seen[key]} and {i} both name {req.name}; keep one line "
                "per package (combine the version ranges with a comma)",
                package=req.name,
            )
        seen[key] = i
        out.append(req)
    if len(out) > MAX_PACKAGES:
        raise SpecError(f"{REQUIREMENTS} lists {len(out)} packages; at most {MAX_PACKAGES}")
    return out


def add_package(text: str, spec: str) -> tuple[str, Requirement]:
    """``requirements.txt`` with ``spec`` added, or replacing the line of the same package."""
    req = parse_requirement(spec, "package")
    parse_requirements(text)  # refuse to edit a broken file: say which line is wrong
    key = canonicalize_name(req.name)
    lines, replaced = [], False
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if line and canonicalize_name(Requirement(line).name) == key:
            if not replaced:
                lines.append(str(req))
                replaced = True
            continue
        lines.append(raw)
    if not replaced:
        lines.append(str(req))
    return "\n".join(lines).strip("\n") + "\n", req


def remove_package(text: str, name: str) -> str:
    """``requirements.txt`` without the line of package ``name`` (SpecError when absent)."""
    parse_requirements(text)
    key = canonicalize_name(name.strip())
    lines, found = [], False
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if line and canonicalize_name(Requirement(line).name) == key:
            found = True
            continue
        lines.append(raw)
    if not found:
        raise SpecError(
            f"{name!r} is not in {REQUIREMENTS}; packages it lists: "
            + (", ".join(r.name for r in parse_requirements(text)) or "none"),
            package=name,
        )
    body = "\n".join(lines).strip("\n")
    return body + "\n" if body else ""


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    marker: str | None = None

    def line(self) -> str:
        return f"{self.name}=={self.version}" + (f" ; {self.marker}" if self.marker else "")


def parse_lock(text: str) -> list[Pin]:
    """The pins of ``requirements.lock``; SpecError for anything else (a hand edit gone wrong)."""
    _check_size(text, LOCK)
    pins: list[Pin] = []
    seen: set[tuple[str, str | None]] = set()
    continued = False
    for i, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if continued:  # hash lines after a "\"
            continued = line.endswith("\\")
            if line.startswith("--hash="):
                continue
            raise SpecError(_bad_lock(i, raw))
        if not line or line.startswith("#"):
            continue
        m = _PIN_RE.match(line)
        if not m:
            raise SpecError(_bad_lock(i, raw))
        try:
            Version(m["version"])
            if m["marker"]:
                Marker(m["marker"])
        except (InvalidVersion, InvalidMarker):
            raise SpecError(_bad_lock(i, raw), package=m["name"]) from None
        key = (canonicalize_name(m["name"]), m["marker"])
        if key in seen:
            raise SpecError(
                f"{LOCK} line {i} pins {m['name']} a second time; rebuild the lock from "
                f"{REQUIREMENTS} (Environment tab → Build)",
                package=m["name"],
            )
        seen.add(key)
        pins.append(Pin(canonicalize_name(m["name"]), m["version"], m["marker"]))
        continued = bool(m["cont"])
    return pins


def _bad_lock(i: int, raw: str) -> str:
    shown = raw.strip()[:80]
    return (
        f"{LOCK} line {i} is not a pin ('name==version'): {shown!r}. The lock is written by "
        f"Datadive; edit {REQUIREMENTS} instead, then delete {LOCK} and build again to re-create it"
    )


def lock_digest(pins: list[Pin]) -> str:
    """sha256 of the pins alone (comments and order do not change an environment)."""
    return hashlib.sha256("\n".join(sorted(p.line() for p in pins)).encode()).hexdigest()


def lock_source_digest(text: str) -> str | None:
    """The requirements hash recorded in the lock's first line (None for a lock without it)."""
    first = text.split("\n", 1)[0]
    m = _HEADER_RE.match(first)
    return m[1] if m else None
