"""Findings: every advisory whose affected ranges or versions hold an installed package."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from conveyor.db.vulndb_models import VulnAdvisory, VulnAffected
from conveyor.scan.match.hints import fix_hint
from conveyor.scan.match.keys import LookupKey, lookup_key
from conveyor.scan.match.ranges import fixed_for, in_range
from conveyor.scan.model import Inventory, Package
from conveyor.scan.versions.ordering import Compare, comparator
from conveyor.scan.vulndb.severity import highest

CHUNK = 500


@dataclass(frozen=True, slots=True)
class Candidate:
    vuln_id: str
    aliases: tuple[str, ...]
    severity: str
    release: str
    ranges: tuple[tuple[tuple[str, str], ...], ...]
    versions: frozenset[str]


@dataclass(frozen=True, slots=True)
class Finding:
    id: str
    aliases: tuple[str, ...]
    package: Package
    fixed_version: str
    severity: str
    hint: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "aliases": list(self.aliases),
            "package": self.package.name,
            "version": self.package.version,
            "fixedVersion": self.fixed_version,
            "severity": self.severity,
            "layer": self.package.layer,
            "type": self.package.type,
            "hint": self.hint,
        }


async def find_vulnerabilities(session: AsyncSession, inventory: Inventory) -> list[Finding]:
    keyed = [(p, k) for p in inventory.packages if (k := lookup_key(p, inventory.distro))]
    candidates = await _candidates(session, [k for _, k in keyed])
    findings: dict[tuple[str, str, str, str], Finding] = {}
    for package, key in keyed:
        compare = comparator(key.ecosystem)
        for candidate in candidates.get((key.ecosystem, key.name), ()):
            if candidate.release and candidate.release != key.release:
                continue
            hit = _affects(candidate, key.version, compare)
            if hit is None:
                continue
            finding = Finding(
                candidate.vuln_id,
                candidate.aliases,
                package,
                hit,
                candidate.severity,
                fix_hint(package, hit),
            )
            findings.setdefault((finding.id, package.name, package.version, package.layer), finding)
    return await _with_known_severity(session, list(findings.values()))


async def _with_known_severity(session: AsyncSession, findings: list[Finding]) -> list[Finding]:
    """A finding whose own source rates nothing takes the highest rating another source gives
    the same id or one of its aliases (a DSA from the tracker's CVE urgency, say)."""
    unknown = {n for f in findings if f.severity == "UNKNOWN" for n in (f.id, *f.aliases)}
    if not unknown:
        return findings
    rated: dict[str, str] = {}
    names = sorted(unknown)
    for start in range(0, len(names), CHUNK):
        query = select(VulnAdvisory.vuln_id, VulnAdvisory.severity).where(
            VulnAdvisory.vuln_id.in_(names[start : start + CHUNK]),
            VulnAdvisory.severity != "UNKNOWN",
        )
        for vuln_id, severity in (await session.execute(query)).all():
            rated[vuln_id] = highest(rated.get(vuln_id, "UNKNOWN"), severity)
    return [
        replace(f, severity=highest(*(rated.get(n, "UNKNOWN") for n in (f.id, *f.aliases))))
        if f.severity == "UNKNOWN"
        else f
        for f in findings
    ]


def _affects(candidate: Candidate, version: str, compare: Compare | None) -> str | None:
    """The fixed version ("" when none) if the version is affected, else None."""
    if compare is not None:
        for events in candidate.ranges:
            try:
                if in_range(version, events, compare):
                    return fixed_for(version, events, compare)
            except ValueError:
                continue
    if version in candidate.versions:
        return _first_fix(candidate, version, compare)
    if (
        compare is not None
        and candidate.versions
        and _equal_any(version, candidate.versions, compare)
    ):
        return _first_fix(candidate, version, compare)
    return None


def _equal_any(version: str, versions: Iterable[str], compare: Compare) -> bool:
    for listed in versions:
        try:
            if compare(version, listed) == 0:
                return True
        except ValueError:
            continue
    return False


def _first_fix(candidate: Candidate, version: str, compare: Compare | None) -> str:
    for events in candidate.ranges:
        for kind, at in events:
            if kind == "fixed":
                try:
                    if compare is None or compare(version, at) < 0:
                        return at
                except ValueError:
                    continue
    return ""


async def _candidates(
    session: AsyncSession, keys: Sequence[LookupKey]
) -> dict[tuple[str, str], list[Candidate]]:
    names: dict[str, set[str]] = defaultdict(set)
    for key in keys:
        names[key.ecosystem].add(key.name)
    found: dict[tuple[str, str], list[Candidate]] = defaultdict(list)
    for ecosystem, wanted in names.items():
        ordered = sorted(wanted)
        for start in range(0, len(ordered), CHUNK):
            for row in await _query(session, ecosystem, ordered[start : start + CHUNK]):
                found[(ecosystem, row.package)].append(_candidate(row))
    return found


async def _query(session: AsyncSession, ecosystem: str, names: list[str]) -> Sequence[Any]:
    query = (
        select(
            VulnAffected.package,
            VulnAffected.release,
            VulnAffected.ranges,
            VulnAffected.versions,
            VulnAdvisory.vuln_id,
            VulnAdvisory.aliases,
            VulnAdvisory.severity,
        )
        .join(
            VulnAdvisory,
            (VulnAdvisory.source == VulnAffected.source)
            & (VulnAdvisory.vuln_id == VulnAffected.vuln_id),
        )
        .where(VulnAffected.ecosystem == ecosystem, VulnAffected.package.in_(names))
    )
    return (await session.execute(query)).all()


def _candidate(row: Any) -> Candidate:
    ranges = tuple(
        tuple((kind, str(at)) for event in events for kind, at in event.items())
        for events in row.ranges or []
    )
    return Candidate(
        row.vuln_id,
        tuple(row.aliases or ()),
        row.severity,
        row.release,
        ranges,
        frozenset(str(v) for v in row.versions or ()),
    )
