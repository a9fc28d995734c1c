"""A blob from the async store, read as a plain file by a worker thread.

The worker (started with `anyio.to_thread.run_sync`) pulls one chunk at a time from the event
loop, so memory holds at most one chunk plus the buffer, whatever the blob's size.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import anyio.from_thread


class AsyncBlobFile(io.RawIOBase):
    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if not self._pending and not self._done:
            self._pending = anyio.from_thread.run(self._next)
            self._done = not self._pending
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    async def _next(self) -> bytes:
        try:
            while True:
                chunk = await self._chunks.__anext__()
                if chunk:
                    return chunk
        except StopAsyncIteration:
            return b""


def open_blob(chunks: AsyncIterator[bytes]) -> io.BufferedReader:
    return io.BufferedReader(AsyncBlobFile(chunks), 1 << 20)
