"""Fixtures of the project-environment tests (no package registry is reached: uv installs from
a folder of tiny packages written at test time, see ``tests/wheelhouse.py``).

- ``wheels``: the folder of tiny wheels and the failing sdist (session).
- ``sources``: ``Sources`` for uv with no index, only ``wheels``, and a fresh cache dir.
- ``cache``: an ``EnvironmentCache`` over ``sources``.
- ``run_kernel``: ``run_kernel(kernels_dir, name, code) -> stdout`` starts that kernelspec with
  jupyter_client, runs ``code`` and shuts the kernel down.

Fixtures local to one module: ``envs`` (test_build: an ``Environments`` service with its state
and kernels folders in tmp_path), ``server`` (test_routes: a real ``jupyter server`` in project
mode over local directory stores, shared by the module; its tests run in order).
"""

from __future__ import annotations

import os
import queue
from pathlib import Path

import pytest
from wheelhouse import make_wheelhouse

from datadive_server_ext.environments.build import EnvironmentCache
from datadive_server_ext.environments.uvcli import Sources

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def wheels(tmp_path_factory):
    return make_wheelhouse(tmp_path_factory.mktemp("wheels"))


@pytest.fixture
def sources(tmp_path, wheels):
    return Sources(cache_dir=tmp_path / "cache", index_urls=(), find_links=(str(wheels),))


@pytest.fixture
def cache(sources):
    return EnvironmentCache(sources)


def execute(kc, code: str, timeout: float = 60) -> tuple[str, str | None]:
    """(stdout + text results, error) of running ``code``."""
    msg_id = kc.execute(code)
    out, error = "", None
    while True:
        try:
            msg = kc.get_iopub_msg(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"kernel did not finish within {timeout}s: {code}") from None
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream" and content["name"] == "stdout":
            out += content["text"]
        elif kind == "execute_result":
            out += content["data"].get("text/plain", "")
        elif kind == "error":
            error = f"{content['ename']}: {content['evalue']}"
        elif kind == "status" and content["execution_state"] == "idle":
            return out, error


@pytest.fixture
def run_kernel(tmp_path):
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    def run(kernels_dir: Path, name: str, code: str) -> str:
        ksm = KernelSpecManager(kernel_dirs=[str(kernels_dir)])
        km = KernelManager(kernel_name=name, kernel_spec_manager=ksm)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "contents")])}
        cwd = tmp_path / "kernel-cwd"
        cwd.mkdir(exist_ok=True)
        km.start_kernel(cwd=str(cwd), env=env)
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=90)
            out, error = execute(kc, code)
            assert error is None, error
            return out
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)

    return run
