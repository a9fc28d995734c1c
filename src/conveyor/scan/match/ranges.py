"""Whether a version is inside OSV ranges, by an ecosystem's ordering.

Events sort by version (`0` first); walking them in order, `introduced` at or below the
version opens a range, `fixed` (or `limit`) at or below it closes it, and `last_affected`
below it closes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cmp_to_key

from conveyor.scan.versions.ordering import Compare

Event = tuple[str, str]


def _sorted(events: Sequence[Event], compare: Compare) -> list[Event]:
    def key(a: Event, b: Event) -> int:
        if a[1] == b[1]:
            return 0
        if a[1] == "0":
            return -1
        if b[1] == "0":
            return 1
        return compare(a[1], b[1])

    return sorted(events, key=cmp_to_key(key))


def in_range(version: str, events: Sequence[Event], compare: Compare) -> bool:
    affected = False
    for kind, at in _sorted(events, compare):
        if kind == "introduced":
            if at == "0" or compare(version, at) >= 0:
                affected = True
        elif kind in ("fixed", "limit"):
            if compare(version, at) >= 0:
                affected = False
        elif kind == "last_affected" and compare(version, at) > 0:
            affected = False
    return affected


def fixed_for(version: str, events: Sequence[Event], compare: Compare) -> str:
    """The first fix above the installed version, or "" when the range has none."""
    for kind, at in _sorted(events, compare):
        if kind == "fixed" and compare(version, at) < 0:
            return at
    return ""
