"""The storage contract every blob backend implements (a handful of methods, as in distribution).

Paths are relative, `/`-separated keys such as `blobs/sha256/ab/abcd...`. A driver never
exposes a half-written object: `write` makes the object visible only once it is complete.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


class StorageError(Exception):
    """The backend failed; the message says what and where."""


class ObjectNotFound(StorageError):
    pass


@dataclass(frozen=True, slots=True)
class StoredObject:
    path: str
    size: int
    modified: float  # seconds since the epoch


@runtime_checkable
class BlobStore(Protocol):
    async def stat(self, path: str) -> StoredObject | None:
        """The object's size and time, or None when absent."""

    def read(self, path: str, offset: int = 0, length: int | None = None) -> AsyncIterator[bytes]:
        """Stream `length` bytes (all when None) from `offset`; ObjectNotFound when absent."""

    async def write(self, path: str, chunks: AsyncIterable[bytes]) -> int:
        """Store the stream under path, replacing any object there; returns bytes written.
        The object becomes visible only when the whole stream was written."""

    async def move(self, source: str, destination: str) -> None:
        """Atomically replace destination with source; ObjectNotFound when source is absent."""

    async def delete(self, path: str) -> None:
        """Remove the object; absent is not an error."""

    def list(self, prefix: str) -> AsyncIterator[StoredObject]:
        """Every object whose path starts with prefix, in no particular order."""

    def local_path(self, path: str) -> str | None:
        """A filesystem path the server may send from directly, or None for remote backends."""

    async def close(self) -> None:
        """Release connections and threads."""
