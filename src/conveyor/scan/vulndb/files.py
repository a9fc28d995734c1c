"""Data files to import, from folders, zip archives and tar streams, one at a time."""

from __future__ import annotations

import os
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from conveyor.scan.unpack.paths import normalize

MAX_FILE = 512 * 1024 * 1024
DATA_SUFFIXES = (".json", ".yaml", ".yml", "/list")


@dataclass(frozen=True, slots=True)
class DataFile:
    name: str
    read: Callable[[], bytes]


class DataError(ValueError):
    """An import input that cannot be read (the message says which and why)."""


def wanted(name: str) -> bool:
    return name.endswith(DATA_SUFFIXES) or name == "list" or name.endswith(".zip")


def from_paths(paths: list[Path]) -> Iterator[DataFile]:
    for path in paths:
        if path.is_dir():
            yield from _from_dir(path)
        elif path.is_file():
            yield from _from_file(path, path.name)
        else:
            raise DataError(f"{path}: no such file or directory")


def _from_dir(root: Path) -> Iterator[DataFile]:
    for directory, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = Path(directory) / name
            relative = f"{root.name}/{path.relative_to(root).as_posix()}"
            if path.is_file() and not path.is_symlink() and wanted(relative):
                yield from _from_file(path, relative)


def _from_file(path: Path, name: str) -> Iterator[DataFile]:
    if name.endswith(".zip"):
        yield from from_zip(path, name)
    elif path.stat().st_size <= MAX_FILE:
        yield DataFile(name, path.read_bytes)


def from_zip(path: Path | IO[bytes], name: str) -> Iterator[DataFile]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"{name}: not a zip archive ({exc})") from None
    with archive:
        for info in archive.infolist():
            member = f"{name}/{info.filename}"
            if info.is_dir() or not wanted(member) or member.endswith(".zip"):
                continue
            if info.file_size > MAX_FILE:
                continue
            yield DataFile(member, _zip_reader(archive, info))


def _zip_reader(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], bytes]:
    def read() -> bytes:
        with archive.open(info) as handle:
            return handle.read(MAX_FILE)

    return read


def from_tar_stream(stream: IO[bytes]) -> Iterator[DataFile]:
    """An uploaded tar (plain, gzip, bz2 or xz), read once from start to end; zip members are
    spooled to a temporary file (zip needs random access)."""
    try:
        with tarfile.open(fileobj=stream, mode="r|*") as archive:
            for member in archive:
                name = normalize(member.name)
                if not name or not member.isreg() or not wanted(name) or member.size > MAX_FILE:
                    continue
                handle = archive.extractfile(member)
                if handle is None:
                    continue
                if name.endswith(".zip"):
                    yield from _spooled_zip(handle, name)
                else:
                    data = handle.read()
                    yield DataFile(name, lambda data=data: data)  # type: ignore[misc]
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DataError(f"upload is not a complete tar archive ({exc})") from None


def _spooled_zip(handle: IO[bytes], name: str) -> Iterator[DataFile]:
    with tempfile.TemporaryFile() as spool:
        while chunk := handle.read(1 << 20):
            spool.write(chunk)
        spool.seek(0)
        yield from from_zip(spool, name)
