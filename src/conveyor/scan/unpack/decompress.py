"""A layer's bytes as a bounded, decompressed stream: gzip, zstd or plain tar, by magic bytes."""

from __future__ import annotations

import gzip
import io
from typing import IO, Protocol, cast

import zstandard

from conveyor.scan.errors import LayerCorrupt, LayerTooLarge
from conveyor.scan.limits import ScanLimits

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def detect(head: bytes) -> str:
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return "tar"


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class Budget:
    """Decompressed bytes left for the whole image."""

    def __init__(self, total: int) -> None:
        self.left = total


class _Counting(io.RawIOBase):
    """Counts raw bytes read, to judge the expansion ratio."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.raw.read(len(buffer))
        self.count += len(data)
        buffer[: len(data)] = data
        return len(data)


class BoundedReader(io.RawIOBase):
    """Decompressed bytes of one layer; raises past the limits or on a truncated stream."""

    def __init__(
        self, raw: io.BufferedReader, limits: ScanLimits, budget: Budget, layer: str
    ) -> None:
        self.layer = layer
        self.limits = limits
        self.budget = budget
        self.produced = 0
        self.compression = detect(raw.peek(4)[:4])
        self._counter = _Counting(raw)
        self._inner = _open(self.compression, self._counter)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        try:
            data = self._inner.read(len(buffer))
        except (EOFError, gzip.BadGzipFile, zstandard.ZstdError, OSError) as exc:
            raise LayerCorrupt(f"layer {self.layer}: {_describe(exc, self.compression)}") from None
        self._account(len(data))
        buffer[: len(data)] = data
        return len(data)

    def _account(self, size: int) -> None:
        self.produced += size
        self.budget.left -= size
        if self.produced > self.limits.max_layer_bytes:
            raise LayerTooLarge(
                f"layer {self.layer}: more than {self.limits.max_layer_bytes} bytes "
                "once decompressed (limit per layer)"
            )
        if self.budget.left < 0:
            raise LayerTooLarge(
                f"layer {self.layer}: the image is more than {self.limits.max_total_bytes} "
                "bytes once decompressed (limit per image)"
            )
        if self.produced > self.limits.ratio_floor_bytes and self.compression != "tar":
            ratio = self.produced / max(self._counter.count, 1)
            if ratio > self.limits.max_ratio:
                raise LayerTooLarge(
                    f"layer {self.layer}: decompression bomb ({self.produced} bytes from "
                    f"{self._counter.count}, more than {self.limits.max_ratio}:1)"
                )


def _open(compression: str, raw: io.RawIOBase) -> Readable:
    if compression == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if compression == "zstd":
        source = cast(IO[bytes], raw)
        return zstandard.ZstdDecompressor().stream_reader(source, read_across_frames=True)
    return io.BufferedReader(raw, 1 << 16)


def _describe(exc: Exception, compression: str) -> str:
    if isinstance(exc, EOFError):
        return f"truncated {compression} stream ({exc})"
    return f"corrupt {compression} stream ({exc})"
