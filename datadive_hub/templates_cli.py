"""``datadive templates validate|render|list|publish`` — for template authors.

Exit status: 0 ok; 1 a template or the hub refused (messages say why); 2 values do not match the
template's inputs (one line per field) or the command line is wrong.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

# jsonschema imports rfc3987_syntax (for the "iri" formats, which templates never use) when it is
# installed; building its grammar takes seconds. A command-line tool should start fast, so this
# process skips it (only when nothing imported jsonschema yet).
if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

from datadive_contents.serviceclient import ServiceClient, ServiceUnreachable  # noqa: E402
from jupyter_server.utils import url_path_join  # noqa: E402

from datadive_server_ext.templates import (  # noqa: E402
    RenderError,
    Template,
    TemplateInvalid,
    ValuesInvalid,
    builtin_templates,
    load_file,
    render_cells,
    template_from_document,
)

SERVICE_PREFIX = "services/datadive"


class CLIError(Exception):
    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


# ---------------------------------------------------------------- hub access


class Hub:
    """The Datadive service of a running hub, reached with a JupyterHub API token."""

    def __init__(self, url: str | None, token: str | None):
        self.url = (url or "").rstrip("/") + "/"
        self.token = token or ""

    @property
    def configured(self) -> bool:
        return self.url != "/" and bool(self.token)

    def require(self) -> None:
        if self.url == "/":
            raise CLIError("no hub URL: pass --hub-url URL or set DATADIVE_HUB_URL", 2)
        if not self.token:
            raise CLIError(
                "no token: pass --token TOKEN or set JUPYTERHUB_API_TOKEN (create one on the hub's "
                "Token page)",
                2,
            )

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        client = ServiceClient(url_path_join(self.url, SERVICE_PREFIX), self.token)
        try:
            resp = client.fetch_sync(method, path, json_body=body)
        except ServiceUnreachable as e:
            raise CLIError(e.message) from None
        try:
            return resp.status, resp.json()
        except ValueError:
            return resp.status, {"message": resp.body.decode(errors="replace")[:300]}


def _hub(args: argparse.Namespace) -> Hub:
    return Hub(
        args.hub_url or os.environ.get("DATADIVE_HUB_URL"),
        args.token or os.environ.get("JUPYTERHUB_API_TOKEN"),
    )


# ---------------------------------------------------------------- commands


def _paths(items: list[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            out += sorted(str(f) for f in p.iterdir() if f.suffix in (".yaml", ".yml"))
        else:
            out.append(item)
    return out


def cmd_validate(args: argparse.Namespace) -> int:
    bad = 0
    for path in _paths(args.paths):
        try:
            t = load_file(path)
        except TemplateInvalid as e:
            bad += 1
            for p in e.problems:
                print(p)
            continue
        if not args.quiet:
            print(f"{path}: ok ({t.id} {t.version}, {len(t.inputs)} inputs)")
    return 1 if bad else 0


def _parse_values(text: str) -> Any:
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as e:
            raise CLIError(f"cannot read values file {text[1:]}: {e.strerror}", 2) from None
    try:
        return json.loads(text)
    except ValueError as e:
        raise CLIError(
            f'--values is not valid JSON ({e}); e.g. --values \'{{"column": "age"}}\'', 2
        ) from None


def _find(ref: str, version: str | None, hub: Hub) -> Template:
    if os.path.exists(ref) or ref.endswith((".yaml", ".yml")):
        return load_file(ref)
    if hub.configured:
        path = f"templates/{ref}" + (f"/versions/{version}" if version else "")
        status, body = hub.call("GET", path)
        if status == 200:
            return template_from_document(body["document"], file=f"{ref}@{body['version']}")
        raise CLIError(f"hub: {body.get('message') if isinstance(body, dict) else status}")
    builtins = builtin_templates()
    t = builtins.get(ref)
    if t is None:
        raise CLIError(
            f"no template file or built-in template {ref!r}; built-ins: {', '.join(sorted(builtins))} "
            "(set DATADIVE_HUB_URL and JUPYTERHUB_API_TOKEN to use published templates)"
        )
    if version and version != t.version:
        raise CLIError(f"built-in template {ref!r} has version {t.version}, not {version}")
    return t


def cmd_render(args: argparse.Namespace) -> int:
    values = _parse_values(args.values)
    try:
        t = _find(args.template, args.version, _hub(args))
    except TemplateInvalid as e:
        for p in e.problems:
            print(p, file=sys.stderr)
        return 1
    try:
        cells = render_cells(t, values)
    except ValuesInvalid as e:
        for field, message in e.errors.items():
            print(f"{field}: {message}", file=sys.stderr)
        return 2
    except RenderError as e:
        raise CLIError(str(e)) from None
    json.dump(cells, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    items = {t.id: {**t.summary(), "builtin": True} for t in builtin_templates().values()}
    hub = _hub(args)
    if hub.configured:
        try:
            status, body = hub.call("GET", "templates")
        except CLIError as e:
            print(f"note: showing built-in templates only; {e}", file=sys.stderr)
        else:
            if status == 200:
                for item in body["templates"]:
                    items[item["id"]] = item
            else:
                print(
                    f"note: showing built-in templates only; the hub answered {status}: "
                    f"{(body or {}).get('message', '')}",
                    file=sys.stderr,
                )
    rows = [items[k] for k in sorted(items)]
    if args.json:
        json.dump(rows, sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    width = max((len(r["id"]) for r in rows), default=2)
    for r in rows:
        flag = " (deprecated)" if r.get("deprecated") else ""
        print(f"{r['id']:<{width}}  {r['version']:<9} {r['title']}{flag}")
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    hub = _hub(args)
    hub.require()
    failed = 0
    for path in _paths(args.paths):
        try:
            t = load_file(path)
        except TemplateInvalid as e:
            failed += 1
            for p in e.problems:
                print(p)
            continue
        source = Path(path).read_text(encoding="utf-8")
        status, body = hub.call("POST", "templates", {"source": source, "file": path})
        message = body.get("message", "") if isinstance(body, dict) else ""
        if status == 201:
            print(f"{path}: published {t.id} {t.version}")
        elif status == 200:
            print(f"{path}: {t.id} {t.version} was already published with the same content")
        elif status == 422 and isinstance(body, dict) and body.get("problems"):
            failed += 1
            for p in body["problems"]:
                print(f"{path}:{p.get('line') or ''}: {p['field']}: {p['message']}")
        else:
            failed += 1
            print(f"{path}: not published ({status}): {message}")
    return 1 if failed else 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="datadive templates", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    def hub_args(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--hub-url",
            help="the hub's URL, e.g. https://hub.example.org (default: $DATADIVE_HUB_URL)",
        )
        sp.add_argument("--token", help="a JupyterHub API token (default: $JUPYTERHUB_API_TOKEN)")

    v = sub.add_parser("validate", help="check template files; prints file:line: field: problem")
    v.add_argument("paths", nargs="+", metavar="PATH", help="template files or folders of them")
    v.add_argument("-q", "--quiet", action="store_true", help="print problems only")
    v.set_defaults(func=cmd_validate)

    r = sub.add_parser("render", help="print the nbformat v4 cells a template makes from values")
    r.add_argument("template", metavar="ID_OR_PATH")
    r.add_argument("--values", default="{}", help="JSON object of input values, or @file.json")
    r.add_argument("--version", help="a published version (default: the latest)")
    hub_args(r)
    r.set_defaults(func=cmd_render)

    ls = sub.add_parser("list", help="built-in and published templates")
    ls.add_argument(
        "--json",
        action="store_true",
        help="JSON list with id, version, title, inputs (JSON Schema)",
    )
    hub_args(ls)
    ls.set_defaults(func=cmd_list)

    pub = sub.add_parser("publish", help="publish template files to a running hub")
    pub.add_argument("paths", nargs="+", metavar="PATH")
    hub_args(pub)
    pub.set_defaults(func=cmd_publish)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except CLIError as e:
        print(f"datadive templates: {e}", file=sys.stderr)
        return e.code


if __name__ == "__main__":
    sys.exit(main())
