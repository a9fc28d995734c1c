"""RPM packages from the SQLite rpmdb (`rpmdb.sqlite`: RHEL/CentOS Stream/Rocky/Alma 9,
Fedora 33+, UBI 9). Berkeley DB (`Packages`, RHEL 7/8) and NDB (`Packages.db`, SUSE) are not
read."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

from conveyor.scan.inventory.layers import attribute
from conveyor.scan.inventory.rpmheader import HeaderError, parse_header, source_name
from conveyor.scan.model import Package
from conveyor.scan.unpack.select import RPMDB
from conveyor.scan.unpack.tree import ImageTree


def collect(tree: ImageTree) -> Iterator[Package]:
    for path in RPMDB:
        snapshots = tree.snapshots(path)
        for package, layer in attribute(snapshots, read_rpmdb, _key):
            yield Package(
                package.name,
                package.version,
                "rpm",
                layer,
                path,
                package.source_name,
                "",
                package.arch,
            )


def _key(package: Package) -> tuple[str, str]:
    return package.name + "." + package.arch, package.version


def read_rpmdb(path: Path) -> Iterator[Package]:
    """Open a private copy read-only (sqlite wants to create -shm/-wal files beside it)."""
    with tempfile.TemporaryDirectory(dir=path.parent) as work:
        copy = Path(work) / "rpmdb.sqlite"
        shutil.copyfile(path, copy)
        yield from _rows(copy)


def _rows(path: Path) -> Iterator[Package]:
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return
    try:
        rows = connection.execute("SELECT blob FROM Packages").fetchall()
    except sqlite3.Error:
        rows = []
    finally:
        connection.close()
    for (blob,) in rows:
        try:
            header = parse_header(bytes(blob))
        except HeaderError:
            continue
        if header.name and header.name != "gpg-pubkey":
            yield Package(
                header.name,
                header.evr,
                "rpm",
                "",
                "",
                source_name(header.source_rpm),
                "",
                header.arch,
            )
