"""OSV records (any ecosystem): ECOSYSTEM and SEMVER ranges with introduced / fixed /
last_affected events, and explicit `versions` lists. GIT ranges carry commits, not versions,
and are ignored; withdrawn records are skipped."""

from __future__ import annotations

from typing import Any

from conveyor.scan.vulndb.ecosystems import normalize_package, split_ecosystem
from conveyor.scan.vulndb.records import Advisory, Affected
from conveyor.scan.vulndb.severity import from_vector, from_word, highest

KIND = "osv"
_EVENTS = ("introduced", "fixed", "last_affected", "limit")


def looks_like_osv(doc: Any) -> bool:
    return (
        isinstance(doc, dict)
        and isinstance(doc.get("id"), str)
        and ("affected" in doc or "modified" in doc or "schema_version" in doc)
    )


def source_of(vuln_id: str) -> str:
    """`PYSEC-2021-1` -> `osv:PYSEC`: one source per publishing database."""
    return f"{KIND}:{vuln_id.split('-', 1)[0].upper()}"


def parse_osv(doc: dict[str, Any]) -> Advisory | None:
    if doc.get("withdrawn"):
        return None
    vuln_id = str(doc["id"])
    affected = [a for item in _list(doc.get("affected")) if (a := _affected(item)) is not None]
    if not affected:
        return None
    return Advisory(
        source_of(vuln_id),
        KIND,
        vuln_id,
        [str(a) for a in _list(doc.get("aliases")) if a],
        _severity(doc),
        str(doc.get("summary") or doc.get("details") or "")[:2000],
        affected,
    )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _affected(item: Any) -> Affected | None:
    if not isinstance(item, dict) or not isinstance(item.get("package"), dict):
        return None
    package = item["package"]
    name, ecosystem_name = package.get("name"), package.get("ecosystem")
    if not name or not ecosystem_name:
        return None
    ecosystem, release = split_ecosystem(str(ecosystem_name))
    ranges = tuple(
        events
        for r in _list(item.get("ranges"))
        if isinstance(r, dict) and r.get("type") in ("ECOSYSTEM", "SEMVER")
        if (events := _events(r.get("events")))
    )
    versions = tuple(str(v) for v in _list(item.get("versions")))
    if not ranges and not versions:
        return None
    fixed = ", ".join(v for events in ranges for kind, v in events if kind == "fixed")
    return Affected(
        ecosystem, normalize_package(ecosystem, str(name)), release, ranges, versions, fixed
    )


def _events(value: Any) -> tuple[tuple[str, str], ...]:
    found = []
    for event in _list(value):
        if isinstance(event, dict):
            for kind in _EVENTS:
                if kind in event and event[kind] is not None:
                    found.append((kind, str(event[kind])))
    return tuple(found)


def _severity(doc: dict[str, Any]) -> str:
    """The CVSS vectors decide when there are any; else the source's own words."""
    scored = [
        from_vector(str(s.get("score", "")))
        for s in _list(doc.get("severity"))
        if isinstance(s, dict)
    ]
    if any(s != "UNKNOWN" for s in scored):
        return highest(*scored)
    words = [_word(doc.get("database_specific"))]
    for item in _list(doc.get("affected")):
        if isinstance(item, dict):
            words += [_word(item.get("ecosystem_specific")), _word(item.get("database_specific"))]
    return highest(*words)


def _word(extra: Any) -> str:
    if isinstance(extra, dict) and isinstance(extra.get("severity"), str):
        return from_word(extra["severity"])
    return "UNKNOWN"
