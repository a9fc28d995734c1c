"""Go build info from an ELF executable, as Go's debug/buildinfo reads it.

The `.go.buildinfo` section starts with the 14-byte magic `\\xff Go buildinf:`, a pointer size
and a flags byte. Go 1.18+ (flag 0x2) inlines the Go version and the module info as
varint-length-prefixed strings after the 32-byte header; older releases store two pointers to
Go string headers (data pointer, length) that are followed through the loaded segments. The
module info is wrapped in 16 bytes of sentinel on each side, and lists `path`, `mod`, `dep`,
`=>` (replacement of the line above) and `build` lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from conveyor.scan.inventory.elf import Elf, ElfError

MAGIC = b"\xff Go buildinf:"
FLAG_BIG_ENDIAN = 0x1
FLAG_INLINE = 0x2
MAX_STRING = 1 << 22


@dataclass(frozen=True, slots=True)
class Module:
    path: str
    version: str


@dataclass
class BuildInfo:
    go_version: str
    path: str = ""
    main: Module | None = None
    deps: list[Module] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)


def read_build_info(path: Path) -> BuildInfo | None:
    try:
        with open(path, "rb") as handle:
            elf = Elf(handle)
            raw = _raw_info(elf)
    except (ElfError, OSError, ValueError, IndexError):
        return None
    if raw is None or not raw[0]:
        return None
    return parse_module_info(raw[0], raw[1])


def _raw_info(elf: Elf) -> tuple[str, str] | None:
    data = elf.section_data(".go.buildinfo", 1 << 16)
    if data is None or not data.startswith(MAGIC):
        data = _search(elf)
    if data is None or len(data) < 32:
        return None
    flags = data[15]
    if flags & FLAG_INLINE:
        version, rest = _varint_string(data[32:])
        modinfo, _ = _varint_string(rest)
    else:
        size = data[14]
        if size not in (4, 8):
            return None
        version = _pointed_string(elf, data, 16)
        modinfo = _pointed_string(elf, data, 16 + size)
    return version, _strip_sentinels(modinfo)


def _search(elf: Elf) -> bytes | None:
    """No section header: look for the magic at a 16-byte boundary of a loaded segment."""
    for segment in elf.segments:
        size = min(segment.filesz, 1 << 28)
        elf.handle.seek(segment.offset)
        data = elf.handle.read(size)
        at = data.find(MAGIC)
        while at >= 0:
            if at % 16 == 0:
                return data[at : at + 64]
            at = data.find(MAGIC, at + 1)
    return None


def _varint_string(data: bytes) -> tuple[str, bytes]:
    length, shift, i = 0, 0, 0
    while True:
        byte = data[i]
        length |= (byte & 0x7F) << shift
        i += 1
        if byte < 0x80:
            break
        shift += 7
    if length > MAX_STRING:
        raise ValueError("string too long")
    return data[i : i + length].decode("utf-8", errors="replace"), data[i + length :]


def _pointed_string(elf: Elf, data: bytes, at: int) -> str:
    """Follow a pointer to a Go string header (data pointer, length), then read the string."""
    size = data[14]
    order: Literal["big", "little"] = "big" if data[15] & FLAG_BIG_ENDIAN else "little"
    header = elf.read_at(int.from_bytes(data[at : at + size], order), 2 * size)
    address = int.from_bytes(header[:size], order)
    length = int.from_bytes(header[size:], order)
    if length > MAX_STRING:
        raise ValueError("string too long")
    return elf.read_at(address, length).decode("utf-8", errors="replace") if length else ""


def _strip_sentinels(modinfo: str) -> str:
    if len(modinfo) >= 33 and modinfo[-17] == "\n":
        return modinfo[16:-16]
    return ""


def parse_module_info(go_version: str, modinfo: str) -> BuildInfo:
    info = BuildInfo(go_version)
    for line in modinfo.splitlines():
        kind, _, rest = line.partition("\t")
        fields = rest.split("\t")
        if kind == "path":
            info.path = rest
        elif kind == "mod" and len(fields) >= 2:
            info.main = Module(fields[0], fields[1])
        elif kind == "dep" and len(fields) >= 2:
            info.deps.append(Module(fields[0], fields[1]))
        elif kind == "=>" and len(fields) >= 2 and info.deps:
            info.deps[-1] = Module(fields[0], fields[1])
        elif kind == "build" and "=" in rest:
            key, _, value = rest.partition("=")
            info.settings[key] = value
    return info
