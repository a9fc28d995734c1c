"""What an image is made of, read from the source: every manifest (children before the index
that lists them, the root last) and every blob (configs and layers, each once)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from conveyor.client.errors import IntegrityError
from conveyor.client.manifests import ManifestBlob
from conveyor.client.registry import RegistryClient
from conveyor.oci.digest import Digest
from conveyor.oci.manifest import Descriptor, Manifest, ManifestError, parse_manifest
from conveyor.sync.tasks import run_bounded

MAX_DEPTH: Final = 8  # indexes of indexes: more is hostile, not useful


@dataclass(frozen=True, slots=True)
class ImagePlan:
    root: ManifestBlob
    manifests: tuple[ManifestBlob, ...]
    blobs: tuple[Descriptor, ...]

    @property
    def children(self) -> tuple[ManifestBlob, ...]:
        return self.manifests[:-1]

    @property
    def total_bytes(self) -> int:
        return sum(blob.size for blob in self.blobs)


async def plan_image(
    source: RegistryClient, repository: str, root: ManifestBlob, concurrency: int = 4
) -> ImagePlan:
    walk = _Walk(source, repository, concurrency)
    await walk.visit(root, 0)
    return ImagePlan(root, tuple(walk.manifests), tuple(walk.blobs.values()))


class _Walk:
    def __init__(self, source: RegistryClient, repository: str, concurrency: int) -> None:
        self.source = source
        self.repository = repository
        self.concurrency = concurrency
        self.manifests: list[ManifestBlob] = []
        self.blobs: dict[Digest, Descriptor] = {}
        self.seen: set[Digest] = set()

    async def visit(self, blob: ManifestBlob, depth: int) -> None:
        if blob.digest in self.seen:
            return
        self.seen.add(blob.digest)
        manifest = self._parse(blob)
        if manifest.is_index:
            if depth >= MAX_DEPTH:
                raise IntegrityError(f"{self.repository}@{blob.digest}: indexes nested too deep")
            for child in await self._fetch_all(manifest.children):
                await self.visit(child, depth + 1)
        for ref in manifest.blob_references():
            self.blobs.setdefault(ref.digest, ref)
        self.manifests.append(blob)

    async def _fetch_all(self, children: tuple[Descriptor, ...]) -> list[ManifestBlob]:
        fetched: dict[int, ManifestBlob] = {}
        wanted = [(p, c) for p, c in enumerate(children) if c.digest not in self.seen]

        async def fetch(item: tuple[int, Descriptor]) -> None:
            position, child = item
            fetched[position] = await self.source.get_manifest(
                self.repository, str(child.digest), accept=(child.media_type,)
            )

        await run_bounded(wanted, fetch, self.concurrency)
        return [fetched[p] for p in sorted(fetched)]

    def _parse(self, blob: ManifestBlob) -> Manifest:
        try:
            return parse_manifest(blob.body, blob.media_type)
        except ManifestError as exc:
            raise IntegrityError(f"{self.repository}@{blob.digest}: {exc}") from None
