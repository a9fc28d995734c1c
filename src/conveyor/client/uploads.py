"""Blob uploads: cross-repository mount, monolithic PUT for small blobs, chunked PATCH for large.

The content comes from an async iterator and is never held whole: a small blob streams straight
into one PUT (sent once: on failure the caller starts the blob over); a large blob goes in chunks
of `chunk_size` bytes, each one PATCH with `Content-Range`. A chunk whose PATCH fails (connection
lost, or 416 because an earlier try did land) is resumed from the offset the registry reports
for the upload (when the registry no longer knows the session at that point, UploadLostError
says the blob must be sent again from its start). A mount answered by 202 (the registry could
not mount) becomes an upload in the session it opened. On failure the upload session is
cancelled (best effort).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable
from contextlib import aclosing, suppress
from enum import StrEnum
from typing import Final

import anyio
import httpx

from conveyor.client.challenge import Scope, pull, push
from conveyor.client.errors import (
    IntegrityError,
    NetworkError,
    NotFoundError,
    RegistryClientError,
    UploadLostError,
    UploadRangeError,
)
from conveyor.client.transport import Call, Transport
from conveyor.oci.digest import Digest

OCTET_STREAM: Final = "application/octet-stream"
CANCEL_TIMEOUT: Final = 10.0
WRITE_PIECE: Final = 1024 * 1024


class Transfer(StrEnum):
    MOUNTED = "mounted"
    UPLOADED = "uploaded"


async def upload_blob(
    transport: Transport,
    repository: str,
    digest: Digest,
    size: int,
    content: AsyncIterable[bytes],
    *,
    chunk_size: int,
    monolithic_max: int,
    mount_from: str | None = None,
) -> Transfer:
    """Mount from `mount_from` when given and possible, else upload `content` (which the caller
    owns and closes: it is not read at all after a successful mount)."""
    location = await _start(transport, repository, digest, mount_from)
    if location is None:
        return Transfer.MOUNTED
    try:
        if size <= monolithic_max:
            body = _exactly(content, size, digest)
            await _finish(transport, repository, location, digest, body, size)
        else:
            location = await _send_chunks(transport, repository, location, content, chunk_size)
            await _finish(transport, repository, location, digest, b"", 0)
    except BaseException:
        with anyio.CancelScope(shield=True), anyio.move_on_after(CANCEL_TIMEOUT):
            await _cancel(transport, repository, location)
        raise
    return Transfer.UPLOADED


async def mount_blob(
    transport: Transport, repository: str, digest: Digest, from_repository: str
) -> bool:
    """Mount only: True when mounted; False (the session it opened cancelled) otherwise."""
    location = await _start(transport, repository, digest, from_repository)
    if location is None:
        return True
    await _cancel(transport, repository, location)
    return False


async def _start(
    transport: Transport, repository: str, digest: Digest, mount_from: str | None
) -> str | None:
    """The new session's location; None when the blob was mounted instead."""
    scopes: tuple[Scope, ...] = (push(repository),)
    params: list[tuple[str, str]] = []
    if mount_from:
        scopes += (pull(mount_from),)
        params = [("mount", str(digest)), ("from", mount_from)]
    call = Call(
        "POST",
        f"/v2/{repository}/blobs/uploads/",
        scopes,
        f"POST upload {repository}@{digest}",
        params=params,
    )
    response = await transport.request(call, ok={201, 202} if mount_from else {202})
    if response.status_code == 201:
        return None
    return _location(response, call.what)


async def _send_chunks(
    transport: Transport,
    repository: str,
    location: str,
    content: AsyncIterable[bytes],
    chunk_size: int,
) -> str:
    offset = 0
    async with aclosing(rechunk(content, chunk_size)) as chunks:
        async for chunk in chunks:
            location = await _patch(transport, repository, location, chunk, offset)
            offset += len(chunk)
    return location


async def _patch(
    transport: Transport, repository: str, location: str, chunk: bytes, offset: int
) -> str:
    """Send `chunk` at `offset`; on failure ask the registry where it stands and send the rest."""
    done = 0
    attempt = 0
    while True:
        body = chunk[done:] if done else chunk
        start = offset + done
        call = Call(
            "PATCH",
            location,
            (push(repository),),
            f"PATCH upload {repository} at {start}",
            headers={
                "Content-Type": OCTET_STREAM,
                "Content-Range": f"{start}-{start + len(body) - 1}",
            },
            content=body,
            replayable=False,
        )
        try:
            response = await transport.request(call, ok={202})
            return _location(response, call.what)
        except (NetworkError, UploadRangeError):
            if not transport.retry.allows(attempt):
                raise
            await anyio.sleep(transport.retry.backoff(attempt))
            attempt += 1
            location, stored = await _resume_point(transport, repository, location)
            done = stored - offset
            if not 0 <= done <= len(chunk):
                raise IntegrityError(f"{call.what}: the registry holds {stored} bytes") from None
            if done == len(chunk):
                return location


async def _resume_point(transport: Transport, repository: str, location: str) -> tuple[str, int]:
    try:
        return await upload_status(transport, repository, location)
    except NotFoundError as exc:
        # distribution signs the offset into the location: an answer lost after the chunk
        # landed leaves a location it refuses. The blob must start over in a new session.
        raise UploadLostError(f"upload session of {repository} lost: {exc}") from None


async def upload_status(transport: Transport, repository: str, location: str) -> tuple[str, int]:
    """The session's (possibly new) location and how many bytes the registry holds."""
    call = Call("GET", location, (push(repository),), f"GET upload status {repository}")
    response = await transport.request(call, ok={204})
    text = response.headers.get("range", "")
    start, _, end = text.removeprefix("bytes=").partition("-")
    if start != "0" or not end.isdigit():
        raise IntegrityError(f"{call.what}: unreadable Range {text[:60]!r}")
    # distribution answers "0-0" for an empty upload as well as for one byte; chunks are larger
    # than a byte, so "0-0" is read as empty.
    stored = 0 if end == "0" else int(end) + 1
    return _location(response, call.what, default=location), stored


async def _finish(
    transport: Transport,
    repository: str,
    location: str,
    digest: Digest,
    body: bytes | AsyncIterable[bytes],
    length: int,
) -> None:
    call = Call(
        "PUT",
        location,
        (push(repository),),
        f"PUT upload {repository}@{digest}",
        headers={"Content-Type": OCTET_STREAM},
        params=[("digest", str(digest))],
        content=body,
        length=length,
    )
    await transport.request(call, ok={201, 204})


async def _cancel(transport: Transport, repository: str, location: str) -> None:
    call = Call("DELETE", location, (push(repository),), f"DELETE upload {repository}")
    with suppress(RegistryClientError):  # best effort: registries purge abandoned uploads
        await transport.request(call, ok={200, 202, 204, 404})


async def coalesce(content: AsyncIterable[bytes], least: int) -> AsyncGenerator[bytes, None]:
    """Join small pieces into pieces of at least `least` bytes (the last may be shorter): each
    write costs the HTTP stack the same whatever its size."""
    pending: list[bytes] = []
    length = 0
    async for piece in content:
        pending.append(piece)
        length += len(piece)
        if length >= least:
            yield b"".join(pending) if len(pending) > 1 else pending[0]
            pending, length = [], 0
    if pending:
        yield b"".join(pending)


async def rechunk(content: AsyncIterable[bytes], size: int) -> AsyncGenerator[bytes, None]:
    """Regroup pieces of any size into chunks of exactly `size` bytes (the last may be shorter)."""
    pending = bytearray()
    async for piece in content:
        pending += piece
        while len(pending) >= size:
            with memoryview(pending) as view:
                chunk = bytes(view[:size])
            del pending[:size]
            yield chunk
    if pending:
        yield bytes(pending)


async def _exactly(
    content: AsyncIterable[bytes], size: int, digest: Digest
) -> AsyncGenerator[bytes, None]:
    """`content`, checked to be `size` bytes long (the Content-Length already announced)."""
    length = 0
    async for piece in coalesce(content, WRITE_PIECE):
        length += len(piece)
        if length > size:
            raise IntegrityError(f"blob {digest}: more than the {size} bytes announced")
        yield piece
    if length != size:
        raise IntegrityError(f"blob {digest}: {length} bytes, {size} announced")


def _location(response: httpx.Response, what: str, default: str | None = None) -> str:
    location = response.headers.get("location") or default
    if not location:
        raise IntegrityError(f"{what}: the registry sent no upload Location")
    # Relative locations are relative to the request URL (RFC 9110 §10.2.2).
    return str(response.request.url.join(location))
