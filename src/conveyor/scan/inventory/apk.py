"""Alpine packages: /lib/apk/db/installed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from conveyor.scan.inventory.layers import attribute
from conveyor.scan.inventory.textdb import apk_stanzas, read_text
from conveyor.scan.model import Package
from conveyor.scan.unpack.select import APK_INSTALLED
from conveyor.scan.unpack.tree import ImageTree


def collect(tree: ImageTree) -> Iterator[Package]:
    for package, layer in attribute(tree.snapshots(APK_INSTALLED), parse_installed, _key):
        yield Package(
            package.name,
            package.version,
            "apk",
            layer,
            APK_INSTALLED,
            package.source_name,
            package.version,
            package.arch,
        )


def _key(package: Package) -> tuple[str, str]:
    return package.name, package.version


def parse_installed(path: Path) -> Iterator[Package]:
    yield from parse_installed_text(read_text(path))


def parse_installed_text(text: str) -> Iterator[Package]:
    for fields in apk_stanzas(text):
        name, version = fields.get("P"), fields.get("V")
        if name and version:
            origin = fields.get("o") or name
            yield Package(name, version, "apk", "", "", origin, version, fields.get("A", ""))
