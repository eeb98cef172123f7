"""Fixtures for the storage tests (tests/contents).

From tests/conftest.py: ``moto``, ``s3_bucket``, ``s3_store``, ``local_store``, ``hub_store``.

- ``store`` (parametrized): every ObjectStore backend in ``STORE_BACKENDS`` — the contract suite
  runs once per backend. Add a backend by adding one entry to ``STORE_BACKENDS``.
"""

from __future__ import annotations

import pytest

#: backend name → fixture that provides it. One line per backend.
STORE_BACKENDS = {
    "hub": "hub_store",
    "local": "local_store",
    "s3": "s3_store",
}


@pytest.fixture(params=sorted(STORE_BACKENDS))
def store(request):
    return request.getfixturevalue(STORE_BACKENDS[request.param])
