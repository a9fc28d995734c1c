"""Blob reads: HEAD for existence and size, GET as a stream that resumes with `Range`.

A broken connection in the middle of a blob does not start it over: the stream asks again for
the bytes it has not seen (`Range: bytes=N-`, answered by 206), a bounded number of times. The
whole blob is hashed on the way; a digest or size mismatch ends the stream with IntegrityError.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

import anyio
import httpx

from conveyor.client.challenge import pull
from conveyor.client.errors import IntegrityError, NetworkError, NotFoundError
from conveyor.client.transport import Call, Transport
from conveyor.oci.digest import Digest


async def blob_size(transport: Transport, repository: str, digest: Digest) -> int | None:
    """The blob's size, or None when the repository does not hold it."""
    call = Call(
        "HEAD",
        f"/v2/{repository}/blobs/{digest}",
        (pull(repository),),
        f"HEAD blob {repository}@{digest}",
    )
    try:
        response = await transport.request(call, ok={200})
    except NotFoundError:
        return None
    return int(response.headers.get("content-length", "0") or 0)


async def stream_blob(
    transport: Transport,
    repository: str,
    digest: Digest,
    *,
    verify: bool = True,
    resumes: int = 5,
) -> AsyncGenerator[bytes, None]:
    """The blob's bytes as they arrive, verified against `digest` unless `verify` is false (for
    a consumer that checks them itself, like a registry completing an upload)."""
    hasher = digest.hasher() if verify else None
    received = 0
    failures = 0
    while True:
        try:
            async with aclosing(_read_from(transport, repository, digest, received)) as pieces:
                async for piece in pieces:
                    if hasher is not None:
                        hasher.update(piece)
                    received += len(piece)
                    yield piece
            break
        except httpx.TransportError as exc:
            failures += 1
            if failures > resumes or not transport.retry.allows(failures - 1):
                raise NetworkError(f"GET blob {repository}@{digest}: {exc}") from exc
            await anyio.sleep(transport.retry.backoff(failures - 1))
    if hasher is not None and hasher.hexdigest() != digest.encoded:
        raise IntegrityError(f"GET blob {repository}@{digest}: {received} bytes of another digest")


async def _read_from(
    transport: Transport, repository: str, digest: Digest, offset: int
) -> AsyncGenerator[bytes, None]:
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    call = Call(
        "GET",
        f"/v2/{repository}/blobs/{digest}",
        (pull(repository),),
        f"GET blob {repository}@{digest}",
        headers=headers,
    )
    async with transport.stream(call, ok={200, 206} if offset else {200}) as response:
        # A registry may ignore Range and send it all again (200): skip what was seen.
        skip = offset if response.status_code == 200 else 0
        if response.status_code == 206 and not _starts_at(response, offset):
            raise IntegrityError(f"{call.what}: the resumed range does not start at {offset}")
        async for piece in response.aiter_bytes():
            if skip >= len(piece):
                skip -= len(piece)
                continue
            yield piece[skip:] if skip else piece
            skip = 0


def _starts_at(response: httpx.Response, offset: int) -> bool:
    content_range = str(response.headers.get("content-range", ""))
    return content_range.removeprefix("bytes ").startswith(f"{offset}-")
