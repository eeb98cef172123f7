"""The packages stay layered and free of import circles.

The hub (``datadive_hub``) sits above the server extension (``datadive_server_ext``), which sits
above storage (``datadive_contents``); a module never imports, directly or through others, a
module that imports it back. Every import counts: at the top, inside functions and under
``TYPE_CHECKING`` (a circle hidden in a function is still a circle for the reader).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {
    "datadive_contents": ROOT / "contents" / "datadive_contents",
    "datadive_server_ext": ROOT / "datadive_server_ext",
    "datadive_hub": ROOT / "datadive_hub",
}
#: package → the packages below it that it may import
MAY_IMPORT = {
    "datadive_contents": set(),
    "datadive_server_ext": {"datadive_contents"},
    "datadive_hub": {"datadive_server_ext", "datadive_contents"},
}


def modules() -> dict[str, Path]:
    out = {}
    for pkg, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join((pkg, *parts))] = path
    return out


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Our modules that ``name`` imports (``from pkg import mod`` counts as importing mod)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names)
    # importing a module runs its parent packages' __init__ first: not an edge we chose
    return {m for m in found if m in known and m != name and not name.startswith(m + ".")}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_import_circles():
    assert circles(graph()) == []


def test_the_checker_sees_circles():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(edges) == [["a", "b", "c"]]


def test_each_layer_imports_only_the_layers_below():
    wrong = sorted(
        f"{name} imports {dep}"
        for name, deps in graph().items()
        for dep in deps
        if dep.split(".")[0] != name.split(".")[0]
        and dep.split(".")[0] not in MAY_IMPORT[name.split(".")[0]]
    )
    assert wrong == []


#: private names of other objects that a module may use, with the reason
PRIVATE_USES = {
    "self.notary._check_cell": "nbformat's per-cell trust check (nbwrite caches its verdicts)",
    "serverapp._handle_sigint": "jupyter_server's SIGINT handler, replaced under JupyterHub",
    "serverapp._signal_stop": "jupyter_server's clean stop, what SIGINT does under JupyterHub",
}


def test_storage_and_server_extension_use_only_public_parts_of_each_other():
    """No module imports another's private names, and storage and the server extension reach
    no other object's private attributes (the working copy's state, a manager's mounts)."""
    wrong = []
    for name, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                wrong += [
                    f"{name} imports {a.name}"
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")
                ]
            elif (
                isinstance(node, ast.Attribute)
                and name.startswith(("datadive_contents", "datadive_server_ext"))
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
                and ast.unparse(node) not in PRIVATE_USES
            ):
                wrong.append(f"{name}:{node.lineno} uses {ast.unparse(node)}")
    assert wrong == []


SQL = ("SELECT ", "INSERT ", "DELETE FROM ", "UPDATE ", "CREATE TABLE ", "PRAGMA ", "BEGIN")


def test_only_the_sync_state_speaks_sql_to_a_working_copy():
    """Bases, journal and read-only marks live behind one class (datadive_contents.syncstate)."""
    speaking = sorted(
        name
        for name, path in modules().items()
        if name.startswith("datadive_contents")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.lstrip().upper().startswith(SQL)
    )
    assert set(speaking) <= {"datadive_contents.syncstate"}
