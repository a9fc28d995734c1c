"""All of an image's packages, from its merged tree."""

from __future__ import annotations

from conveyor.scan.inventory import apk, dpkg, golang, java, npm, python, rpm
from conveyor.scan.inventory.osrelease import read_distro
from conveyor.scan.limits import ScanLimits
from conveyor.scan.model import Inventory, Package
from conveyor.scan.unpack.tree import ImageTree


def take_inventory(tree: ImageTree, limits: ScanLimits | None = None) -> Inventory:
    limits = limits or ScanLimits()
    packages: list[Package] = []
    packages += dpkg.collect(tree)
    packages += apk.collect(tree)
    packages += rpm.collect(tree)
    packages += python.collect(tree)
    packages += npm.collect(tree)
    packages += golang.collect(tree)
    packages += java.collect(tree, limits)
    unique = list(dict.fromkeys(packages))
    unique.sort(key=lambda p: (p.type, p.name, p.version, p.path))
    return Inventory(read_distro(tree), unique, list(tree.warnings))
