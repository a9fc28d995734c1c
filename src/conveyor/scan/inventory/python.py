"""Python distributions: `*.dist-info/METADATA` and `*.egg-info` (PKG-INFO) files."""

from __future__ import annotations

import re
from collections.abc import Iterator

from conveyor.scan.inventory.textdb import read_text
from conveyor.scan.model import Package
from conveyor.scan.unpack.tree import ImageTree

_HEADER = re.compile(r"^(Name|Version):\s*(.*?)\s*$", re.MULTILINE)


def normalize_name(name: str) -> str:
    """PEP 503: case-folded, runs of `-`, `_`, `.` as one `-`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def collect(tree: ImageTree) -> Iterator[Package]:
    for path, entry in tree.files():
        if not _is_metadata(path) or entry.local is None:
            continue
        fields = parse_metadata(read_text(entry.local))
        if fields is not None:
            yield Package(fields[0], fields[1], "pypi", entry.layer, path)


def _is_metadata(path: str) -> bool:
    return path.endswith((".dist-info/METADATA", ".egg-info/PKG-INFO", ".egg-info"))


def parse_metadata(text: str) -> tuple[str, str] | None:
    """Name and Version from the header block (before the first blank line)."""
    header = text.split("\n\n", 1)[0]
    found: dict[str, str] = {}
    for match in _HEADER.finditer(header):
        found.setdefault(match.group(1), match.group(2))
    if found.get("Name") and found.get("Version"):
        return found["Name"], found["Version"]
    return None
