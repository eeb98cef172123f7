"""Fixtures shared with tests/contents: a HubServiceStore on a real running Datadive service.

``hub_store``: a :class:`HubServiceStore` for a fresh project of a fresh user on the session's
``platform`` (real hub + proxy + service, local directory store), reached through the proxy with
the user's own JupyterHub token — what a user server uses. tests/contents adds it to its backend
parametrization by importing this fixture.
"""

from __future__ import annotations

import pytest
from datadive_contents.stores.hub import HubServiceStore

#: DatadiveService.max_upload_bytes of the ``s3_platform`` (tests/files/conftest.py)
MAX_UPLOAD = 20 << 20


@pytest.fixture
async def hub_store(platform):
    owner = platform.user()
    project = platform.project(owner)
    store = HubServiceStore(
        project["id"], service_url=f"{platform.url}/services/datadive/", token=owner.token
    )
    yield store
    await store.close()
