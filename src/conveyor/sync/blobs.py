"""Copy one blob to the destination: skipped when there, mounted when it can be, else streamed.

Streamed means: the source's GET feeds the destination's upload as the bytes arrive (one PUT for
a small blob, PATCHes of `chunk_size` for a large one); memory stays flat whatever the blob's
size. Blobs run several at once (`CopyJob.concurrency`).

When a mount is possible (same registry as the source, or another repository of the destination
that this run gave the blob to) it is tried without a HEAD first: the registry answers 201
whether the blob was already there or has just been mounted, so such a blob is counted mounted.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing

import anyio

from conveyor.client.errors import NetworkError
from conveyor.client.uploads import Transfer
from conveyor.oci.manifest import Descriptor
from conveyor.sync.job import CopyJob
from conveyor.sync.tasks import run_bounded

BLOB_ATTEMPTS = 3
MAX_RETRY_AFTER = 60.0


async def copy_blobs(job: CopyJob, blobs: Sequence[Descriptor]) -> None:
    async def one(blob: Descriptor) -> None:
        await copy_blob(job, blob)

    await run_bounded(blobs, one, job.concurrency)


async def copy_blob(job: CopyJob, blob: Descriptor) -> None:
    registry = job.destination.base_url
    async with job.locations.claim(registry, blob.digest):
        moved = 0
        if await _present(job, blob):
            job.result.skipped(blob)
        elif job.transfers is None:
            moved = await _transfer(job, blob)
        else:
            async with job.transfers:
                moved = await _transfer(job, blob)
        job.locations.add(registry, blob.digest, job.dest_repo)
    job.blob_done(blob, moved)


async def _present(job: CopyJob, blob: Descriptor) -> bool:
    """Whether the destination repository holds the blob: known from this run, else asked
    (HEAD) unless a mount is possible, which settles it in one request either way."""
    registry = job.destination.base_url
    if job.locations.holds(registry, blob.digest, job.dest_repo):
        return True
    if _mount_source(job, blob) is not None:
        return False
    return await job.destination.blob_exists(job.dest_repo, blob.digest)


async def _transfer(job: CopyJob, blob: Descriptor) -> int:
    """Mount or stream the blob; the bytes that went through (every try).

    A network failure the client could not ride out (a lost upload session, a source that kept
    breaking) starts the blob over, a bounded number of times."""
    counter = _Counter()
    for attempt in range(BLOB_ATTEMPTS):
        try:
            await _transfer_once(job, blob, counter)
            return counter.total
        except NetworkError as exc:
            if attempt + 1 >= BLOB_ATTEMPTS:
                raise
            backoff = job.destination.transport.retry.backoff(attempt)
            await anyio.sleep(max(backoff, min(exc.retry_after or 0.0, MAX_RETRY_AFTER)))
    raise AssertionError("unreachable")


async def _transfer_once(job: CopyJob, blob: Descriptor, counter: _Counter) -> None:
    counter.bytes = 0
    # Not hashed here: the destination verifies the digest when the upload completes (the
    # distribution spec requires it), and refuses the blob on a mismatch.
    stream = job.source.stream_blob(job.source_repo, blob.digest, verify=False)
    async with aclosing(_counted(job, stream, counter)) as content:
        transfer = await job.destination.upload_blob(
            job.dest_repo, blob.digest, blob.size, content, mount_from=_mount_source(job, blob)
        )
    if transfer is Transfer.MOUNTED:
        job.result.mounted(blob)
    else:
        job.result.copied(blob, counter.bytes)


def _mount_source(job: CopyJob, blob: Descriptor) -> str | None:
    """The repository to mount from: the source itself on the same registry, else any
    repository of the destination this run already gave the blob to."""
    if job.source.same_registry(job.destination) and job.source_repo != job.dest_repo:
        return job.source_repo
    return job.locations.find(job.destination.base_url, blob.digest, besides=job.dest_repo)


class _Counter:
    bytes = 0  # of the current attempt
    total = 0  # of every attempt, as reported to the progress callback


async def _counted(
    job: CopyJob, stream: AsyncGenerator[bytes, None], counter: _Counter
) -> AsyncGenerator[bytes, None]:
    async with aclosing(stream) as pieces:
        async for piece in pieces:
            counter.bytes += len(piece)
            counter.total += len(piece)
            job.moved(len(piece))
            yield piece
