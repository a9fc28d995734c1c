"""Java archives: `META-INF/maven/**/pom.properties`, else the manifest's Implementation-*
headers; archives nested one level deep (Spring Boot `BOOT-INF/lib`, `WEB-INF/lib`) too."""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Iterator
from typing import IO

from conveyor.scan.limits import ScanLimits
from conveyor.scan.model import Package
from conveyor.scan.unpack.select import Kind, classify
from conveyor.scan.unpack.tree import ImageTree

_ARCHIVES = (".jar", ".war", ".ear")
MAX_METADATA = 1 << 20


def collect(tree: ImageTree, limits: ScanLimits) -> Iterator[Package]:
    for path, entry in tree.files():
        if classify(path) is Kind.ARCHIVE and entry.local is not None:
            with open(entry.local, "rb") as handle:
                for name, version in read_archive(handle, path, limits, nested=True):
                    yield Package(name, version, "maven", entry.layer, path)


def read_archive(
    handle: IO[bytes], path: str, limits: ScanLimits, *, nested: bool
) -> Iterator[tuple[str, str]]:
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    with archive:
        yield from _own(archive, path)
        if nested:
            yield from _nested(archive, limits)


def _own(archive: zipfile.ZipFile, path: str) -> Iterator[tuple[str, str]]:
    found = False
    for info in archive.infolist():
        if info.filename.startswith("META-INF/maven/") and info.filename.endswith(
            "/pom.properties"
        ):
            fields = _properties(_read_small(archive, info))
            group, artifact, version = (fields.get(k) for k in ("groupId", "artifactId", "version"))
            if group and artifact and version:
                found = True
                yield f"{group}:{artifact}", version
    if not found:
        manifest = _manifest(archive)
        title = manifest.get("Implementation-Title") or manifest.get("Bundle-SymbolicName")
        version = manifest.get("Implementation-Version") or manifest.get("Bundle-Version")
        if version:
            yield title or _stem(path), version


def _nested(archive: zipfile.ZipFile, limits: ScanLimits) -> Iterator[tuple[str, str]]:
    for info in archive.infolist():
        if not info.filename.endswith(_ARCHIVES) or info.file_size > limits.max_nested_archive:
            continue
        try:
            data = archive.read(info)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            continue
        yield from read_archive(io.BytesIO(data), info.filename, limits, nested=False)


def _read_small(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    try:
        with archive.open(info) as member:
            return member.read(MAX_METADATA).decode("utf-8", errors="replace")
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return ""


def _properties(text: str) -> dict[str, str]:
    fields = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "!")) and "=" in line:
            key, _, value = line.partition("=")
            fields[key.strip()] = value.strip()
    return fields


def _manifest(archive: zipfile.ZipFile) -> dict[str, str]:
    try:
        info = archive.getinfo("META-INF/MANIFEST.MF")
    except KeyError:
        return {}
    fields: dict[str, str] = {}
    last = ""
    for line in _read_small(archive, info).splitlines():
        if line.startswith(" ") and last:
            fields[last] += line[1:]
        elif ":" in line:
            key, _, value = line.partition(":")
            last = key.strip()
            fields.setdefault(last, value.strip())
        else:
            if not line.strip() and fields:
                break  # the main section ends at the first blank line
            last = ""
    return fields


def _stem(path: str) -> str:
    return posixpath.splitext(posixpath.basename(path))[0]
