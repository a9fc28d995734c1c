"""Maven versions, after Maven's ComparableVersion: items split at `.`, `-` and digit/letter
changes; numbers compare as numbers; known qualifiers in the order
alpha < beta < milestone < rc < snapshot < (release) < sp, others after, alphabetically."""

from __future__ import annotations

import re

_QUALIFIERS = {
    "alpha": 0, "a": 0, "beta": 1, "b": 1, "milestone": 2, "m": 2, "rc": 3, "cr": 3,
    "snapshot": 4, "": 5, "ga": 5, "final": 5, "release": 5, "sp": 6,
}  # fmt: skip
_ITEM = re.compile(r"\d+|[a-z]+")

Item = tuple[int, int, str]


def _items(version: str) -> list[Item]:
    items: list[Item] = []
    for token in _ITEM.findall(version.lower()):
        if token.isdigit():
            items.append((2, int(token), ""))
        else:
            rank = _QUALIFIERS.get(token)
            items.append((1, rank, "") if rank is not None else (1, 7, token))
    return items


def compare(a: str, b: str) -> int:
    ia, ib = _items(a), _items(b)
    for index in range(max(len(ia), len(ib))):
        x = ia[index] if index < len(ia) else None
        y = ib[index] if index < len(ib) else None
        result = _item_cmp(x, y)
        if result:
            return result
    return 0


def _item_cmp(x: Item | None, y: Item | None) -> int:
    """A missing item equals 0 and the release qualifier (Maven's "null" item)."""
    if x is None:
        return -_item_cmp(y, None) if y is not None else 0
    if y is None:
        y = (2, 0, "") if x[0] == 2 else (1, 5, "")
    return (x > y) - (x < y)
