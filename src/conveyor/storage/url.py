"""Open a blob store from its configured URL: `file:///path` or `s3://bucket?endpoint=...&region=...`."""

from __future__ import annotations

from urllib.parse import urlsplit

from conveyor.storage.base import BlobStore, StorageError
from conveyor.storage.filesystem import FilesystemStore


def open_store(url: str) -> BlobStore:
    parts = urlsplit(url)
    if parts.scheme == "file":
        return FilesystemStore(parts.path)
    if parts.scheme == "s3":
        from conveyor.storage.s3 import S3Store  # boto3 loads only when S3 is configured

        return S3Store.from_url(url)
    raise StorageError(f"unsupported storage URL scheme {parts.scheme!r} (use file:// or s3://)")
