"""Debian packages: /var/lib/dpkg/status, and status.d/ files (distroless images)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from conveyor.scan.inventory.layers import attribute
from conveyor.scan.inventory.textdb import read_text, rfc822_stanzas
from conveyor.scan.model import Package
from conveyor.scan.unpack.select import DPKG_STATUS, DPKG_STATUS_D
from conveyor.scan.unpack.tree import ImageTree

_SOURCE = re.compile(r"^(\S+)(?:\s+\((\S+)\))?")


def collect(tree: ImageTree) -> Iterator[Package]:
    for package, layer in attribute(tree.snapshots(DPKG_STATUS), parse_status, _key):
        yield _in_layer(package, layer, DPKG_STATUS)
    for path, entry in tree.files():
        if path.startswith(DPKG_STATUS_D + "/") and entry.local is not None:
            for package in parse_status(entry.local):
                yield _in_layer(package, entry.layer, path)


def _key(package: Package) -> tuple[str, str]:
    return package.name + ":" + package.arch, package.version


def _in_layer(package: Package, layer: str, path: str) -> Package:
    return Package(
        package.name,
        package.version,
        "deb",
        layer,
        path,
        package.source_name,
        package.source_version,
        package.arch,
    )


def parse_status(path: Path) -> Iterator[Package]:
    yield from parse_status_text(read_text(path))


def parse_status_text(text: str) -> Iterator[Package]:
    for fields in rfc822_stanzas(text):
        name, version = fields.get("Package"), fields.get("Version")
        if not name or not version or not _installed(fields.get("Status")):
            continue
        source_name, source_version = name, version
        match = _SOURCE.match(fields.get("Source", ""))
        if match:
            source_name = match.group(1)
            source_version = match.group(2) or version
        yield Package(
            name,
            version,
            "deb",
            "",
            "",
            source_name,
            source_version,
            fields.get("Architecture", ""),
        )


def _installed(status: str | None) -> bool:
    """status.d files have no Status; in status, only `... installed` counts."""
    return status is None or status.split()[-1:] == ["installed"]
