"""Where a new file lands when it is created where nobody can write.

The root of a Datadive server only lists projects (it is read-only), and a viewer's project is
read-only too. Lab's Launcher, "New Notebook" and "New File" create in the file browser's current
folder, so on a fresh server the most obvious first action used to fail. Instead, the new file
lands in, in this order:

1. the project open in the Datadive panel (the panel tells the server, see
   ``datadive_server_ext/handlers/landing.py``), if the user can write to it;
2. the user's personal project (``personal_project_name``, default "My work"), if it exists;
3. that personal project, created on first use (when ``create_personal_project`` is on and the
   server can create projects).

When none fits, the error names the projects the user can write to.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from tornado.web import HTTPError

ROOT_NOTICE = (
    "The top level of your files only lists your Datadive projects; files live inside a project "
    "folder."
)


def pick(mounts: list[Any], current: str | None, personal_name: str) -> Any | None:
    """The mount a new file goes to: the current project if writable, else the personal project
    (by name, preferring one the user owns), else None."""
    writable = [m for m in mounts if m.attached and m.writable]
    for m in writable:
        if current and m.project_id == current:
            return m
    named = [m for m in writable if m.name.casefold() == personal_name.casefold()]
    named.sort(key=lambda m: m.role != "owner")
    return named[0] if named else None


def nowhere(mounts: list[Any], personal_name: str, may_create: bool) -> HTTPError:
    """The 403 when no project fits: what the root is, and where the user can write."""
    writable = sorted(m.folder for m in mounts if m.attached and m.writable)
    if writable:
        where = (
            "You can write to: "
            + ", ".join(repr(f) for f in writable)
            + (
                ". Open one of them in the file browser (or in the Datadive panel) and create the "
                "file there."
            )
        )
    else:
        where = (
            "You cannot write to any project yet: create one in the Datadive panel "
            "(Projects → New project), or ask a project's owner for the editor role."
        )
    if not may_create:
        where += f" (A personal project {personal_name!r} is not created automatically here.)"
    return HTTPError(403, f"{ROOT_NOTICE} {where}")


async def create_personal(creator: Callable[[str], Any], name: str) -> dict[str, Any]:
    """Create the personal project through ``creator`` (sync or async, returns the project)."""
    try:
        made = creator(name)
        if inspect.isawaitable(made):
            made = await made
    except Exception as e:
        status = getattr(e, "status", None) or getattr(e, "status_code", None) or 502
        message = getattr(e, "message", None) or getattr(e, "log_message", None) or str(e)
        raise HTTPError(
            status if isinstance(status, int) and 400 <= status < 600 else 502,
            f"{ROOT_NOTICE} Your personal project {name!r} could not be created ({message}); "
            "create a project in the Datadive panel and make the file there.",
        ) from e
    if not isinstance(made, dict) or not made.get("id"):
        raise HTTPError(502, f"creating the personal project {name!r} gave no project id")
    return made


async def landing_mount(
    list_mounts: Callable[[], Awaitable[list[Any]]],
    refresh: Callable[[], None],
    current: str | None,
    personal_name: str,
    creator: Callable[[str], Any] | None,
    may_create: bool,
) -> Any:
    """The mount a new file goes to (creating the personal project if allowed), or a 403."""
    mounts = await list_mounts()
    found = pick(mounts, current, personal_name)
    if found is not None:
        return found
    if not (may_create and creator is not None):
        raise nowhere(mounts, personal_name, may_create and creator is not None)
    made = await create_personal(creator, personal_name)
    refresh()
    for m in await list_mounts():
        if m.project_id == str(made["id"]):
            return m
    raise HTTPError(
        503,
        f"your personal project {personal_name!r} was created but is not listed yet; "
        "try again in a few seconds",
    )
