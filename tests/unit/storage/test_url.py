"""open_store picks the driver from the URL scheme."""

from __future__ import annotations

from pathlib import Path

import pytest

from conveyor.storage.base import BlobStore, StorageError
from conveyor.storage.filesystem import FilesystemStore
from conveyor.storage.s3 import S3Store
from conveyor.storage.url import open_store


def test_file_url_opens_a_directory_store(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path / 'blobs'}")
    assert isinstance(store, FilesystemStore)
    assert isinstance(store, BlobStore)
    assert store.root == (tmp_path / "blobs").resolve()
    assert (tmp_path / "blobs").is_dir()


def test_s3_url_opens_an_s3_store() -> None:
    # Opening makes no request: the bucket is checked (and created) on first use.
    store = open_store("s3://conveyor-blobs/eu/prod?endpoint=http://127.0.0.1:1&region=eu-west-1")
    assert isinstance(store, S3Store)
    assert isinstance(store, BlobStore)
    assert (store.bucket, store.prefix, store.region) == ("conveyor-blobs", "eu/prod", "eu-west-1")
    assert store.local_path("blobs/x") is None


def test_s3_url_without_prefix_or_options() -> None:
    store = open_store("s3://conveyor-blobs")
    assert isinstance(store, S3Store)
    assert (store.bucket, store.prefix) == ("conveyor-blobs", "")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/blobs",
        "gs://bucket",
        "/var/lib/conveyor",
        "",
        "s3:///no-bucket",
        "s3://bucket?endpont=http://typo:8333",
    ],
)
def test_unusable_urls_are_refused(url: str) -> None:
    with pytest.raises(StorageError):
        open_store(url)
