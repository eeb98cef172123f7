"""The ``datadive`` command: ``up``, ``db``, ``users``, ``templates``, ``assist``, ``codebook``,
``bundle``."""

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path


def _db_url(args: argparse.Namespace) -> str:
    db_url: str | None = args.db_url
    if db_url:
        return db_url
    if os.environ.get("DATADIVE_DB_URL"):
        return os.environ["DATADIVE_DB_URL"]
    return f"sqlite:///{Path(args.data_dir).resolve() / 'datadive.sqlite'}"


def cmd_up(args: argparse.Namespace) -> int:
    from .up import up

    return up(
        port=args.port,
        data_dir=args.data_dir,
        ip=args.ip,
        db_url=args.db_url,
        server_python=args.server_python,
    )


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from . import db

    url = _db_url(args)
    db.upgrade(url, args.revision)
    engine = db.make_engine(url)
    print(f"database {db.redact(url)} is at revision {db.current_revision(engine)}")
    return 0


def cmd_db_current(args: argparse.Namespace) -> int:
    from . import db

    url = _db_url(args)
    print(f"current: {db.current_revision(db.make_engine(url))}  head: {db.head_revision(url)}")
    return 0


def cmd_users_add(args: argparse.Namespace) -> int:
    from .auth.local import PasswordFile

    pw = PasswordFile(Path(args.data_dir).resolve() / "passwords.json")
    if args.name in pw.names() and args.command == "add":
        print(
            f"user {args.name!r} exists; use `datadive users passwd {args.name}`", file=sys.stderr
        )
        return 1
    password = pw.set_password(
        args.name, admin=args.admin or args.name in pw.names(admin_only=True)
    )
    print(f"{args.name}: password {password}  (shown once)")
    return 0


def cmd_codebook(args: argparse.Namespace) -> int:
    from datadive_server_ext.survey import SurveyError, build_codebook, codebook_path, load_codebook

    target = Path(codebook_path(args.data_file))
    try:
        stored, _ = (None, None) if args.write else load_codebook(args.data_file)
        codebook = stored or build_codebook(args.data_file)[1]
    except SurveyError as e:
        print(f"datadive codebook: {e}", file=sys.stderr)
        return 1
    if args.write:
        if target.exists() and not args.force:
            print(
                f"datadive codebook: {target} exists (it may hold edits); delete it or pass "
                "--force to rebuild it from the data",
                file=sys.stderr,
            )
            return 1
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(codebook.dumps(), encoding="utf-8")
        tmp.replace(target)  # all or nothing
    if args.json:
        print(codebook.dumps(), end="")
        return 0
    if args.write:
        where = f"written to {target.name}"
    elif stored:
        where = f"stored in {target.name}"
    else:
        where = "built from the data (not saved; --write saves it)"
    print(f"{args.data_file}: {len(codebook.columns)} columns; codebook {where}")
    for c in codebook.columns:
        flags = " personal" if c.personal_data else ""
        extra = f" {len(c.values)} labels" if c.values else ""
        missing = (
            f" missing {c.missing + [list(r) for r in c.missing_ranges]}"
            if c.missing or c.missing_ranges
            else ""
        )
        question = f"  {c.question[:60]}" if c.question and c.question != c.name else ""
        print(f"  {c.name:<24} {c.level:<10}{flags}{extra}{missing}{question}")
    return 0


def cmd_assist(args: argparse.Namespace) -> int:
    """``datadive assist``: the test assistant on a data file (exit 2 with a message on bad input)."""
    import json

    from datadive_server_ext.assistant import ANSWER_KEYS, AssistError, assist_file
    from datadive_server_ext.assistant.design import FIELDS

    # the question's fields the command line has a flag for (levels: the panel only)
    question = {k: getattr(args, k) for k in FIELDS if getattr(args, k, None) is not None}
    try:
        answer = assist_file(args.data_file, question)
    except AssistError as e:
        print(f"datadive assist: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({k: answer[k] for k in ANSWER_KEYS}, indent=2, ensure_ascii=False))
        return 0
    print(f"{answer['test_name']}: {answer['apa']}")
    for c in answer["checks"]:
        print(f"  [{'ok' if c['passed'] else 'no'}] {c['name']}: {c['detail']}")
    print(answer["why"])
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="datadive", description="Datadive for JupyterHub")
    sub = p.add_subparsers(dest="cmd", required=True)

    up = sub.add_parser("up", help="run the whole platform on this machine (127.0.0.1)")
    up.add_argument("--port", type=int, default=8000, help="public port (default 8000)")
    up.add_argument("--data-dir", default="datadive-data", help="where all data lives")
    up.add_argument("--ip", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    up.add_argument(
        "--db-url",
        default=None,
        help="the Datadive database (default: SQLite in the data dir), e.g. "
        "postgresql+psycopg://user@127.0.0.1/datadive",
    )
    up.add_argument(
        "--server-python",
        default=os.environ.get("DATADIVE_SERVER_PYTHON"),
        help="Python that user servers and kernels run with (default: $DATADIVE_SERVER_PYTHON, "
        "else this one); run as root, every user's account must be able to run it",
    )
    up.set_defaults(func=cmd_up)

    dbp = sub.add_parser("db", help="database schema (Alembic migrations)")
    dbsub = dbp.add_subparsers(dest="dbcmd", required=True)
    for name, func, helptext in (
        ("upgrade", cmd_db_upgrade, "upgrade the schema"),
        ("current", cmd_db_current, "show the schema revision"),
    ):
        d = dbsub.add_parser(name, help=helptext)
        d.add_argument(
            "--db-url", help="SQLAlchemy URL (default: $DATADIVE_DB_URL or the data dir's SQLite)"
        )
        d.add_argument("--data-dir", default="datadive-data")
        if name == "upgrade":
            d.add_argument("revision", nargs="?", default="head")
        d.set_defaults(func=func)

    users = sub.add_parser("users", help="local sign-in (datadive up): add people, reset passwords")
    usub = users.add_subparsers(dest="command", required=True)
    for name in ("add", "passwd"):
        u = usub.add_parser(name, help=f"{name} a user; prints a generated password once")
        u.add_argument("name")
        u.add_argument("--admin", action="store_true", help="make the user a hub admin")
        u.add_argument("--data-dir", default="datadive-data")
        u.set_defaults(func=cmd_users_add)

    cb = sub.add_parser(
        "codebook",
        help="the codebook of survey data (Qualtrics export + .qsf, SPSS .sav, CSV, Excel)",
    )
    cb.add_argument("data_file", help="the data file; its codebook is <file>.codebook.json")
    cb.add_argument("--json", action="store_true", help="print the codebook as JSON")
    cb.add_argument(
        "--write", action="store_true", help="build it from the data and save it beside the file"
    )
    cb.add_argument("--force", action="store_true", help="with --write: replace a stored one")
    cb.set_defaults(func=cmd_codebook)
    assist = sub.add_parser(
        "assist",
        help="the test assistant: checks, the textbook test and an APA result for a data file",
    )
    assist.add_argument("data_file", help="CSV, Excel, SPSS .sav or a Qualtrics CSV export")
    assist.add_argument("--filter", help='rows to use, as a pandas query: "age >= 18"')
    assist.add_argument("--outcome", help="the variable compared")
    design = assist.add_mutually_exclusive_group()
    design.add_argument("--group", help="independent groups (or ANCOVA's factor)")
    design.add_argument("--paired-with", help="a second measurement of the same people")
    design.add_argument("--within", help="repeated measures, long format: the condition column")
    design.add_argument(
        "--within-columns", nargs="+", metavar="COL", help="repeated measures, one column each"
    )
    design.add_argument("--x", help="relationship of two variables: the first")
    design.add_argument("--groups", nargs=2, metavar="COL", help="two factors (two-way ANOVA)")
    assist.add_argument("--subject", help="with --within: who was measured")
    assist.add_argument("--y", help="with --x: the second variable")
    assist.add_argument("--covariate", help="with --group: a numeric covariate (ANCOVA)")
    assist.add_argument("--mu", type=float, help="one sample: the reference value (default 0)")
    assist.add_argument("--level", help="a yes/no outcome: the category of interest")
    assist.add_argument("--alpha", type=float, help="significance level of the checks (0.05)")
    assist.add_argument("--json", action="store_true", help="print the answer as JSON")
    assist.set_defaults(func=cmd_assist)

    sub.add_parser(
        "templates", help="validate, render, list and publish cell templates", add_help=False
    )
    sub.add_parser(
        "bundle",
        help="export a project as an RO-Crate bundle; verify one by re-running it",
        add_help=False,
    )
    sub.add_parser("service", help="run the hub service (JupyterHub starts it)", add_help=False)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "templates":
        from .templates_cli import main as templates_main

        return templates_main(argv[1:])
    if argv and argv[0] == "bundle":
        from .bundle.cli import main as bundle_main

        return bundle_main(argv[1:])
    if argv and argv[0] == "service":
        from .service import main as service_main

        return service_main(argv[1:]) or 0
    args = parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    return func(args)


if __name__ == "__main__":
    sys.exit(main())
