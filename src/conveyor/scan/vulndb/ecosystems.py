"""OSV ecosystem names as (ecosystem, release) keys, and package-name normalisation."""

from __future__ import annotations

import re

from conveyor.scan.model import debian_codename


def split_ecosystem(name: str) -> tuple[str, str]:
    """`PyPI` -> (pypi, ""); `Debian:11` -> (debian, bullseye); `Alpine:v3.19` ->
    (alpine, v3.19); `Ubuntu:22.04:LTS` -> (ubuntu, 22.04)."""
    base, _, rest = name.partition(":")
    ecosystem = base.strip().lower()
    release = rest.split(":")[0].strip()
    if ecosystem == "debian" and release:
        release = debian_codename(release)
    return ecosystem, release


def normalize_package(ecosystem: str, name: str) -> str:
    if ecosystem == "pypi":
        return re.sub(r"[-_.]+", "-", name).lower()
    return name.strip()
