"""npm packages: `node_modules/<name>/package.json` and `node_modules/@scope/<name>/...`."""

from __future__ import annotations

import json
from collections.abc import Iterator

from conveyor.scan.model import Package
from conveyor.scan.unpack.select import Kind, classify
from conveyor.scan.unpack.tree import ImageTree


def collect(tree: ImageTree) -> Iterator[Package]:
    for path, entry in tree.files():
        if not path.endswith("/package.json") or classify(path) is not Kind.TEXT:
            continue
        if entry.local is None:
            continue
        fields = parse_package_json(entry.local.read_bytes())
        if fields is not None:
            yield Package(fields[0], fields[1], "npm", entry.layer, path)


def parse_package_json(data: bytes) -> tuple[str, str] | None:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(doc, dict):
        return None
    name, version = doc.get("name"), doc.get("version")
    if isinstance(name, str) and isinstance(version, str) and name and version:
        return name, version
    return None
