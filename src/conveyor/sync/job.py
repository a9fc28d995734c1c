"""The state one image copy carries: both ends, the result it fills, and progress reporting."""

from __future__ import annotations

from dataclasses import dataclass, field

import anyio

from conveyor.client.registry import RegistryClient
from conveyor.oci.manifest import Descriptor
from conveyor.sync.locations import BlobLocations
from conveyor.sync.plan import ImagePlan
from conveyor.sync.result import CopyProgress, CopyResult, ProgressCallback


@dataclass
class CopyJob:
    source: RegistryClient
    source_repo: str
    destination: RegistryClient
    dest_repo: str
    result: CopyResult
    concurrency: int = 4
    locations: BlobLocations = field(default_factory=BlobLocations)
    progress: ProgressCallback | None = None
    transfers: anyio.CapacityLimiter | None = None  # blobs moving at once, run-wide
    _progress: CopyProgress = field(default=CopyProgress(0, 0, 0, 0), init=False)

    def planned(self, plan: ImagePlan) -> None:
        self._progress = CopyProgress(0, plan.total_bytes, 0, len(plan.blobs))
        self._report()

    def moved(self, count: int) -> None:
        """`count` more bytes of a blob went through."""
        self._advance(count, 0)

    def blob_done(self, blob: Descriptor, moved: int) -> None:
        """A blob is settled; `moved` of its bytes were already reported by `moved`."""
        self._advance(blob.size - moved, 1)

    def _advance(self, count: int, blobs: int) -> None:
        p = self._progress
        self._progress = CopyProgress(
            p.bytes_done + count, p.bytes_total, p.blobs_done + blobs, p.blobs_total
        )
        self._report()

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(self._progress)
