"""Responses of the /v2 API: errors in the spec's shape, and blob bodies with Range support."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.to_thread
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from conveyor.registry.errors import RegistryError
from conveyor.storage.base import BlobStore

API_VERSION_HEADER = {"Docker-Distribution-Api-Version": "registry/2.0"}
SEND_CHUNK = 1024 * 1024
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def error_response(error: RegistryError, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(
        error.body(), status_code=error.status, headers={**API_VERSION_HEADER, **(headers or {})}
    )


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive for one `bytes=` range; None for the whole blob.
    Raises RegistryError RANGE_INVALID (416) when the range cannot be satisfied."""
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None  # multi-range or malformed: RFC 9110 lets us answer with the whole blob
    first_text, last_text = match.groups()
    if first_text == "":
        suffix = int(last_text)
        if suffix == 0:
            raise RegistryError("RANGE_INVALID", "empty suffix range")
        return max(size - suffix, 0), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if first >= size or last < first:
        raise RegistryError("RANGE_INVALID", f"range not satisfiable for size {size}")
    return first, min(last, size - 1)


class BlobResponse(Response):
    """Streams a blob from the store; a local file goes out through `pathsend` when the server
    offers it, and otherwise in 1 MiB reads, never whole in memory."""

    def __init__(
        self,
        store: BlobStore,
        path: str,
        size: int,
        headers: dict[str, str],
        byte_range: tuple[int, int] | None,
        media_type: str = "application/octet-stream",
    ) -> None:
        self.store = store
        self.path = path
        self.byte_range = byte_range
        first, last = byte_range if byte_range else (0, size - 1)
        self.offset = first
        self.length = max(last - first + 1, 0)
        extra = {"Content-Length": str(self.length), "Accept-Ranges": "bytes"}
        if byte_range:
            extra["Content-Range"] = f"bytes {first}-{last}/{size}"
        super().__init__(
            None,
            status_code=206 if byte_range else 200,
            headers={**API_VERSION_HEADER, **headers, **extra},
            media_type=media_type,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        if scope.get("method") == "HEAD" or self.length == 0:
            await send({"type": "http.response.body", "body": b""})
            return
        local = self.store.local_path(self.path)
        extensions: dict[str, Any] = scope.get("extensions") or {}
        if local and self.byte_range is None and "http.response.pathsend" in extensions:
            await send({"type": "http.response.pathsend", "path": local})
            return
        chunks = (
            _read_file(local, self.offset, self.length)
            if local
            else self.store.read(self.path, self.offset, self.length)
        )
        async for chunk in chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})


async def _read_file(path: str, offset: int, length: int) -> AsyncIterator[bytes]:
    handle = await anyio.to_thread.run_sync(open, path, "rb")
    try:
        remaining = length
        while remaining > 0:
            chunk = await anyio.to_thread.run_sync(
                os.pread, handle.fileno(), min(SEND_CHUNK, remaining), offset
            )
            if not chunk:
                break
            offset += len(chunk)
            remaining -= len(chunk)
            yield chunk
    finally:
        handle.close()
