"""What inventory finds: packages with the layer that added them, and the distribution."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

PACKAGE_TYPES = ("deb", "apk", "rpm", "pypi", "npm", "golang", "maven")


@dataclass(frozen=True, slots=True)
class Distro:
    id: str  # os-release ID: debian, alpine, rhel, ...
    version_id: str = ""
    codename: str = ""
    name: str = ""

    @property
    def release(self) -> str:
        """The release key vulnerability data uses: a codename (Debian, Ubuntu's version),
        `v3.19` (Alpine), else the major version."""
        if self.id == "debian":
            return self.codename or _DEBIAN_CODENAMES.get(self.version_id.split(".")[0], "")
        if self.id == "alpine":
            return "v" + ".".join(self.version_id.split(".")[:2]) if self.version_id else ""
        if self.id == "ubuntu":
            return self.version_id
        return self.version_id.split(".")[0]


_DEBIAN_CODENAMES = {
    "7": "wheezy",
    "8": "jessie",
    "9": "stretch",
    "10": "buster",
    "11": "bullseye",
    "12": "bookworm",
    "13": "trixie",
}


def debian_codename(number: str) -> str:
    return _DEBIAN_CODENAMES.get(number.split(".")[0], number)


@dataclass(frozen=True, slots=True)
class Package:
    name: str
    version: str
    type: str  # one of PACKAGE_TYPES
    layer: str  # digest of the layer that added it
    path: str = ""  # where it was found in the image
    source_name: str = ""  # deb Source, apk origin, rpm source package
    source_version: str = ""
    arch: str = ""

    def to_json(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v}


@dataclass
class Inventory:
    distro: Distro | None = None
    packages: list[Package] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "distro": asdict(self.distro) if self.distro else None,
            "packages": [p.to_json() for p in self.packages],
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Inventory:
        distro = Distro(**doc["distro"]) if doc.get("distro") else None
        packages = [Package(**p) for p in doc.get("packages", [])]
        return cls(distro, packages, list(doc.get("warnings", [])))
