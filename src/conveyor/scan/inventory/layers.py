"""Which layer added a package: the first of the consecutive layers whose database has it at
its current version (a later upgrade moves it to the upgrading layer)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from conveyor.scan.unpack.tree import Snapshot

T = TypeVar("T")
Key = tuple[str, str]


def attribute(
    snapshots: list[Snapshot], parse: Callable[[Path], Iterable[T]], key: Callable[[T], Key]
) -> Iterator[tuple[T, str]]:
    """Each package of the newest snapshot, with the layer that added it."""
    added: dict[Key, str] = {}
    latest: list[T] = []
    for snapshot in snapshots:
        latest = list(parse(snapshot.local))
        added = {key(p): added.get(key(p), snapshot.layer) for p in latest}
    for package in latest:
        yield package, added[key(package)]
