"""``datadive bundle export PROJECT [--snapshot NAME] -o FILE.zip`` and ``datadive bundle verify
FILE.zip``.

Exit status: 0 ok (verify: every cell matched); 1 verify found cells whose outputs differ; 2 the
bundle was refused, the export failed, or the command line is wrong (the message says why).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from jupyter_server.utils import url_path_join

from ..templates_cli import SERVICE_PREFIX, CLIError, Hub
from .crate import BundleError
from .outputs import ATOL, RTOL


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def cmd_export(args: argparse.Namespace) -> int:
    from datadive_contents.serviceclient import ServiceClient, ServiceError

    from .export import export_bundle

    hub = Hub(args.hub_url or _env("DATADIVE_HUB_URL"), args.token or _env("JUPYTERHUB_API_TOKEN"))
    hub.require()
    out = Path(args.output)
    if out.suffix != ".zip":
        raise CLIError(f"-o {out}: a bundle is a .zip file (e.g. -o study.zip)", 2)
    if not out.parent.is_dir():
        raise CLIError(f"-o {out}: folder {out.parent} does not exist", 2)

    async def run() -> dict[str, Any]:
        client = ServiceClient(url_path_join(hub.url, SERVICE_PREFIX), hub.token, timeout=300)
        try:
            return await export_bundle(client, args.project, args.snapshot, out, _say)
        except ServiceError as e:
            raise BundleError(e.message) from None
        finally:
            await client.close()

    manifest = asyncio.run(run())
    size = sum(f["size"] for f in manifest["files"])
    print(
        f"{out}: {len(manifest['files'])} files ({size} bytes), "
        f"{len(manifest['templates'])} template version(s), environment lock: "
        f"{'yes' if manifest['environment'] else 'none'}"
    )
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from .verify import as_json, verify_bundle

    results = verify_bundle(
        Path(args.bundle),
        rtol=args.rtol,
        atol=args.atol,
        timeout=args.timeout,
        index_urls=() if args.no_index else tuple(args.index_url or ["https://pypi.org/simple"]),
        find_links=tuple(args.find_links or ()),
        say=_say,
    )
    differ = [r for r in results if r.status == "different"]
    if args.json:
        print(json.dumps(as_json(results), indent=1))
    else:
        for r in results:
            where = f"{r.notebook} cell {r.cell}" + (f" ({r.cell_id})" if r.cell_id else "")
            print(f"{where}: {r.status}" + (f": {r.detail}" if r.detail else ""))
        same = sum(r.status == "same" for r in results)
        print(f"{same} cell(s) match, {len(differ)} differ")
    return 1 if differ else 0


def _env(name: str) -> str | None:
    import os

    return os.environ.get(name)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="datadive bundle", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("export", help="write a project (or a snapshot of it) as an RO-Crate zip")
    ex.add_argument("project", metavar="PROJECT", help="the project's id or name")
    ex.add_argument("--snapshot", metavar="NAME", help="a snapshot (default: the project now)")
    ex.add_argument("-o", "--output", required=True, metavar="FILE.zip")
    ex.add_argument(
        "--hub-url", help="the hub's URL, e.g. https://hub.example.org (default: $DATADIVE_HUB_URL)"
    )
    ex.add_argument("--token", help="a JupyterHub API token (default: $JUPYTERHUB_API_TOKEN)")
    ex.set_defaults(func=cmd_export)
    ve = sub.add_parser("verify", help="re-run a bundle's notebooks and compare their outputs")
    ve.add_argument("bundle", metavar="FILE.zip")
    ve.add_argument("--rtol", type=float, default=RTOL, help=f"relative tolerance ({RTOL:g})")
    ve.add_argument("--atol", type=float, default=ATOL, help=f"absolute tolerance ({ATOL:g})")
    ve.add_argument("--timeout", type=int, default=600, help="seconds a cell may run (600)")
    ve.add_argument("--json", action="store_true", help="one JSON object per cell")
    ve.add_argument(
        "--index-url",
        action="append",
        metavar="URL",
        help="where the packages of the bundle's requirements.lock come from (default: PyPI; "
        "repeat for more)",
    )
    ve.add_argument("--no-index", action="store_true", help="no package index (with --find-links)")
    ve.add_argument(
        "--find-links",
        action="append",
        metavar="DIR_OR_URL",
        help="a folder of wheels (repeatable)",
    )
    ve.set_defaults(func=cmd_verify)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except (CLIError, BundleError) as e:
        print(f"datadive bundle: {e}", file=sys.stderr)
        return 2
