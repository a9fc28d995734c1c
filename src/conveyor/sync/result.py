"""What one image copy did: the record a sync task keeps, and the progress it reports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from conveyor.client.errors import ErrorCode
from conveyor.oci.manifest import Descriptor


@dataclass(frozen=True, slots=True)
class CopyProgress:
    bytes_done: int
    bytes_total: int
    blobs_done: int
    blobs_total: int


ProgressCallback = Callable[[CopyProgress], None]


@dataclass
class CopyResult:
    source: str  # registry/repository:reference
    destination: str  # registry/repository:tag (or @digest)
    digest: str | None = None
    bytes_copied: int = 0
    bytes_skipped: int = 0  # already at the destination
    bytes_mounted: int = 0  # mounted from another repository: no bytes moved
    blobs_copied: int = 0
    blobs_skipped: int = 0
    blobs_mounted: int = 0
    manifests_copied: int = 0
    manifests_skipped: int = 0
    tag_written: bool = False  # False when the tag already pointed at the digest
    error_code: ErrorCode | None = None
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error_code is None

    @property
    def up_to_date(self) -> bool:
        """Nothing had to move: every blob and manifest was there and the tag already right."""
        return self.ok and not (
            self.blobs_copied or self.blobs_mounted or self.manifests_copied or self.tag_written
        )

    def copied(self, blob: Descriptor, transferred: int) -> None:
        self.blobs_copied += 1
        self.bytes_copied += transferred

    def skipped(self, blob: Descriptor) -> None:
        self.blobs_skipped += 1
        self.bytes_skipped += blob.size

    def mounted(self, blob: Descriptor) -> None:
        self.blobs_mounted += 1
        self.bytes_mounted += blob.size

    def fail(self, code: ErrorCode, message: str) -> None:
        self.error_code = code
        self.error = message

    def to_json(self) -> dict[str, object]:
        """The task's entry on a record (camelCase, as the API)."""
        return {
            "source": self.source,
            "destination": self.destination,
            "digest": self.digest,
            "bytesCopied": self.bytes_copied,
            "bytesSkipped": self.bytes_skipped,
            "bytesMounted": self.bytes_mounted,
            "blobsCopied": self.blobs_copied,
            "blobsSkipped": self.blobs_skipped,
            "blobsMounted": self.blobs_mounted,
            "manifestsCopied": self.manifests_copied,
            "manifestsSkipped": self.manifests_skipped,
            "tagWritten": self.tag_written,
            "errorCode": self.error_code.value if self.error_code else None,
            "error": self.error,
            "seconds": round(self.seconds, 3),
        }
