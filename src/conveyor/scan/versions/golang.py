"""Go module versions (semver with a `v`) and Go toolchain versions (`go1.19.5`, `go1.21rc2`)."""

from __future__ import annotations

import re

from conveyor.scan.versions import semver

_TOOLCHAIN = re.compile(r"^go(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:(beta|rc)(\d+))?")


def toolchain_to_semver(version: str) -> str:
    """`go1.19.5` -> `1.19.5`; `go1.19` -> `1.19.0`; `go1.21rc2` -> `1.21.0-rc.2` (as the Go
    vulnerability database writes them). Anything else is returned unchanged."""
    match = _TOOLCHAIN.match(version.strip())
    if not match:
        return version
    major, minor, patch, kind, number = match.groups()
    base = f"{major}.{minor or 0}.{patch or 0}"
    return f"{base}-{kind}.{number}" if kind else base


def compare(a: str, b: str) -> int:
    result: int = semver.compare(_normal(a), _normal(b))
    return result


def _normal(version: str) -> str:
    version = version.strip()
    if version.startswith("go"):
        return toolchain_to_semver(version)
    return version.removeprefix("v")
