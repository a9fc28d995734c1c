"""Just enough ELF to find a section and read memory at a virtual address (32/64-bit, both
byte orders)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

PT_LOAD = 1


class ElfError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Segment:
    vaddr: int
    offset: int
    filesz: int


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    offset: int
    size: int
    addr: int


class Elf:
    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        ident = self._read(0, 16)
        if ident[:4] != b"\x7fELF" or ident[4] not in (1, 2) or ident[5] not in (1, 2):
            raise ElfError("not an ELF file")
        self.is64 = ident[4] == 2
        self.order = "<" if ident[5] == 1 else ">"
        self.pointer_size = 8 if self.is64 else 4
        self.segments = self._segments()
        self.sections = self._sections()

    def _read(self, offset: int, size: int) -> bytes:
        self.handle.seek(offset)
        data = self.handle.read(size)
        if len(data) != size:
            raise ElfError("file ends inside a structure")
        return data

    def _header(self) -> tuple[int, ...]:
        fmt = "HHIQQQIHHHHHH" if self.is64 else "HHIIIIIHHHHHH"
        return struct.unpack(self.order + fmt, self._read(16, struct.calcsize(fmt)))

    def _segments(self) -> list[Segment]:
        header = self._header()
        phoff, phentsize, phnum = header[4], header[8], header[9]
        found = []
        for i in range(min(phnum, 256)):
            raw = self._read(phoff + i * phentsize, phentsize)
            if self.is64:
                kind, _, offset, vaddr, _, filesz = struct.unpack_from(self.order + "IIQQQQ", raw)
            else:
                kind, offset, vaddr, _, filesz = struct.unpack_from(self.order + "IIIII", raw)
            if kind == PT_LOAD:
                found.append(Segment(vaddr, offset, filesz))
        return found

    def _sections(self) -> dict[str, Section]:
        header = self._header()
        shoff, shentsize, shnum, shstrndx = header[5], header[10], header[11], header[12]
        if not shoff or not shnum or shstrndx >= shnum:
            return {}
        raw = [self._section_header(shoff + i * shentsize) for i in range(min(shnum, 4096))]
        names_at, names_size = raw[shstrndx][2], raw[shstrndx][3]
        names = self._read(names_at, min(names_size, 1 << 20))
        result = {}
        for name_offset, addr, offset, size in raw:
            end = names.find(b"\0", name_offset)
            name = names[name_offset:end].decode("ascii", errors="replace")
            result[name] = Section(name, offset, size, addr)
        return result

    def _section_header(self, at: int) -> tuple[int, int, int, int]:
        if self.is64:
            name, _, _, addr, offset, size = struct.unpack(
                self.order + "IIQQQQ", self._read(at, 40)
            )
        else:
            name, _, _, addr, offset, size = struct.unpack(
                self.order + "IIIIII", self._read(at, 24)
            )
        return name, addr, offset, size

    def section_data(self, name: str, limit: int = 1 << 20) -> bytes | None:
        section = self.sections.get(name)
        if section is None:
            return None
        return self._read(section.offset, min(section.size, limit))

    def read_at(self, address: int, size: int) -> bytes:
        for segment in self.segments:
            if segment.vaddr <= address and address + size <= segment.vaddr + segment.filesz:
                return self._read(segment.offset + address - segment.vaddr, size)
        raise ElfError(f"address {address:#x} is not in a loaded segment")
