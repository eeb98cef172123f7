"""The built-in template library shipped in ``library/*.yaml``."""

from __future__ import annotations

from importlib import resources

from .model import Template, TemplateInvalid, parse_template

_CACHE: dict[str, Template] | None = None


def builtin_templates() -> dict[str, Template]:
    """All built-in templates by id (loaded once; a broken built-in is a packaging bug and raises)."""
    global _CACHE
    if _CACHE is None:
        out: dict[str, Template] = {}
        problems = []
        for entry in sorted(
            resources.files(__package__).joinpath("library").iterdir(), key=lambda e: e.name
        ):
            if not entry.name.endswith((".yaml", ".yml")):
                continue
            try:
                t = parse_template(entry.read_text("utf-8"), file=f"library/{entry.name}")
            except TemplateInvalid as e:
                problems.extend(e.problems)
                continue
            out[t.id] = t
        if problems:
            raise TemplateInvalid(problems)
        _CACHE = out
    return dict(_CACHE)


def builtin_sources() -> dict[str, str]:
    """The YAML text of each built-in template by id (what the hub stores when it publishes them)."""
    out = {}
    for entry in resources.files(__package__).joinpath("library").iterdir():
        if entry.name.endswith((".yaml", ".yml")):
            text = entry.read_text("utf-8")
            out[parse_template(text).id] = text
    return out
