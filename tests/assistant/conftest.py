"""Fixtures for the test-assistant tests.

- ``data_dir``: a folder (session) with every published data set of :data:`CASES` written as
  ``<name>.csv`` from ``pingouin.read_dataset``.
- ``answers``: dict test id -> the assistant's answer for that case (``assist_file`` on the CSV,
  the cell naming the file relative to ``data_dir``; session, computed once).
- ``clean_kernel``: a real python3 ipykernel started in ``data_dir`` (session) where Datadive
  is not importable, a :class:`kernelrunner.KernelRunner` with ``.run(code) -> Outputs``.
- ``jupyter_server``: a real ``jupyter server`` subprocess with the datadive extension (module
  scope) whose root holds ``Projects/My study/<name>.csv`` for the cases; a
  :class:`jpserver.JupyterServer`.

:data:`assistant_cases.CASES`: one per canonical test id (the published data set, the question
and pingouin's statistic).
"""

from __future__ import annotations

import os
import shutil
import warnings

import pytest
from assistant_cases import CASES
from kernelrunner import KernelRunner


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    import pingouin as pg

    folder = tmp_path_factory.mktemp("assistant-data")
    for name in {c[0] for c in CASES.values()}:
        pg.read_dataset(name).to_csv(folder / f"{name}.csv", index=False)
    return folder


@pytest.fixture(scope="session")
def answers(data_dir):
    from datadive_server_ext.assistant import assist_file

    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for test_id, (name, q, _) in CASES.items():
            out[test_id] = assist_file(data_dir / f"{name}.csv", q, shown_path=f"{name}.csv")
    return out


@pytest.fixture(scope="session")
def clean_kernel(data_dir):
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="python3")
    env = {**os.environ}
    env.pop("MPLBACKEND", None)
    env.pop("PYTHONPATH", None)  # a clean kernel: Datadive is not importable from the source tree
    km.start_kernel(cwd=str(data_dir), env=env)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        yield KernelRunner(km, kc, data_dir)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def jupyter_server(tmp_path_factory, data_dir):
    from jpserver import JupyterServer

    root = tmp_path_factory.mktemp("root")
    study = root / "Projects" / "My study"
    study.mkdir(parents=True)
    for f in data_dir.glob("*.csv"):
        shutil.copy(f, study / f.name)
    (root / "secret.csv").write_text("a,b\n1,2\n")
    server = JupyterServer(root, tmp_path_factory.mktemp("jpserver")).start()
    try:
        yield server
    finally:
        server.stop()
