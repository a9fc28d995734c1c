"""Small parts of the copy engine: bounded concurrency, blob locations, the result record."""

from __future__ import annotations

import anyio
import pytest

from conveyor.client.errors import ErrorCode, NotFoundError
from conveyor.oci.digest import Digest
from conveyor.oci.manifest import Descriptor
from conveyor.sync.locations import BlobLocations
from conveyor.sync.result import CopyResult
from conveyor.sync.tasks import both, run_bounded

pytestmark = pytest.mark.anyio


async def test_run_bounded_never_exceeds_its_limit() -> None:
    running = peak = 0

    async def work(_: int) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await anyio.sleep(0.01)
        running -= 1

    await run_bounded(range(20), work, 3)
    assert peak == 3


async def test_the_first_failure_is_raised_as_itself() -> None:
    async def work(item: int) -> None:
        if item == 2:
            raise NotFoundError("gone")
        await anyio.sleep(10)

    with anyio.fail_after(5), pytest.raises(NotFoundError, match="gone"):
        await run_bounded(range(4), work, 4)


async def test_both_returns_both_results() -> None:
    async def value(x: int) -> int:
        await anyio.sleep(0)
        return x

    assert await both(value(1), value(2)) == (1, 2)


async def test_blob_locations() -> None:
    digest = Digest.of(b"layer")
    locations = BlobLocations()
    assert locations.find("http://r:1", digest, besides="a") is None
    locations.add("http://r:1", digest, "a")
    locations.add("http://r:1", digest, "a")
    assert locations.holds("http://r:1", digest, "a")
    assert not locations.holds("http://other:1", digest, "a")
    assert locations.find("http://r:1", digest, besides="a") is None
    assert locations.find("http://r:1", digest, besides="b") == "a"


async def test_claims_are_exclusive_per_blob() -> None:
    locations = BlobLocations()
    digest = Digest.of(b"x")
    inside = 0
    peak = 0

    async def claim() -> None:
        nonlocal inside, peak
        async with locations.claim("http://r:1", digest):
            inside += 1
            peak = max(peak, inside)
            await anyio.sleep(0.01)
            inside -= 1

    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(claim)
    assert peak == 1


def test_result_record() -> None:
    blob = Descriptor("application/octet-stream", Digest.of(b"b"), 100)
    result = CopyResult("src/a:1", "dst/a:1")
    result.skipped(blob)
    assert result.ok and result.up_to_date
    result.copied(blob, 100)
    assert not result.up_to_date
    result.fail(ErrorCode.NETWORK_ERROR, "down")
    doc = result.to_json()
    assert doc["errorCode"] == "NETWORK_ERROR" and doc["bytesCopied"] == 100
    assert doc["blobsSkipped"] == 1 and doc["bytesSkipped"] == 100
    assert not result.ok
