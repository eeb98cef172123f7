"""Object stores: the interface, its errors, and ``store_from_url``."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from .base import (
    Conflict,
    Listing,
    NotFound,
    ObjectInfo,
    ObjectStore,
    PathRejected,
    PrefixStore,
    Refused,
    StoreError,
    StoreUnavailable,
)

__all__ = [
    "Conflict",
    "Listing",
    "NotFound",
    "ObjectInfo",
    "ObjectStore",
    "PathRejected",
    "PrefixStore",
    "Refused",
    "StoreError",
    "StoreUnavailable",
    "store_from_url",
]


def store_from_url(url: str, **options: Any) -> ObjectStore:
    """Build a store from a URL.

    ``file:///abs/dir`` → LocalDirectoryStore; ``s3://bucket/prefix?endpoint_url=http://...&region=..``
    → S3Store (credentials from ``options`` — ``access_key_id``, ``secret_access_key`` — or the
    usual AWS environment / config chain). Extra keyword ``options`` go to the store's constructor.
    """
    parsed = urlparse(url)
    if parsed.scheme == "file":
        from .local import LocalDirectoryStore

        if parsed.netloc not in ("", "localhost"):
            raise ValueError(f"file URL {url!r} must be file:///absolute/path")
        return LocalDirectoryStore(unquote(parsed.path))
    if parsed.scheme == "s3":
        from .s3 import S3Store

        if not parsed.netloc:
            raise ValueError(f"S3 URL {url!r} needs a bucket: s3://bucket/prefix")
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        kwargs = {**query, **options}
        return S3Store(bucket=parsed.netloc, prefix=unquote(parsed.path).strip("/"), **kwargs)
    raise ValueError(
        f"unsupported store URL {url!r}: use file:///path/to/dir or s3://bucket/prefix?endpoint_url=..."
    )
