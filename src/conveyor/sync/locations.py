"""Where blobs are known to sit on destination registries, learned during one run.

A blob one repository has just received can be mounted into the next repository of the same
registry instead of being sent again; while one copy is sending a blob, another copy of the same
blob to the same registry waits for it (then finds it, or mounts it) rather than sending it too.
One instance serves one run (one event loop).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio

from conveyor.oci.digest import Digest

_Key = tuple[str, Digest]  # (registry base URL, digest)


class BlobLocations:
    def __init__(self) -> None:
        self._repositories: defaultdict[_Key, list[str]] = defaultdict(list)
        self._locks: defaultdict[_Key, anyio.Lock] = defaultdict(anyio.Lock)

    def add(self, registry: str, digest: Digest, repository: str) -> None:
        held = self._repositories[(registry, digest)]
        if repository not in held:
            held.append(repository)

    def holds(self, registry: str, digest: Digest, repository: str) -> bool:
        return repository in self._repositories[(registry, digest)]

    def find(self, registry: str, digest: Digest, besides: str) -> str | None:
        """A repository of `registry` known to hold `digest`, other than `besides`."""
        return next((r for r in self._repositories[(registry, digest)] if r != besides), None)

    @asynccontextmanager
    async def claim(self, registry: str, digest: Digest) -> AsyncIterator[None]:
        """Exclusive handling of one blob on one registry."""
        async with self._locks[(registry, digest)]:
            yield
