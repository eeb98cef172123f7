"""Run jupyter_server's own contents tests against DatadiveContentsManager on S3 (moto).

The tests are not kept here: ``sdist.py`` takes them from the sdist of the installed jupyter_server
(downloaded once into ``.venv/upstream-cache/``, hash-checked) and writes them into ``fetched/``
when this file is loaded. Without network (and no cached sdist) that fails:
``test_sdist.py::test_upstream_tests_were_fetched`` then fails under ``CI`` with the reason and is
skipped with it elsewhere.

Fixtures (overriding pytest-jupyter's):
- ``moto_endpoint`` (session): a moto S3 server subprocess on 127.0.0.1.
- ``s3_bucket``: a fresh versioned bucket per test.
- ``jp_contents_manager``: DatadiveContentsManager (single-root mode, ``s3://<bucket>/root``),
  working copy in the test's tmp dir. With ``UPSTREAM_CM=s3contents`` it is s3contents'
  S3ContentsManager on the same kind of bucket (to count how many tests the peer fails).
- ``jp_server_config``: a ServerApp whose contents manager is the same.
- ``contents_dir``, ``contents``, ``folders``: upstream's sample tree (``dirs``, read from its
  tests/conftest.py in the sdist), written into the
  bucket with boto3 (like any S3 tool: no folder marker objects) instead of onto the disk.
Deselected tests are listed in ``DESELECTED`` with the reason for each.
"""

from __future__ import annotations

import os
import shutil

import pytest
from moto_s3 import MotoServer, make_bucket, s3_client  # tests/moto_s3.py (tests/ is on sys.path)
from nbformat import writes
from nbformat.v4 import new_notebook
from traitlets.config import Config

from .sdist import TARGET, FetchError, fetch

#: why the upstream tests could not be fetched (None: they are in fetched/)
FETCH_ERROR: str | None = None
#: upstream's sample tree: (folder, name) pairs
dirs: list[tuple[str, str]] = []
try:
    dirs = fetch()
except FetchError as exc:
    FETCH_ERROR = str(exc)
    shutil.rmtree(TARGET, ignore_errors=True)  # no stale tests of another version

PEER = os.environ.get("UPSTREAM_CM", "datadive")

#: test name (or name prefix before "[") → why it does not apply to an object-store manager
DESELECTED = {
    # these construct FileContentsManager themselves (fixture jp_file_contents_manager_class):
    # they test its os paths, root_dir, symlinks, permissions and checkpoint dirs, not us
    "test_root_dir": "FileContentsManager root_dir (local filesystem)",
    "test_missing_root_dir": "FileContentsManager root_dir (local filesystem)",
    "test_invalid_root_dir": "FileContentsManager root_dir (local filesystem)",
    "test_get_os_path": "FileContentsManager os paths",
    "test_get_os_path_posix": "FileContentsManager os paths",
    "test_checkpoint_subdir": "FileContentsManager's .ipynb_checkpoints directory on disk",
    "test_bad_symlink": "symlinks",
    "test_recursive_symlink": "symlinks",
    "test_good_symlink": "symlinks",
    "test_403": "os file permissions of FileContentsManager",
    "test_400": "FileContentsManager hidden-directory handling on disk (jp_file_contents_manager_class)",
    "test_404": "FileContentsManager hidden-directory handling on disk (jp_file_contents_manager_class)",
    "test_escape_root": "FileContentsManager root_dir escape via files next to root on disk",
    "test_regression_is_hidden": "patches filemanager.is_hidden (an os-level check) and expects it to be called",
    # created timestamps: object stores have no creation time
    "test_created_timestamp": "created timestamps (S3 has no creation time)",
    "test_created_uses_birthtime_on_macos": "created timestamps from os.stat birthtime",
    "test_created_uses_ctime_on_windows": "created timestamps from os.stat ctime",
    "test_created_timestamp_fallback_to_epoch": "created timestamps from os.stat",
    "test_get_created_timestamp_": "filemanager._get_created_timestamp helper (os.stat)",
    "test_base_model_invalid_timestamp_fallback": "FileContentsManager._base_model with os.stat",
    # notary files: the signature database is a local sqlite file of FileContentsManager
    "test_save_before_and_after_signature_store_corruption": "notary sqlite file on disk",
    "test_save_raises_when_signature_store_unrecoverable": "notary sqlite file on disk",
}


def _deselect_reason(name: str) -> str | None:
    base = name.split("[")[0]
    if base in DESELECTED:
        return DESELECTED[base]
    for key, why in DESELECTED.items():
        if key.endswith("_") and base.startswith(key):
            return why
    return None


def pytest_collection_modifyitems(config, items):
    keep, drop = [], []
    for item in items:
        (drop if _deselect_reason(item.name) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_report_header(config):
    return [
        f"contents manager under test: {PEER}; deselected (with reasons): see DESELECTED in {__file__}"
    ]


@pytest.fixture(scope="session")
def moto_endpoint():
    srv = MotoServer()
    srv.start()
    yield srv.url
    srv.stop()


@pytest.fixture
def s3_bucket(moto_endpoint):
    return make_bucket(moto_endpoint, prefix="up")


def _datadive_traits(endpoint, bucket):
    return {
        "store_url": f"s3://{bucket}/root",
        "s3_endpoint_url": endpoint,
        "s3_access_key_id": "test",
        "s3_secret_access_key": "test",
        "s3_check_folders": True,
        "poll_interval": 0.5,
    }


def _s3contents_traits(endpoint, bucket):
    return {
        "bucket": bucket,
        "prefix": "root",
        "endpoint_url": endpoint,
        "access_key_id": "test",
        "secret_access_key": "test",
    }


@pytest.fixture
def jp_contents_manager(tmp_path, moto_endpoint, s3_bucket):
    if PEER == "s3contents":
        from s3contents import S3ContentsManager

        return S3ContentsManager(**_s3contents_traits(moto_endpoint, s3_bucket))
    from datadive_contents.manager import DatadiveContentsManager

    return DatadiveContentsManager(
        root_dir=str(tmp_path), **_datadive_traits(moto_endpoint, s3_bucket)
    )


@pytest.fixture
def jp_server_config(moto_endpoint, s3_bucket):
    if PEER == "s3contents":
        return Config(
            {
                "ServerApp": {"contents_manager_class": "s3contents.S3ContentsManager"},
                "S3ContentsManager": _s3contents_traits(moto_endpoint, s3_bucket),
            }
        )
    return Config(
        {
            "ServerApp": {
                "contents_manager_class": "datadive_contents.manager.DatadiveContentsManager"
            },
            "DatadiveContentsManager": _datadive_traits(moto_endpoint, s3_bucket),
        }
    )


@pytest.fixture
def contents_dir(tmp_path, jp_serverapp):
    return tmp_path / jp_serverapp.root_dir


@pytest.fixture
def contents(contents_dir, moto_endpoint, s3_bucket):
    """Upstream's sample files, PUT into the bucket under root/ with boto3 (no folder markers)."""
    s3 = s3_client(moto_endpoint)
    paths: dict = {"notebooks": [], "textfiles": [], "blobs": [], "contents_dir": contents_dir}
    for d, name in dirs:
        pre = f"root/{d}/" if d else "root/"
        s3.put_object(
            Bucket=s3_bucket,
            Key=f"{pre}{name}.ipynb",
            Body=writes(new_notebook(), version=4).encode(),
        )
        s3.put_object(Bucket=s3_bucket, Key=f"{pre}{name}.txt", Body=f"{name} text file".encode())
        s3.put_object(
            Bucket=s3_bucket, Key=f"{pre}{name}.blob", Body=name.encode("utf-8") + b"\xff"
        )
        # like upstream, the folders also exist on the server's disk (empty: the files are only
        # in the bucket); tests that write files straight onto the disk need them
        (contents_dir / d).mkdir(parents=True, exist_ok=True)
        rel = f"{d}/" if d else ""
        paths["notebooks"].append(f"{rel}{name}.ipynb")
        paths["textfiles"].append(f"{rel}{name}.txt")
        paths["blobs"].append(f"{rel}{name}.blob")
    paths["all"] = list(paths.values())
    return paths


@pytest.fixture
def folders():
    return list({item[0] for item in dirs})
