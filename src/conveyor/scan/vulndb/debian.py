"""The Debian security tracker.

* The DSA/DLA `list` text files (data/DSA/list, data/DLA/list): a line `[date] DSA-n-m pkg -
  title`, then `{CVE ...}` aliases and `[release] - source-package version` lines, where the
  version is the fixed one, or `<not-affected>` (nothing), `<unfixed>` or `<end-of-life>`
  (every version affected, no fix).
* The tracker's JSON (the /tracker/data/json document): `{source-package: {CVE-id:
  {"releases": {codename: {"status", "fixed_version", "urgency"}}}}}`. `resolved` with a fixed
  version affects versions below it (`0` means never affected); `open` affects every version;
  `undetermined` is skipped (the tracker has not decided). Severity from `urgency`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from conveyor.scan.vulndb.records import Advisory, Affected, all_versions, below
from conveyor.scan.vulndb.severity import from_word, highest

KIND = "debian-tracker"
_HEADER = re.compile(r"^\[([^\]]+)\]\s+((?:DSA|DLA|DTSA)-[\w-]+)\s+(\S+)\s*(?:-\s*(.*))?$")
_RELEASE = re.compile(r"^\s+\[(\w[\w-]*)\]\s+-\s+(\S+)\s*(\S*)")
_ALIASES = re.compile(r"^\s+\{(.*)\}")
_URGENCY = {"high": "HIGH", "medium": "MEDIUM", "low": "LOW", "unimportant": "LOW"}


def looks_like_list(name: str, head: bytes) -> bool:
    return (
        name.rsplit("/", 1)[-1] == "list"
        and re.match(rb"\[[^\]]+\] D[SLT]{1,2}A-", head) is not None
    )


def parse_list(lines: Iterable[str]) -> Iterator[Advisory]:
    current: Advisory | None = None
    for line in lines:
        header = _HEADER.match(line)
        if header:
            if current is not None and current.affected:
                yield current
            vuln_id = header.group(2)
            source = f"{KIND}:{vuln_id.split('-')[0]}"
            current = Advisory(source, KIND, vuln_id, summary=header.group(4) or "")
        elif current is not None:
            _detail(current, line)
    if current is not None and current.affected:
        yield current


def _detail(advisory: Advisory, line: str) -> None:
    aliases = _ALIASES.match(line)
    if aliases:
        advisory.aliases.extend(a for a in aliases.group(1).split() if a)
        return
    release = _RELEASE.match(line)
    if not release:
        return
    codename, package, version = release.groups()
    if version == "<not-affected>":
        return
    if version.startswith("<") or not version:
        advisory.affected.append(Affected("debian", package, codename, all_versions()))
    else:
        advisory.affected.append(Affected("debian", package, codename, below(version), (), version))


def looks_like_tracker_json(doc: Any) -> bool:
    if not isinstance(doc, dict) or not doc:
        return False
    first = next(iter(doc.values()))
    if not isinstance(first, dict) or not first:
        return False
    entry = next(iter(first.values()))
    return isinstance(entry, dict) and isinstance(entry.get("releases"), dict)


def parse_tracker_json(doc: dict[str, Any]) -> Iterator[Advisory]:
    """One advisory per CVE, with every source package it affects."""
    by_id: dict[str, Advisory] = {}
    for package, issues in doc.items():
        if not isinstance(issues, dict):
            continue
        for vuln_id, issue in issues.items():
            if not isinstance(issue, dict) or not isinstance(issue.get("releases"), dict):
                continue
            advisory = by_id.setdefault(
                vuln_id,
                Advisory(f"{KIND}:json", KIND, vuln_id, summary=str(issue.get("description", ""))),
            )
            for codename, state in issue["releases"].items():
                _json_release(advisory, str(package), str(codename), state)
    for advisory in by_id.values():
        if advisory.affected:
            yield advisory


def _json_release(advisory: Advisory, package: str, codename: str, state: Any) -> None:
    if not isinstance(state, dict):
        return
    status = state.get("status")
    fixed = str(state.get("fixed_version") or "")
    if status == "resolved" and fixed and fixed != "0":
        advisory.affected.append(Affected("debian", package, codename, below(fixed), (), fixed))
    elif status == "open":
        advisory.affected.append(Affected("debian", package, codename, all_versions()))
    else:
        return
    urgency = str(state.get("urgency", "")).replace("*", "").strip()
    advisory.severity = highest(advisory.severity, _URGENCY.get(urgency, from_word(urgency)))
