"""How an inventory package is looked up: (ecosystem, release, name, version)."""

from __future__ import annotations

from dataclasses import dataclass

from conveyor.scan.inventory.python import normalize_name
from conveyor.scan.model import Distro, Package
from conveyor.scan.versions.golang import toolchain_to_semver

_RPM_ECOSYSTEMS = {
    "rhel": "red hat",
    "rocky": "rocky linux",
    "almalinux": "almalinux",
    "opensuse-leap": "opensuse",
    "sles": "suse",
    "mageia": "mageia",
}


@dataclass(frozen=True, slots=True)
class LookupKey:
    ecosystem: str
    release: str
    name: str
    version: str


def lookup_key(package: Package, distro: Distro | None) -> LookupKey | None:
    release = distro.release if distro else ""
    if package.type == "deb":
        ecosystem = distro.id if distro and distro.id == "ubuntu" else "debian"
        return LookupKey(
            ecosystem,
            release,
            package.source_name or package.name,
            package.source_version or package.version,
        )
    if package.type == "apk":
        return LookupKey("alpine", release, package.source_name or package.name, package.version)
    if package.type == "rpm":
        ecosystem = _RPM_ECOSYSTEMS.get(distro.id if distro else "", "rpm")
        return LookupKey(ecosystem, release, package.source_name or package.name, package.version)
    if package.type == "pypi":
        return LookupKey("pypi", "", normalize_name(package.name), package.version)
    if package.type == "npm":
        return LookupKey("npm", "", package.name, package.version)
    if package.type == "golang":
        version = package.version
        if package.name == "stdlib":
            version = toolchain_to_semver(version)
        return LookupKey("go", "", package.name, version.removeprefix("v"))
    if package.type == "maven":
        return LookupKey("maven", "", package.name, package.version)
    return None
