"""Alpine secdb: the YAML documents of alpine-secdb, the same document as JSON, and the
one-package-per-file JSON of vuln-list. `secfixes` maps the first fixed `pkgver-rN` to the ids
it fixes; the key `0` means "never affected" and yields nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conveyor.scan.vulndb.records import Advisory, Affected, below

KIND = "alpine-secdb"


def looks_like_secdb(doc: Any) -> bool:
    if not isinstance(doc, dict) or "distroversion" not in doc:
        return False
    return "packages" in doc or "secfixes" in doc


def parse_secdb(doc: dict[str, Any]) -> Iterator[Advisory]:
    release = str(doc.get("distroversion", "")).strip()
    if release and not release.startswith("v") and release[0].isdigit():
        release = "v" + release
    source = f"{KIND}:{release}/{doc.get('reponame') or 'main'}"
    packages = doc.get("packages")
    items = packages if isinstance(packages, list) else [{"pkg": doc}]
    for item in items:
        pkg = item.get("pkg") if isinstance(item, dict) else None
        if isinstance(pkg, dict):
            yield from _package(source, release, pkg)


def _package(source: str, release: str, pkg: dict[str, Any]) -> Iterator[Advisory]:
    name = str(pkg.get("name", "")).strip()
    secfixes = pkg.get("secfixes")
    if not name or not isinstance(secfixes, dict):
        return
    for fixed, ids in secfixes.items():
        fixed = str(fixed).strip()
        if fixed in ("0", "") or not isinstance(ids, list):
            continue
        for text in ids:
            vuln_id = _first_id(str(text))
            if vuln_id:
                affected = Affected("alpine", name, release, below(fixed), (), fixed)
                yield Advisory(source, KIND, vuln_id, affected=[affected])


def _first_id(text: str) -> str:
    """`CVE-2019-5747` or `CVE-2018-1000500 ALPINE-13661` -> the first id."""
    words = text.split()
    return words[0] if words else ""
