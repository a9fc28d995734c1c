"""Go programs: the Go toolchain (`stdlib`) and every module compiled in, from build info."""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.scan.inventory.gobuild import read_build_info
from conveyor.scan.model import Package
from conveyor.scan.unpack.select import classify
from conveyor.scan.unpack.tree import ImageTree

DEVEL = "(devel)"


def collect(tree: ImageTree) -> Iterator[Package]:
    for path, entry in tree.files():
        if entry.local is None or classify(path) is not None:
            continue
        info = read_build_info(entry.local)
        if info is None:
            continue
        yield Package("stdlib", info.go_version, "golang", entry.layer, path)
        modules = ([info.main] if info.main else []) + info.deps
        for module in modules:
            if module.version and module.version != DEVEL:
                yield Package(module.path, module.version, "golang", entry.layer, path)
