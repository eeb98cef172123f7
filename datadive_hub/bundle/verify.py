"""``datadive bundle verify``: re-run a bundle's notebooks from the bundle alone, cell by cell.

The bundle is checked first (:func:`.crate.open_bundle`: an RO-Crate made by ``datadive bundle
export``, every file's sha256, nothing missing or added); a refused bundle runs nothing. Then a
fresh environment is built in a temporary folder from the bundle's ``requirements.lock`` (or an
empty one) the way a project environment is (:mod:`datadive_server_ext.environments.build`: uv,
this Python's packages visible below the locked ones), and each notebook runs in a new kernel of
it (nbclient), in the bundle's copy of the notebook's folder, without the hub's token or service
address in its environment. Each code cell's new outputs are
compared with the recorded ones (:mod:`.outputs`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from .crate import BundleError, open_bundle
from .outputs import ATOL, RTOL, compare_outputs

#: what the re-run kernels must not see (they run from the bundle alone)
HIDDEN_ENV = ("JUPYTERHUB_API_TOKEN", "JPY_API_TOKEN", "DATADIVE_SERVICE_URL", "JPY_SESSION_NAME")
KERNEL = "datadive-bundle-verify"
#: the kernel-side helper: plot data beside each figure, as when the notebook first ran
HELPER = "datadive_server_ext.dataread"


@dataclass
class CellResult:
    notebook: str
    cell: int  # 1-based position among the notebook's cells
    cell_id: str | None
    status: str  # same | different | not-run (no recorded outputs to compare with)
    detail: str = ""


@contextmanager
def _clean_env(kernels: Path) -> Iterator[None]:
    saved = {k: os.environ.pop(k) for k in HIDDEN_ENV if k in os.environ}
    old_path = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(kernels), old_path]))
    try:
        yield
    finally:
        os.environ.update(saved)
        if old_path is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = old_path


def make_environment(
    where: Path,
    bundle_root: Path,
    index_urls: tuple[str, ...] = ("https://pypi.org/simple",),
    find_links: tuple[str, ...] = (),
    say: Callable[[str], object] = print,
) -> Path:
    """A fresh environment for the kernels, built from the bundle's ``requirements.lock`` (or
    none) exactly as a project environment is (``environments.build``: this Python's packages
    visible below the locked ones), and a kernelspec of it; returns the kernels' folder."""
    from datadive_server_ext.environments.build import BuildError, EnvironmentCache
    from datadive_server_ext.environments.uvcli import Sources

    lock = bundle_root / "requirements.lock"
    lock_text = lock.read_text(encoding="utf-8") if lock.is_file() else ""
    if lock_text:
        say("building the environment of the bundle's requirements.lock with uv")
    sources = Sources(cache_dir=where / "env", index_urls=index_urls, find_links=find_links)
    try:
        built = EnvironmentCache(sources).build(lock_text)
    except BuildError as e:
        raise BundleError(f"the bundle's environment did not build: {e.message}") from None
    spec_dir = where / "share" / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [built.python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Datadive bundle verify",
                "language": "python",
            }
        ),
        encoding="utf-8",
    )
    return where / "share"


def run_notebook(path: Path, kernel: str, timeout: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """(recorded notebook, re-run notebook): every cell run, errors kept as outputs."""
    import nbformat
    from nbclient import NotebookClient

    recorded = nbformat.read(path, as_version=4)
    rerun = nbformat.read(path, as_version=4)
    NotebookClient(
        rerun,
        kernel_name=kernel,
        timeout=timeout,
        allow_errors=True,
        extra_arguments=[f"--ext={HELPER}"],
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    return recorded, rerun


def language(path: Path) -> str:
    """The notebook's language (its kernelspec's, else its language_info's; default Python)."""
    import nbformat

    meta = nbformat.read(path, as_version=4).metadata
    lang = (meta.get("kernelspec") or {}).get("language") or (meta.get("language_info") or {}).get(
        "name"
    )
    return str(lang or "python").lower()


def not_run(name: str, path: Path, why: str) -> list[CellResult]:
    import nbformat

    cells = nbformat.read(path, as_version=4).cells
    return [
        CellResult(name, i, c.get("id"), "not-run", why)
        for i, c in enumerate(cells, start=1)
        if c.cell_type == "code"
    ]


def compare_notebook(
    name: str, recorded: dict[str, Any], rerun: dict[str, Any], rtol: float, atol: float
) -> Iterator[CellResult]:
    for i, (a, b) in enumerate(zip(recorded["cells"], rerun["cells"], strict=True), start=1):
        if a["cell_type"] != "code":
            continue
        if a.get("execution_count") is None and not a.get("outputs"):
            yield CellResult(name, i, a.get("id"), "not-run", "no recorded outputs")
            continue
        why = compare_outputs(a.get("outputs") or [], b.get("outputs") or [], rtol, atol)
        yield CellResult(name, i, a.get("id"), "different" if why else "same", why or "")


def verify_bundle(
    path: Path,
    *,
    rtol: float = RTOL,
    atol: float = ATOL,
    timeout: int = 600,
    index_urls: tuple[str, ...] = ("https://pypi.org/simple",),
    find_links: tuple[str, ...] = (),
    say: Callable[[str], object] = print,
) -> list[CellResult]:
    """Check and re-run the bundle at ``path``; one result per code cell."""
    with tempfile.TemporaryDirectory(prefix="datadive-verify-") as tmp:
        work = Path(tmp)
        bundle = open_bundle(path, work / "crate")
        if not bundle.notebooks:
            raise BundleError(f"{path} holds no notebooks to verify")
        say(
            f"{path}: RO-Crate checked ({len(bundle.files)} files, sha256 ok); making a clean "
            "environment"
        )
        kernels = make_environment(work, bundle.root, index_urls, find_links, say)
        results: list[CellResult] = []
        with _clean_env(kernels):
            for name in bundle.notebooks:
                path = bundle.root.joinpath(*PurePosixPath(name).parts)
                lang = language(path)
                if lang != "python":
                    say(f"{name} is not a Python notebook ({lang}): not re-run")
                    results += not_run(name, path, f"not a Python notebook ({lang})")
                    continue
                say(f"running {name} in a new kernel")
                recorded, rerun = run_notebook(path, KERNEL, timeout)
                results += compare_notebook(name, recorded, rerun, rtol, atol)
        return results


def as_json(results: list[CellResult]) -> list[dict[str, Any]]:
    return [asdict(r) for r in results]
