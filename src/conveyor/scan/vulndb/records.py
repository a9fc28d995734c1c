"""What every importer produces: advisories with their affected packages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")


@dataclass(frozen=True, slots=True)
class Affected:
    ecosystem: str  # lower-case: pypi, go, npm, maven, debian, alpine, ...
    package: str
    release: str = ""
    ranges: tuple[tuple[tuple[str, str], ...], ...] = ()  # ranges of (event, version) pairs
    versions: tuple[str, ...] = ()
    fixed: str = ""

    def ranges_json(self) -> list[list[dict[str, str]]]:
        return [[{kind: version} for kind, version in events] for events in self.ranges]


@dataclass
class Advisory:
    source: str
    kind: str  # osv | alpine-secdb | debian-tracker
    vuln_id: str
    aliases: list[str] = field(default_factory=list)
    severity: str = "UNKNOWN"
    summary: str = ""
    affected: list[Affected] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "vuln_id": self.vuln_id,
            "aliases": self.aliases,
            "severity": self.severity,
            "summary": self.summary[:2000],
        }


def affected_row(source: str, vuln_id: str, affected: Affected) -> dict[str, Any]:
    return {
        "source": source,
        "vuln_id": vuln_id,
        "ecosystem": affected.ecosystem,
        "release": affected.release,
        "package": affected.package,
        "ranges": affected.ranges_json(),
        "versions": list(affected.versions),
        "fixed": affected.fixed[:255],
    }


def all_versions() -> tuple[tuple[tuple[str, str], ...], ...]:
    """A range that covers every version (no fix yet)."""
    return ((("introduced", "0"),),)


def below(fixed: str) -> tuple[tuple[tuple[str, str], ...], ...]:
    return ((("introduced", "0"), ("fixed", fixed)),)
