"""Manifests and blobs through the client, against real registries (distribution and Conveyor),
with the flaky proxy in front where a failure has to be provoked."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest

from conveyor.client import (
    IntegrityError,
    ManifestBlob,
    NetworkError,
    NotFoundError,
    RegistryClient,
    RejectedError,
    RetryPolicy,
    Transfer,
)
from conveyor.client.errors import UploadLostError
from conveyor.oci import mediatypes
from conveyor.oci.digest import Digest
from tests.support.flaky_proxy import FlakyProxy
from tests.support.sync_content import RandomImage, push_image, sha256
from tests.unit.client.conftest import Target

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]
MIB = 1024 * 1024
ProxyMaker = Callable[[str], FlakyProxy]


def client(target: Target, url: str | None = None, **options: Any) -> RegistryClient:
    return RegistryClient(url or target.url, credentials=target.credentials, **options)


async def pieces(data: bytes, size: int = 300_000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def read_all(registry: RegistryClient, repository: str, digest: Digest) -> bytes:
    return b"".join([piece async for piece in registry.stream_blob(repository, digest)])


async def test_small_and_large_blobs_round_trip(target: Target, flaky_proxy: ProxyMaker) -> None:
    proxy = flaky_proxy(target.url)
    small, large = os.urandom(1000), os.urandom(3 * MIB + 123)
    async with client(target, proxy.url, chunk_size=MIB, monolithic_max=MIB) as registry:
        for data in (small, large):
            digest = Digest.of(data)
            assert not await registry.blob_exists("client/blobs", digest)
            transfer = await registry.upload_blob("client/blobs", digest, len(data), pieces(data))
            assert transfer is Transfer.UPLOADED
            assert await registry.blob_size("client/blobs", digest) == len(data)
            assert await read_all(registry, "client/blobs", digest) == data
    patches = [r for r in proxy.requests if r.method == "PATCH"]
    assert len(patches) == 4, "a 3 MiB + 123 B blob goes in four 1 MiB chunks"
    assert all(r.status == 202 for r in patches)
    puts = [r for r in proxy.requests if r.method == "PUT"]
    assert len(puts) == 2, "one PUT per blob: with the body (small) or closing the chunks (large)"


async def test_manifest_get_head_put_keep_bytes_and_digest(target: Target) -> None:
    image = RandomImage.make(2000)
    push_image(target.url, target.auth, "client/manifests", "v1", image)
    async with client(target) as registry:
        fetched = await registry.get_manifest("client/manifests", "v1")
        assert fetched.body == image.manifest
        assert str(fetched.digest) == image.digest
        assert fetched.media_type == mediatypes.OCI_MANIFEST
        by_digest = await registry.get_manifest("client/manifests", image.digest)
        assert by_digest == fetched
        info = await registry.head_manifest("client/manifests", "v1")
        assert info is not None and str(info.digest) == image.digest
        assert await registry.head_manifest("client/manifests", "missing") is None

        assert await registry.put_manifest("client/manifests", "v2", fetched) == fetched.digest
        again = await registry.head_manifest("client/manifests", "v2")
        assert again is not None and again.digest == fetched.digest


async def test_broken_blob_download_resumes_with_range(
    target: Target, flaky_proxy: ProxyMaker
) -> None:
    data = os.urandom(3 * MIB)
    digest = Digest.of(data)
    async with client(target) as direct:
        await direct.upload_blob("client/resume", digest, len(data), pieces(data))
    proxy = flaky_proxy(target.url)
    proxy.cut(2, after=MIB, match=lambda method, path: method == "GET" and "/blobs/" in path)
    async with client(target, proxy.url) as registry:
        assert await read_all(registry, "client/resume", digest) == data
    gets = [r for r in proxy.requests if r.method == "GET" and "/blobs/sha256" in r.path]
    assert [r.status for r in gets] == [None, None, 206], "cut twice, then the rest by Range"


async def test_lost_chunk_answer_resumes_from_the_upload_status(
    target: Target, flaky_proxy: ProxyMaker
) -> None:
    """The PATCH landed but its answer was lost: the client asks where the upload stands.

    Conveyor answers, and the upload goes on without sending the chunk again. distribution signs
    the offset into the upload location and refuses the stale one: the client says the session
    is lost (the copy engine then sends the blob again, see tests/e2e/test_sync_copy.py).
    """
    data = os.urandom(3 * MIB)
    digest = Digest.of(data)
    proxy = flaky_proxy(target.url)
    proxy.cut(1, after=None, match=lambda method, path: method == "PATCH")
    async with client(target, proxy.url, chunk_size=MIB, monolithic_max=MIB) as registry:
        if target.name == "distribution":
            with pytest.raises(UploadLostError) as caught:
                await registry.upload_blob("client/chunks", digest, len(data), pieces(data))
            assert caught.value.code == "NETWORK_ERROR"
            return
        await registry.upload_blob("client/chunks", digest, len(data), pieces(data))
        assert await read_all(registry, "client/chunks", digest) == data
    methods = [r.method for r in proxy.requests if "/blobs/uploads/" in r.path and r.status != 401]
    assert methods[:3] == ["POST", "PATCH", "GET"], "after the lost answer, a status GET"
    assert methods.count("PATCH") == 3, "the landed chunk is not sent again"


async def test_mount_and_fallback_to_upload(target: Target) -> None:
    data = os.urandom(5000)
    digest = Digest.of(data)
    async with client(target) as registry:
        await registry.upload_blob("client/mount-src", digest, len(data), pieces(data))
        assert await registry.mount_blob("client/mount-dst", digest, "client/mount-src")
        assert await registry.blob_exists("client/mount-dst", digest)
        assert not await registry.mount_blob(
            "client/mount-dst", Digest.of(b"x"), "client/mount-src"
        )

        other = os.urandom(4000)
        other_digest = Digest.of(other)
        transfer = await registry.upload_blob(
            "client/mount-dst", other_digest, len(other), pieces(other), mount_from="client/none"
        )
        assert transfer is Transfer.UPLOADED, "202 to the mount: the bytes go in its session"
        assert await read_all(registry, "client/mount-dst", other_digest) == other


async def test_429_with_retry_after_is_honoured(target: Target, flaky_proxy: ProxyMaker) -> None:
    proxy = flaky_proxy(target.url)
    proxy.throttle(2, retry_after="1")
    async with client(target, proxy.url) as registry:
        started = time.monotonic()
        with anyio.fail_after(30):
            await registry.ping()
        elapsed = time.monotonic() - started
    assert elapsed >= 2.0, "two answers asked for a one-second wait each"
    statuses = [r.status for r in proxy.requests]
    assert statuses[:2] == [429, 429] and statuses[-1] == 200


async def test_persistent_unavailability_ends_as_network_error(
    target: Target, flaky_proxy: ProxyMaker
) -> None:
    proxy = flaky_proxy(target.url)
    proxy.throttle(100, status=503, retry_after=None)
    policy = RetryPolicy(attempts=3, base_delay=0.05)
    async with client(target, proxy.url, retry=policy) as registry:
        with pytest.raises(NetworkError) as caught:
            await registry.get_manifest("client/manifests", "v1")
    assert caught.value.status == 503
    assert len(proxy.requests) == 3


async def test_refused_connections_are_retried_until_the_registry_is_back(
    target: Target, flaky_proxy: ProxyMaker
) -> None:
    proxy = flaky_proxy(target.url)
    proxy.refuse_for(1.5)
    async with client(target, proxy.url) as registry:
        started = time.monotonic()
        with anyio.fail_after(30):
            await registry.ping()
        assert time.monotonic() - started >= 1.0


async def test_nothing_listening_is_a_network_error(
    target: Target, flaky_proxy: ProxyMaker
) -> None:
    proxy = flaky_proxy(target.url)
    url = proxy.url
    proxy.close()
    async with RegistryClient(url, retry=RetryPolicy(attempts=2, base_delay=0.05)) as registry:
        with pytest.raises(NetworkError) as caught:
            await registry.ping()
    assert caught.value.code == "NETWORK_ERROR"


async def test_missing_things_are_not_found(target: Target) -> None:
    async with client(target) as registry:
        with pytest.raises(NotFoundError) as caught:
            await registry.get_manifest("client/nothing", "v1")
        assert caught.value.code == "NOT_FOUND"
        missing = Digest.of(b"never pushed")
        with pytest.raises(NotFoundError):
            await read_all(registry, "client/manifests", missing)
        assert await registry.blob_size("client/manifests", missing) is None


async def test_manifest_with_missing_blobs_is_rejected(target: Target) -> None:
    image = RandomImage.make(100)
    body = image.manifest
    blob = ManifestBlob(body, mediatypes.OCI_MANIFEST, Digest.parse(sha256(body)))
    async with client(target) as registry:
        with pytest.raises(RejectedError) as caught:
            await registry.put_manifest("client/rejected", "v1", blob)
    assert caught.value.code == "DESTINATION_REJECTED"
    assert caught.value.registry_code in ("MANIFEST_BLOB_UNKNOWN", "BLOB_UNKNOWN")


async def test_upload_content_of_the_wrong_size_is_refused(target: Target) -> None:
    data = os.urandom(1000)
    async with client(target) as registry:
        with pytest.raises(IntegrityError):
            await registry.upload_blob("client/sizes", Digest.of(data), 999, pieces(data))
        assert not await registry.blob_exists("client/sizes", Digest.of(data))
