"""The layout of a bundle and its RO-Crate metadata (https://w3id.org/ro/crate/1.1).

A bundle is a zip holding an RO-Crate: the project's files at their project paths (so a notebook
reads ``data/survey.csv`` as it did in the project), the documents of the templates its cells were
made from under ``templates/``, :data:`MANIFEST` (what the bundle holds: the exact store version
of each file, the template versions, the environment lock, which data each cell read) and
``ro-crate-metadata.json``, where every file is a data entity with its ``sha256``, ``version``
(the store's version id) and ``contentSize``.

:func:`open_bundle` refuses, before anything runs: a file that is not a zip, a zip that is not an
RO-Crate or not a Datadive bundle, unsafe names, a file whose bytes do not match its ``sha256``,
a file the metadata lists but the zip lacks, and a file in the zip the metadata does not list
(a foreign ``pandas.py`` would be imported by the notebooks' kernel).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

METADATA = "ro-crate-metadata.json"
MANIFEST = "datadive-bundle.json"
FORMAT = "datadive-bundle/1"
TEMPLATES_DIR = "templates"
#: a bundle larger than this (uncompressed) is refused before it is extracted
MAX_BUNDLE_BYTES = 20 << 30


class BundleError(Exception):
    """A bundle that cannot be written or is refused; the message says why and what to do."""


def sha256_file(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _kind(path: str) -> dict[str, Any]:
    """RO-Crate properties that say what a project file is."""
    if path.endswith(".ipynb"):
        return {
            "@type": ["File", "SoftwareSourceCode"],
            "encodingFormat": "application/x-ipynb+json",
            "programmingLanguage": "Python",
        }
    if path.endswith(".codebook.json"):
        return {
            "encodingFormat": "application/json",
            "description": f"Codebook of {path[: -len('.codebook.json')]} (variables, labels, "
            "missing codes)",
        }
    if path in ("requirements.lock", "requirements.txt"):
        return {"encodingFormat": "text/plain", "description": "Python environment of the project"}
    return {}


def write_bundle(folder: Path, manifest: dict[str, Any], out: Path) -> None:
    """Write the RO-Crate zip ``out`` of ``folder`` (the project files and templates already in
    it, ``manifest`` describing them); all or nothing (a temporary file renamed into place)."""
    from rocrate.rocrate import ROCrate

    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    crate = ROCrate(gen_preview=False)
    project = manifest["project"]
    crate.name = f"{project['name']}" + (
        f" (snapshot {manifest['snapshot']})" if manifest.get("snapshot") else ""
    )
    crate.description = (
        "Datadive reproducibility bundle: notebooks, the exact versions of the data they read, "
        "codebooks, template versions and the environment lock. Check it with "
        "`datadive bundle verify`."
    )
    crate.datePublished = manifest["exported_at"]
    notebooks = []
    for f in manifest["files"]:
        props = {
            **_kind(f["path"]),
            "name": PurePosixPath(f["path"]).name,
            "contentSize": f["size"],
            "sha256": f["sha256"],
        }
        if f.get("version_id"):
            props["version"] = f["version_id"]
        entity = crate.add_file(folder / f["path"], dest_path=f["path"], properties=props)
        if f["path"].endswith(".ipynb"):
            notebooks.append(entity)
    for t in manifest["templates"]:
        if t.get("file"):
            crate.add_file(
                folder / t["file"],
                dest_path=t["file"],
                properties={
                    "@type": ["File", "SoftwareSourceCode"],
                    "name": f"template {t['id']} {t['version']}",
                    "version": t["version"],
                    "encodingFormat": "application/json",
                    "sha256": sha256_file(folder / t["file"]),
                },
            )
    crate.add_file(
        folder / MANIFEST,
        dest_path=MANIFEST,
        properties={
            "name": "Datadive bundle manifest",
            "encodingFormat": "application/json",
            "conformsTo": {"@id": f"https://datadive.invalid/{FORMAT}"},
            "sha256": sha256_file(folder / MANIFEST),
        },
    )
    if notebooks:
        crate.root_dataset["mainEntity"] = notebooks
    tmp = out.with_name(out.name + ".part")
    try:
        crate.write_zip(tmp)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


@dataclass
class Bundle:
    root: Path
    manifest: dict[str, Any]
    files: dict[str, dict[str, Any]]  # path → RO-Crate properties of each data entity

    @property
    def notebooks(self) -> list[str]:
        return sorted(p for p in self.files if p.endswith(".ipynb"))


def _safe_names(zf: zipfile.ZipFile) -> list[str]:
    names = []
    for info in zf.infolist():
        name = info.filename
        parts = PurePosixPath(name).parts
        if name.startswith("/") or "\\" in name or ".." in parts or ":" in name:
            raise BundleError(f"the bundle holds an unsafe file name {name!r}; it is refused")
        if not info.is_dir():
            names.append(name)
    return names


def open_bundle(path: Path, dest: Path) -> Bundle:
    """Extract and check the bundle ``path`` into the empty folder ``dest``."""
    if not path.is_file():
        raise BundleError(f"{path}: no such file")
    if not zipfile.is_zipfile(path):
        raise BundleError(
            f"{path} is not a zip file, so not a bundle (make one with `datadive bundle export`)"
        )
    with zipfile.ZipFile(path) as zf:
        names = _safe_names(zf)
        if METADATA not in names:
            raise BundleError(f"{path} is not an RO-Crate (no {METADATA} at its top)")
        if MANIFEST not in names:
            raise BundleError(
                f"{path} is an RO-Crate but not a Datadive bundle (no {MANIFEST}); only bundles "
                "made by `datadive bundle export` can be verified"
            )
        total = sum(i.file_size for i in zf.infolist())
        if total > MAX_BUNDLE_BYTES:
            raise BundleError(
                f"{path} would extract to {total} bytes; the limit is {MAX_BUNDLE_BYTES}"
            )
        for name in names:
            target = dest.joinpath(*PurePosixPath(name).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(name) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
    try:
        meta = json.loads((dest / METADATA).read_text(encoding="utf-8"))
        graph = meta["@graph"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise BundleError(f"{path}: {METADATA} is not RO-Crate JSON-LD") from None
    entities = {
        e["@id"]: e
        for e in graph
        if isinstance(e, dict) and "File" in _types(e) and isinstance(e.get("@id"), str)
    }
    listed = set(entities)
    present = set(names) - {METADATA}
    missing = sorted(listed - present)
    if missing:
        raise BundleError(
            f"{path} is incomplete: {len(missing)} file(s) its metadata lists are missing "
            f"(e.g. {missing[0]!r}); nothing was run"
        )
    foreign = sorted(present - listed)
    if foreign:
        raise BundleError(
            f"{path} holds {len(foreign)} file(s) its metadata does not list (e.g. "
            f"{foreign[0]!r}): it was changed after export; nothing was run"
        )
    for name, e in sorted(entities.items()):
        want = e.get("sha256")
        got = sha256_file(dest.joinpath(*PurePosixPath(name).parts))
        if not isinstance(want, str) or want != got:
            raise BundleError(
                f"{path}: the content of {name!r} does not match its recorded sha256 (the bundle "
                "was changed after export, or is damaged); nothing was run"
            )
    try:
        manifest = json.loads((dest / MANIFEST).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise BundleError(f"{path}: {MANIFEST} is not JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError(f"{path}: {MANIFEST} is not a {FORMAT} manifest")
    return Bundle(dest, manifest, entities)


def _types(e: dict[str, Any]) -> list[Any]:
    t = e.get("@type")
    return t if isinstance(t, list) else [t]
