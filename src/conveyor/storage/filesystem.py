"""Blob storage in a local directory: temp file, fsync, rename; no reader sees a partial object."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path

import anyio
import anyio.to_thread

from conveyor.storage.base import ObjectNotFound, StorageError, StoredObject

READ_CHUNK = 1024 * 1024
# A temp file untouched this long belongs to a writer that died (a live one writes all along).
STALE_TEMP_SECONDS = 3600


class FilesystemStore:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._tmp = self.root / "_tmp"
        self._tmp.mkdir(exist_ok=True)
        _remove_stale(self._tmp, time.time() - STALE_TEMP_SECONDS)

    def _full(self, path: str) -> Path:
        full = (self.root / path).resolve()
        if self.root not in full.parents:
            raise StorageError(f"path escapes the store: {path!r}")
        return full

    async def stat(self, path: str) -> StoredObject | None:
        try:
            st = await anyio.to_thread.run_sync(os.stat, self._full(path))
        except FileNotFoundError:
            return None
        return StoredObject(path, st.st_size, st.st_mtime)

    async def read(
        self, path: str, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        try:
            handle = await anyio.open_file(self._full(path), "rb")
        except FileNotFoundError:
            raise ObjectNotFound(path) from None
        async with handle:
            if offset:
                await handle.seek(offset)
            remaining = length
            while remaining is None or remaining > 0:
                want = READ_CHUNK if remaining is None else min(READ_CHUNK, remaining)
                chunk = await handle.read(want)
                if not chunk:
                    break
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    async def write(self, path: str, chunks: AsyncIterable[bytes]) -> int:
        target = self._full(path)
        temp = self._tmp / uuid.uuid4().hex
        written = 0
        try:
            async with await anyio.open_file(temp, "wb") as handle:
                async for chunk in chunks:
                    await handle.write(chunk)
                    written += len(chunk)
                await handle.flush()
                await anyio.to_thread.run_sync(os.fsync, handle.wrapped.fileno())
            await anyio.to_thread.run_sync(_install, temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return written

    async def move(self, source: str, destination: str) -> None:
        try:
            await anyio.to_thread.run_sync(_install, self._full(source), self._full(destination))
        except FileNotFoundError:
            raise ObjectNotFound(source) from None

    async def delete(self, path: str) -> None:
        full = self._full(path)
        await anyio.to_thread.run_sync(_remove_and_prune, full, self.root)

    async def list(self, prefix: str) -> AsyncIterator[StoredObject]:
        base = self.root
        entries = await anyio.to_thread.run_sync(_walk, base, prefix)
        for entry in entries:
            yield entry

    def local_path(self, path: str) -> str | None:
        return str(self._full(path))

    async def close(self) -> None:
        return None


def _install(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)
    # The rename is durable only once the directory entry is on disk.
    fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_stale(folder: Path, cutoff: float) -> None:
    for entry in folder.iterdir():
        try:
            if entry.stat().st_mtime < cutoff:
                entry.unlink()
        except FileNotFoundError:
            continue


def _remove_and_prune(full: Path, root: Path) -> None:
    full.unlink(missing_ok=True)
    parent = full.parent
    while parent != root and root in parent.parents:
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent


def _walk(root: Path, prefix: str) -> list[StoredObject]:
    # Walk from the deepest directory the prefix names, then filter by the full prefix.
    start = root / prefix.rsplit("/", 1)[0] if "/" in prefix else root
    found: list[StoredObject] = []
    if not start.is_dir():
        return found
    for dirpath, dirnames, filenames in os.walk(start):
        if Path(dirpath) == root:
            dirnames[:] = [d for d in dirnames if d != "_tmp"]
        for name in filenames:
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            if rel.startswith(prefix):
                try:
                    st = full.stat()
                except FileNotFoundError:
                    continue
                found.append(StoredObject(rel, st.st_size, st.st_mtime))
    return found
