"""``datadive bundle export``: a project, or one of its snapshots, as an RO-Crate zip.

Everything comes from the Datadive service with the caller's token, through the one service
client (:class:`datadive_contents.serviceclient.ServiceClient`): the snapshot's manifest (or the
project's current file list), the bytes of exactly those versions (``GET .../files/<path>?
version_id=``), and the documents of the templates the notebooks' cells were made from.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from datadive_contents.serviceclient import ServiceClient, ServiceError, service_error
from datadive_contents.workingcopy import is_internal

from .. import provenance
from .crate import FORMAT, TEMPLATES_DIR, BundleError, write_bundle

#: downloads at once
PARALLEL = 8


async def find_project(client: ServiceClient, ref: str) -> dict[str, Any]:
    """The project with id ``ref``, else the one of the caller's projects named ``ref``."""
    resp = await client.fetch("GET", f"projects/{quote(ref, safe='')}")
    if resp.status == 200:
        project: dict[str, Any] = resp.json()
        return project
    if resp.status not in (400, 404):
        raise BundleError(f"the service answered {resp.status}: {resp.message}")
    cursor: str | None = None
    named: list[dict[str, Any]] = []
    while True:
        page = await client.request(
            "GET", "projects", query={"limit": "200", **({"cursor": cursor} if cursor else {})}
        )
        named += [p for p in page["projects"] if p["name"].casefold() == ref.casefold()]
        cursor = page.get("next")
        if not cursor:
            break
    if len(named) == 1:
        return named[0]
    if named:
        raise BundleError(
            f"{len(named)} of your projects are named {ref!r}; give the project's id instead "
            f"({', '.join(p['id'] for p in named)})"
        )
    raise BundleError(f"no project {ref!r} among yours: give a project's id or name")


async def _download(client: ServiceClient, pid: str, f: dict[str, Any], folder: Path) -> None:
    """Stream one file version to ``folder`` (never whole in memory); its sha256 into ``f``."""
    query = {"version_id": f["version_id"]} if f.get("version_id") else None
    resp = await client.open(
        "GET", f"projects/{pid}/files/{quote(f['path'])}", query=query, stream=True
    )
    if resp.status != 200:
        raise BundleError(f"cannot download {f['path']!r}: {(await service_error(resp)).message}")
    target = folder.joinpath(*PurePosixPath(f["path"]).parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    try:
        if f.get("etag") and resp.headers.get("ETag", "").strip('"') not in ("", f["etag"]):
            raise BundleError(f"{f['path']!r} changed while it was downloaded; export again")
        with open(target, "wb") as out:
            async for chunk in resp.content.iter_chunked(1 << 20):
                digest.update(chunk)
                out.write(chunk)
    finally:
        resp.release()
    f["sha256"] = digest.hexdigest()


async def _template_file(client: ServiceClient, t: dict[str, Any], folder: Path) -> str | None:
    """Save the document of template ``t`` (the hub's, else a built-in of that version)."""
    name = f"{TEMPLATES_DIR}/{t['id']}-{t['version']}.json"
    resp = await client.fetch(
        "GET", f"templates/{quote(t['id'], safe='')}/versions/{quote(t['version'], safe='')}"
    )
    document = resp.json().get("document") if resp.status == 200 else None
    if document is None:
        from datadive_server_ext.templates import builtin_templates

        builtin = builtin_templates().get(t["id"])
        if builtin is None or builtin.version != t["version"]:
            return None
        import yaml

        document = yaml.safe_load(Path(builtin.file).read_text(encoding="utf-8"))
    (folder / TEMPLATES_DIR).mkdir(exist_ok=True)
    (folder / name).write_text(json.dumps(document, indent=1), encoding="utf-8")
    return name


async def export_bundle(
    client: ServiceClient,
    project_ref: str,
    snapshot: str | None,
    out: Path,
    say: Callable[[str], object] = print,
) -> dict[str, Any]:
    """Write the bundle of ``project_ref`` (at ``snapshot``, else as it is now) to ``out``;
    return its manifest."""
    project = await find_project(client, project_ref)
    pid = project["id"]
    if snapshot:
        try:
            snap = await client.request(
                "GET", f"projects/{pid}/snapshots/{quote(snapshot, safe='')}"
            )
        except ServiceError as e:
            raise BundleError(e.message) from None
        files = snap["manifest"]
    else:
        snap = None
        listing = await client.request("GET", f"projects/{pid}/files", query={"recursive": "1"})
        files = [
            {k: f[k] for k in ("path", "version_id", "size", "etag")} for f in listing["files"]
        ]
    files = [f for f in files if not is_internal(f["path"])]
    say(
        f"exporting {len(files)} files of {project['name']!r}"
        + (f" at snapshot {snapshot!r}" if snapshot else " as they are now")
    )
    with tempfile.TemporaryDirectory(prefix="datadive-bundle-") as tmp:
        folder = Path(tmp)
        sem = asyncio.Semaphore(PARALLEL)

        async def one(f: dict[str, Any]) -> None:
            async with sem:
                await _download(client, pid, f, folder)

        await asyncio.gather(*map(one, files))
        if snap is not None:
            templates, environment, reads = (
                snap["templates"],
                snap["environment"],
                snap["data_read"],
            )
        else:  # read here what a snapshot would have recorded
            found = {
                f["path"]: provenance.notebook_provenance(
                    folder.joinpath(*PurePosixPath(f["path"]).parts).read_bytes()
                )
                for f in files
                if provenance.is_notebook(f["path"])
            }
            versions = {f["path"]: {f["etag"]: f["version_id"]} for f in files}
            templates = provenance.merge_templates(found)
            environment = provenance.environment_of(files)
            reads = provenance.merge_reads(found, versions)
        templates = [{**t, "file": await _template_file(client, t, folder)} for t in templates]
        manifest = {
            "format": FORMAT,
            "project": {"id": pid, "name": project["name"]},
            "snapshot": snapshot,
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "exporter_python": sys.version.split()[0],
            "files": files,
            "templates": templates,
            "environment": environment,
            "data_read": reads,
        }
        write_bundle(folder, manifest, out)
    return manifest
