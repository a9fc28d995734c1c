"""Python package versions: PEP 440 through `packaging`."""

from __future__ import annotations

from functools import lru_cache

from packaging.version import InvalidVersion, Version


@lru_cache(maxsize=65536)
def parse(version: str) -> Version:
    try:
        return Version(version)
    except InvalidVersion:
        raise ValueError(f"not a PEP 440 version: {version!r}") from None


def compare(a: str, b: str) -> int:
    va, vb = parse(a), parse(b)
    return 0 if va == vb else (-1 if va < vb else 1)
