"""The upstream tests come from the sdist we pinned, or the run says why not."""

from __future__ import annotations

import shutil

import pytest
from datadive_platform import unavailable

from . import sdist
from .conftest import FETCH_ERROR


def test_upstream_tests_were_fetched():
    if FETCH_ERROR:
        unavailable(f"jupyter_server's own contents tests could not be fetched: {FETCH_ERROR}")
    fetched = sorted(
        p.relative_to(sdist.TARGET).as_posix() for p in sdist.TARGET.rglob("test_*.py")
    )
    assert fetched == ["services/contents/test_api.py", "services/contents/test_manager.py"]
    manager = (sdist.TARGET / "services/contents/test_manager.py").read_text()
    assert "def jp_contents_manager(" not in manager  # upstream's FileContentsManager fixture


def test_a_sdist_that_does_not_match_its_pinned_hash_is_refused(tmp_path, monkeypatch):
    if FETCH_ERROR:
        unavailable(f"no cached jupyter_server sdist: {FETCH_ERROR}")
    version = sdist.installed_version()
    cached = sdist.CACHE / f"jupyter_server-{version}.tar.gz"
    monkeypatch.setattr(sdist, "CACHE", tmp_path)
    monkeypatch.setattr(sdist, "TARGET", tmp_path / "fetched")
    tampered = tmp_path / cached.name
    shutil.copyfile(cached, tampered)
    with open(tampered, "ab") as f:
        f.write(b"\0")
    with pytest.raises(sdist.FetchError, match="expected"):
        sdist.fetch(version)
    assert not tampered.exists() and not (tmp_path / "fetched").exists()


def test_a_version_without_a_pinned_hash_says_what_to_do():
    with pytest.raises(sdist.FetchError, match="SDIST_SHA256"):
        sdist.verified_sdist("0.0.0")
