"""Fixtures for the cell-template tests.

- ``builtins``: dict id -> Template of the built-in library (session).
- ``write_template``: ``write_template(text, name="t.yaml") -> path`` writes a template file in tmp_path.
- ``kernel``: a real python3 ipykernel (jupyter_client) started in a temporary working directory,
  shared by the session; yields a :class:`kernelrunner.KernelRunner` with ``.cwd`` and ``.run(code) -> Outputs``.
- ``jupyter_server``: a real ``jupyter server`` subprocess (module scope) with the datadive extension
  and no hub service configured; a :class:`jpserver.JupyterServer` with ``.root``, ``.request()``.
- ``notebook_path``: ``notebook_path(cells=0, name="nb.ipynb") -> name`` saves a notebook with that
  many code cells in the server's root dir and returns its path (relative to the root).

Fixtures local to one module: ``frame`` / ``loaded`` (test_library_kernel: the data frame the
kernel tests use, written as survey.csv and loaded as ``df``), ``author`` / ``reader``
(test_registry: on ``any_platform`` from tests/conftest.py, a member of
datadive-template-authors, a plain user), ``db_url`` (test_migration: a fresh SQLite file or PostgreSQL database).

(pytest-jupyter's in-process ``jp_fetch`` is not used: its event loop clashes with pytest-asyncio's
session loop here, so requests time out.)
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from kernelrunner import KernelRunner

from datadive_server_ext.templates import builtin_templates

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def builtins():
    return builtin_templates()


@pytest.fixture
def write_template(tmp_path):
    def write(text: str, name: str = "t.yaml") -> str:
        p = tmp_path / name
        p.write_text(text, encoding="utf-8")
        return str(p)

    return write


@pytest.fixture(scope="session")
def kernel(tmp_path_factory):
    from jupyter_client.manager import KernelManager

    cwd = tmp_path_factory.mktemp("kernel-cwd")
    km = KernelManager(kernel_name="python3")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "contents")])}
    env.pop("MPLBACKEND", None)
    km.start_kernel(cwd=str(cwd), env=env)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        yield KernelRunner(km, kc, cwd)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def jupyter_server(tmp_path_factory):
    from jpserver import JupyterServer

    root = tmp_path_factory.mktemp("root")
    server = JupyterServer(root, tmp_path_factory.mktemp("jpserver")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def notebook_path(jupyter_server):
    def make(cells: int = 0, name: str = "nb.ipynb") -> str:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(f"x = {i}") for i in range(cells)]
        nbformat.write(nb, str(jupyter_server.root / name))
        return name

    return make
