"""Picks the version ordering of an ecosystem (lower-case OSV name)."""

from __future__ import annotations

from collections.abc import Callable

from conveyor.scan.versions import apk, dpkg, golang, maven, pep440, rpm, semver

Compare = Callable[[str, str], int]

_BY_ECOSYSTEM: dict[str, Compare] = {
    "debian": dpkg.compare,
    "ubuntu": dpkg.compare,
    "alpine": apk.compare,
    "wolfi": apk.compare,
    "rpm": rpm.compare_evr,
    "red hat": rpm.compare_evr,
    "rocky linux": rpm.compare_evr,
    "almalinux": rpm.compare_evr,
    "opensuse": rpm.compare_evr,
    "suse": rpm.compare_evr,
    "mageia": rpm.compare_evr,
    "pypi": pep440.compare,
    "npm": semver.compare,
    "go": golang.compare,
    "maven": maven.compare,
    "crates.io": semver.compare,
    "packagist": semver.compare,
    "nuget": semver.compare,
    "rubygems": semver.compare,
}


def comparator(ecosystem: str) -> Compare | None:
    """The ordering of an ecosystem (lower-case OSV name), or None when it is not known."""
    return _BY_ECOSYSTEM.get(ecosystem.lower())


class VersionError(ValueError):
    """A version string the ecosystem's rules cannot order."""
