"""The BlobStore contract, run on every backend: a directory, and S3 on a real SeaweedFS server."""

from __future__ import annotations

import contextlib
import hashlib
import random
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import anyio
import pytest

from conveyor.storage.base import BlobStore, ObjectNotFound, StorageError
from conveyor.storage.filesystem import FilesystemStore
from conveyor.storage.s3 import MiB, S3Store, S3Tuning
from tests.support.seaweedfs import SeaweedFS

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(180)]

# Small copy parts and list pages, so that moves of the large object take the multipart-copy
# path and listings take several pages, as with real sizes (> 5 GiB, > 1000 keys).
S3_TEST_TUNING = S3Tuning(copy_threshold=16 * MiB, copy_part_size=6 * MiB, list_page=2)
LARGE = 20 * MiB + 12345  # more than two 8 MiB parts, and not a whole number of them


@pytest.fixture(params=["filesystem", "s3", "s3-prefixed"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobStore]:
    backend: BlobStore
    if request.param == "filesystem":
        backend = FilesystemStore(tmp_path / "blobs")
    else:
        seaweedfs: SeaweedFS = request.getfixturevalue("seaweedfs")
        prefix = "deployments/one" if request.param == "s3-prefixed" else ""
        backend = S3Store.from_url(seaweedfs.bucket_url(prefix), tuning=S3_TEST_TUNING)
    try:
        yield backend
    finally:
        await backend.close()


async def stream(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        await anyio.sleep(0)
        yield chunk


async def generated(size: int, seed: int = 7, chunk: int = 700 * 1024) -> AsyncIterator[bytes]:
    """`size` pseudo-random bytes in odd-sized chunks, produced as they are consumed."""
    rng = random.Random(seed)
    left = size
    while left:
        take = min(chunk, left)
        left -= take
        yield rng.randbytes(take)


def digest_of(size: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    sha = hashlib.sha256()
    left = size
    while left:
        take = min(700 * 1024, left)
        left -= take
        sha.update(rng.randbytes(take))
    return sha.hexdigest()


async def read_all(
    store: BlobStore, path: str, offset: int = 0, length: int | None = None
) -> bytes:
    return b"".join([chunk async for chunk in store.read(path, offset, length)])


async def put(store: BlobStore, path: str, data: bytes) -> None:
    assert await store.write(path, stream(data)) == len(data)


async def failing(parts: Iterable[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part
    raise ConnectionResetError("client went away")


# -- stat, write, read ---------------------------------------------------------------------


async def test_stat_of_missing_object_is_none(store: BlobStore) -> None:
    assert await store.stat("blobs/none") is None


async def test_write_then_stat_and_read(store: BlobStore) -> None:
    before = time.time()
    written = await store.write("blobs/sha256/ab/abcd", stream(b"hello ", b"", b"world"))
    assert written == 11
    found = await store.stat("blobs/sha256/ab/abcd")
    assert found is not None
    assert (found.path, found.size) == ("blobs/sha256/ab/abcd", 11)
    assert before - 5 <= found.modified <= time.time() + 5
    assert await read_all(store, "blobs/sha256/ab/abcd") == b"hello world"


async def test_empty_object(store: BlobStore) -> None:
    await put(store, "empty", b"")
    found = await store.stat("empty")
    assert found is not None and found.size == 0
    assert await read_all(store, "empty") == b""
    assert await read_all(store, "empty", 0, 10) == b""


async def test_ranged_reads(store: BlobStore) -> None:
    data = bytes(range(256)) * 4
    await put(store, "ranged", data)
    assert await read_all(store, "ranged", 3) == data[3:]
    assert await read_all(store, "ranged", 3, 4) == data[3:7]
    assert await read_all(store, "ranged", 0, 1) == data[:1]
    assert await read_all(store, "ranged", len(data) - 2, 10) == data[-2:]
    assert await read_all(store, "ranged", 5, 0) == b""
    assert await read_all(store, "ranged", len(data)) == b""
    assert await read_all(store, "ranged", len(data), 5) == b""
    assert await read_all(store, "ranged", len(data) + 100) == b""


async def test_read_of_missing_object(store: BlobStore) -> None:
    with pytest.raises(ObjectNotFound):
        await read_all(store, "blobs/none")
    with pytest.raises(ObjectNotFound):
        await read_all(store, "blobs/none", 10, 5)
    with pytest.raises(ObjectNotFound):
        await read_all(store, "blobs/none", 0, 0)


async def test_large_stream_round_trip_and_move(store: BlobStore) -> None:
    """More than one S3 part, written and read in bounded chunks, byte-exact (by hash)."""
    assert await store.write("uploads/big/data", generated(LARGE)) == LARGE
    found = await store.stat("uploads/big/data")
    assert found is not None and found.size == LARGE
    expected = digest_of(LARGE)
    await assert_streams_as(store, "uploads/big/data", expected)

    boundary = 8 * MiB  # an S3 part boundary: a range across it is stitched from two parts
    reference = b"".join([c async for c in generated(boundary + 100)])[boundary - 100 :]
    assert await read_all(store, "uploads/big/data", boundary - 100, 200) == reference

    async with contextlib.aclosing(store.read("uploads/big/data")) as partial:
        assert len(await anext(partial)) > 0  # a reader that stops early releases the stream

    await store.move("uploads/big/data", "blobs/sha256/bi/big")
    assert await store.stat("uploads/big/data") is None
    moved = await store.stat("blobs/sha256/bi/big")
    assert moved is not None and moved.size == LARGE
    await assert_streams_as(store, "blobs/sha256/bi/big", expected)


async def assert_streams_as(store: BlobStore, path: str, sha256: str) -> None:
    sha = hashlib.sha256()
    largest = 0
    async for chunk in store.read(path):
        largest = max(largest, len(chunk))
        sha.update(chunk)
    assert sha.hexdigest() == sha256
    assert largest <= 1 * MiB  # streamed in chunks, never the whole object


async def test_write_replaces_existing_object(store: BlobStore) -> None:
    await put(store, "tags/latest", b"a much longer first version")
    await put(store, "tags/latest", b"second")
    assert await read_all(store, "tags/latest") == b"second"
    found = await store.stat("tags/latest")
    assert found is not None and found.size == 6


async def test_concurrent_writes_to_one_path_never_mix(store: BlobStore) -> None:
    versions = [bytes([n]) * (50_000 + n) for n in range(6)]
    async with anyio.create_task_group() as group:
        for data in versions:
            group.start_soon(put, store, "contended", data)
    assert await read_all(store, "contended") in versions


# -- nothing half-written is visible ---------------------------------------------------------


@pytest.mark.parametrize("before_failure", [1000, 9 * MiB + 3], ids=["small", "multipart"])
async def test_failed_write_leaves_no_object(store: BlobStore, before_failure: int) -> None:
    with pytest.raises(ConnectionResetError):
        await store.write("uploads/x/data", failing([b"x" * before_failure]))
    assert await store.stat("uploads/x/data") is None
    assert [o async for o in store.list("uploads/")] == []
    assert await pending_multipart_uploads(store) == []


async def test_failed_write_keeps_previous_version(store: BlobStore) -> None:
    await put(store, "tags/stable", b"previous")
    with pytest.raises(ConnectionResetError):
        await store.write("tags/stable", failing([b"y" * (9 * MiB)]))
    assert await read_all(store, "tags/stable") == b"previous"


async def test_cancelled_write_leaves_no_object(store: BlobStore) -> None:
    stalled = anyio.Event()

    async def stalls() -> AsyncIterator[bytes]:
        yield b"z" * (9 * MiB)  # on S3, asked for more only once the first part is uploaded
        stalled.set()
        await anyio.sleep_forever()
        yield b""  # pragma: no cover

    async with anyio.create_task_group() as group:
        group.start_soon(store.write, "uploads/stalled/data", stalls())
        with anyio.fail_after(60):
            await stalled.wait()
        group.cancel_scope.cancel()
    assert await store.stat("uploads/stalled/data") is None
    assert await pending_multipart_uploads(store) == []


async def pending_multipart_uploads(store: BlobStore) -> list[str]:
    """S3 only: keys of multipart uploads that were started and neither completed nor aborted."""
    if not isinstance(store, S3Store):
        return []
    listing = await anyio.to_thread.run_sync(
        lambda: store._client.list_multipart_uploads(Bucket=store.bucket)
    )
    return [upload.get("Key", "") for upload in listing.get("Uploads", [])]


# -- move, delete, list ----------------------------------------------------------------------


async def test_move(store: BlobStore) -> None:
    await put(store, "uploads/u1/data", b"content")
    await put(store, "blobs/target", b"old target")
    await store.move("uploads/u1/data", "blobs/target")
    assert await store.stat("uploads/u1/data") is None
    assert await read_all(store, "blobs/target") == b"content"


async def test_move_of_missing_object(store: BlobStore) -> None:
    with pytest.raises(ObjectNotFound):
        await store.move("uploads/none/data", "blobs/target")
    assert await store.stat("blobs/target") is None


async def test_delete(store: BlobStore) -> None:
    await put(store, "blobs/sha256/de/del", b"bye")
    await store.delete("blobs/sha256/de/del")
    assert await store.stat("blobs/sha256/de/del") is None
    await store.delete("blobs/sha256/de/del")  # absent: not an error
    await store.delete("never/existed")


async def test_list_by_prefix(store: BlobStore) -> None:
    contents = {
        "blobs/sha256/aa/one": b"1",
        "blobs/sha256/ab/two": b"22",
        "blobs/sha256/cd/three": b"333",
        "blobs-other/four": b"4444",
        "uploads/u/data": b"55555",
    }
    for path, data in contents.items():
        await put(store, path, data)

    async def listed(prefix: str) -> dict[str, int]:
        return {o.path: o.size async for o in store.list(prefix)}

    def expected(prefix: str) -> dict[str, int]:
        return {p: len(d) for p, d in contents.items() if p.startswith(prefix)}

    for prefix in ["blobs/", "blobs/sha256/a", "blobs", "uploads/", "blobs/sha256/cd/three", ""]:
        assert await listed(prefix) == expected(prefix), prefix
    assert await listed("nothing/") == {}
    await store.delete("blobs/sha256/cd/three")
    assert await listed("blobs/sha256/") == expected("blobs/sha256/a")


async def test_local_path(store: BlobStore) -> None:
    await put(store, "blobs/local", b"bytes on disk")
    local = store.local_path("blobs/local")
    if isinstance(store, S3Store):
        assert local is None
    else:
        assert local is not None and Path(local).read_bytes() == b"bytes on disk"


async def test_paths_cannot_escape_the_store(store: BlobStore, tmp_path: Path) -> None:
    with pytest.raises(StorageError):
        await store.write("../x", stream(b"escaped"))
    with pytest.raises(StorageError):
        await store.stat("../x")
    with pytest.raises(StorageError):
        await read_all(store, "blobs/../../x")
    assert not (tmp_path / "x").exists()
