"""Checks of names that callers send: project names and notebook paths."""

import unicodedata

from tornado import web

MAX_PROJECT_NAME = 100


def project_name(value: object) -> str:
    """A project name: 1–100 printable characters, usable as a folder name in the file browser."""
    if not isinstance(value, str):
        raise web.HTTPError(400, "name must be a string")
    name = unicodedata.normalize("NFC", value).strip()
    if not name:
        raise web.HTTPError(400, "name must not be empty; give the project a name")
    if len(name) > MAX_PROJECT_NAME:
        raise web.HTTPError(
            400, f"name is {len(name)} characters long; use at most {MAX_PROJECT_NAME}"
        )
    bad = [c for c in name if c in '/\\:*?"<>|' or unicodedata.category(c)[0] == "C"]
    if bad or name.startswith("."):
        raise web.HTTPError(
            400,
            "name is used as a folder name: it must not start with '.' nor contain "
            'control characters or any of / \\ : * ? " < > |',
        )
    return name


def description(value: object) -> str:
    if not isinstance(value, str):
        raise web.HTTPError(400, "description must be a string")
    if len(value) > 5000:
        raise web.HTTPError(400, "description is too long; use at most 5000 characters")
    return value
