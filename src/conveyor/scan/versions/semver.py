"""Semantic Versioning 2.0.0 precedence (npm and others), lenient about a `v` or `=` prefix
and missing minor/patch numbers; build metadata is ignored."""

from __future__ import annotations

import re
from functools import lru_cache

_SEMVER = re.compile(
    r"^[v=\s]*(\d+)(?:\.(\d+))?(?:\.(\d+))?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]*)?$"
)

Key = tuple[int, int, int, tuple[tuple[int, int, str], ...] | None]


@lru_cache(maxsize=65536)
def parse(version: str) -> Key:
    match = _SEMVER.match(version.strip())
    if not match:
        raise ValueError(f"not a semantic version: {version!r}")
    major, minor, patch, pre = match.groups()
    ids = None
    if pre is not None:
        ids = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return int(major), int(minor or 0), int(patch or 0), ids


def compare(a: str, b: str) -> int:
    ka, kb = parse(a), parse(b)
    if ka[:3] != kb[:3]:
        return -1 if ka[:3] < kb[:3] else 1
    pa, pb = ka[3], kb[3]
    if pa == pb:
        return 0
    if pa is None:
        return 1
    if pb is None:
        return -1
    return -1 if pa < pb else 1
