"""RPM package headers, as stored in an rpmdb (the `blob` of each row of `Packages`).

The layout (rpm's headerExport without the lead magic): big-endian int32 index count and data
length, then 16-byte index entries (tag, type, offset, count), then the data store.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

NAME, VERSION, RELEASE, EPOCH, ARCH, SOURCERPM = 1000, 1001, 1002, 1003, 1022, 1044
_INT32, _STRING, _I18NSTRING, _STRING_ARRAY = 4, 6, 9, 8
_WANTED = {NAME, VERSION, RELEASE, EPOCH, ARCH, SOURCERPM}


class HeaderError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class RpmHeader:
    name: str
    version: str
    release: str
    epoch: int | None
    arch: str
    source_rpm: str

    @property
    def evr(self) -> str:
        epoch = f"{self.epoch}:" if self.epoch else ""
        return f"{epoch}{self.version}-{self.release}"


def parse_header(blob: bytes) -> RpmHeader:
    if len(blob) < 8:
        raise HeaderError("header shorter than its preamble")
    count, data_length = struct.unpack_from(">ii", blob, 0)
    store = 8 + 16 * count
    if count < 0 or data_length < 0 or store + data_length > len(blob):
        raise HeaderError("header sizes do not fit the blob")
    values: dict[int, str | int] = {}
    for i in range(count):
        tag, kind, offset, _count = struct.unpack_from(">iiii", blob, 8 + 16 * i)
        if tag in _WANTED and 0 <= offset < data_length:
            values[tag] = _value(blob, store + offset, store + data_length, kind)
    epoch = values.get(EPOCH)
    return RpmHeader(
        str(values.get(NAME, "")),
        str(values.get(VERSION, "")),
        str(values.get(RELEASE, "")),
        epoch if isinstance(epoch, int) else None,
        str(values.get(ARCH, "")),
        str(values.get(SOURCERPM, "")),
    )


def _value(blob: bytes, start: int, end: int, kind: int) -> str | int:
    if kind == _INT32:
        if start + 4 > end:
            raise HeaderError("integer past the data store")
        return int(struct.unpack_from(">i", blob, start)[0])
    if kind in (_STRING, _I18NSTRING, _STRING_ARRAY):
        stop = blob.find(b"\0", start, end)
        if stop < 0:
            raise HeaderError("unterminated string")
        return blob[start:stop].decode("utf-8", errors="replace")
    return ""


def source_name(source_rpm: str) -> str:
    """`openssl-1.1.1k-7.el8.src.rpm` -> `openssl`."""
    stem = source_rpm.removesuffix(".rpm").removesuffix(".src").removesuffix(".nosrc")
    parts = stem.rsplit("-", 2)
    return parts[0] if len(parts) == 3 else stem
