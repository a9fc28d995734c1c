"""Matching against the imported shared data: Debian by source package and release, Alpine
secdb, the Go standard library, and OSV ranges."""

from __future__ import annotations

import json
from pathlib import Path

from conveyor.db.database import Database
from conveyor.scan.inventory.collect import take_inventory
from conveyor.scan.match.matcher import Finding, find_vulnerabilities
from conveyor.scan.match.ranges import fixed_for, in_range
from conveyor.scan.model import Inventory
from conveyor.scan.unpack.image import read_tar_layers
from conveyor.scan.versions import pep440, semver
from tests.support.scan_images import BULLSEYE_OS_RELEASE, LayerBuilder, go_binary, write_layers
from tests.unit.scan.conftest import DATA, import_paths, new_database, with_db


def _inventory(tmp_path: Path, layer: LayerBuilder) -> Inventory:
    with read_tar_layers(write_layers(tmp_path / "layers", [layer.bytes()])) as tree:
        return take_inventory(tree)


def _match(url: str, inventory: Inventory) -> list[Finding]:
    async def work(db: Database) -> list[Finding]:
        async with db.read() as session:
            return await find_vulnerabilities(session, inventory)

    return with_db(url, work)


def _by_package(findings: list[Finding]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for f in findings:
        found.setdefault(f.package.name, {})[f.id] = f.fixed_version
    return found


def _stanza(name: str, version: str, source: str = "") -> str:
    line = f"Source: {source}\n" if source else ""
    return f"Package: {name}\nStatus: install ok installed\n{line}Version: {version}\n\n"


def test_debian_bullseye_findings_by_source_package_checked_by_hand(
    tmp_path: Path, vulndb_url: str
) -> None:
    status = (
        _stanza("libssl1.1", "1.1.1n-0+deb11u2", "openssl")  # binary name differs
        + _stanza("openssl", "1.1.1n-0+deb11u2")
        + _stanza("zlib1g", "1:1.2.11.dfsg-2", "zlib")
        + _stanza("gzip", "1.10-4")
        + _stanza("libexpat1", "2.2.10-2+deb11u3", "expat")
        + _stanza("liblzma5", "5.2.5-2.1~deb11u1", "xz-utils")  # exactly the fixed version
        + _stanza("libsystemd0", "247.3-7", "systemd (247.3-6)")  # source version from Source:
    )
    layer = LayerBuilder().file("etc/os-release", BULLSEYE_OS_RELEASE)
    layer.file("var/lib/dpkg/status", status)
    found = _by_package(_match(vulndb_url, _inventory(tmp_path, layer)))
    # data/DSA/list: openssl fixed in bullseye at deb11u1 (DSA-4963-1), 1.1.1k-1+deb11u2
    # (DSA-5103-1), deb11u2 (DSA-5139-1), deb11u3 (DSA-5169-1), deb11u4 (DSA-5343-1).
    assert found["libssl1.1"] == {
        "DSA-5169-1": "1.1.1n-0+deb11u3",
        "DSA-5343-1": "1.1.1n-0+deb11u4",
    }
    assert found["openssl"] == found["libssl1.1"]
    assert found["zlib1g"] == {
        "DSA-5111-1": "1:1.2.11.dfsg-2+deb11u1",
        "DSA-5218-1": "1:1.2.11.dfsg-2+deb11u2",
    }
    assert found["gzip"] == {"DSA-5122-1": "1.10-4+deb11u1"}
    assert found["libexpat1"] == {
        "DSA-5236-1": "2.2.10-2+deb11u4",
        "DSA-5266-1": "2.2.10-2+deb11u5",
    }
    assert "liblzma5" not in found
    assert all(f.startswith("DSA-") for package in found.values() for f in package)


def test_debian_aliases_hint_and_release_separation(tmp_path: Path, vulndb_url: str) -> None:
    layer = LayerBuilder().file("etc/os-release", BULLSEYE_OS_RELEASE)
    layer.file("var/lib/dpkg/status", _stanza("libssl1.1", "1.1.1n-0+deb11u3", "openssl"))
    [finding] = _match(vulndb_url, _inventory(tmp_path, layer))
    assert finding.id == "DSA-5343-1"
    assert "CVE-2023-0286" in finding.aliases
    assert "built from openssl" in finding.hint and "1.1.1n-0+deb11u4" in finding.hint
    buster = LayerBuilder().file(
        "etc/os-release", "ID=debian\nVERSION_ID=10\nVERSION_CODENAME=buster\n"
    )
    buster.file("var/lib/dpkg/status", _stanza("libsystemd0", "241-7~deb10u8", "systemd"))
    found = _by_package(_match(vulndb_url, _inventory(tmp_path / "b", buster)))
    assert found["libsystemd0"]["DLA-3377-1"] == "241-7~deb10u9"  # DLAs cover buster LTS


def test_alpine_3_19_and_3_20_secdb(tmp_path: Path, vulndb_url: str) -> None:
    installed = (
        "P:busybox\nV:1.36.1-r15\no:busybox\n\n"
        "P:libcrypto3\nV:3.1.4-r2\no:openssl\n\n"
        "P:musl\nV:1.2.4_git20230717-r4\no:musl\n\n"
    )
    layer = LayerBuilder().file("etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n")
    layer.file("lib/apk/db/installed", installed)
    found = _by_package(_match(vulndb_url, _inventory(tmp_path, layer)))
    assert found["busybox"] == {
        "CVE-2023-42366": "1.36.1-r16",
        "CVE-2023-42363": "1.36.1-r17",
        "CVE-2023-42364": "1.36.1-r19",
        "CVE-2023-42365": "1.36.1-r19",
        "CVE-2024-58251": "1.36.1-r21",
        "CVE-2025-46394": "1.36.1-r21",
    }  # not CVE-2022-48174 (1.36.1-r2 < r15: apk order, not string order)
    assert found["libcrypto3"] == {"CVE-2023-6129": "3.1.4-r3", "CVE-2023-6237": "3.1.4-r4"}
    assert set(found["musl"]) == {"CVE-2025-26519", "CVE-2026-40200", "CVE-2026-6042"}

    newer = LayerBuilder().file("etc/os-release", "ID=alpine\nVERSION_ID=3.20.0\n")
    newer.file("lib/apk/db/installed", "P:xz-libs\nV:5.6.1-r1\no:xz\n\nP:expat\nV:2.6.2-r0\n")
    found = _by_package(_match(vulndb_url, _inventory(tmp_path / "n", newer)))
    assert found["xz-libs"] == {
        "CVE-2024-3094": "5.6.1-r2",
        "CVE-2025-31115": "5.6.2-r1",
        "CVE-2026-34743": "5.8.3-r0",
    }
    assert {"CVE-2024-45490", "CVE-2024-45491", "CVE-2024-45492", "CVE-2024-50602"} <= set(
        found["expat"]
    )
    assert found["expat"]["CVE-2024-50602"] == "2.6.4-r0"
    assert not {"CVE-2024-28757", "CVE-2023-52425"} & set(found["expat"])  # fixed at or before


def _go_oracle(version: str) -> set[str]:
    """An independent reading of the Go data: events are sorted in these files, so a plain
    walk with numeric (major, minor, patch) tuples decides."""

    def key(v: str) -> tuple[int, ...]:
        parts = [int(x) for x in v.split("-")[0].split(".")]
        return tuple(parts + [0] * (3 - len(parts)))

    hits = set()
    for path in (DATA / "go-osv").rglob("GO-*.json"):
        doc = json.loads(path.read_text())
        for affected in doc.get("affected", []):
            if affected["package"]["name"] != "stdlib":
                continue
            for r in affected.get("ranges", []):
                inside = False
                for event in r["events"]:
                    if "introduced" in event:
                        inside = (
                            inside
                            or event["introduced"] == "0"
                            or key(version) >= key(event["introduced"])
                        )
                    if "fixed" in event and key(version) >= key(event["fixed"]):
                        inside = False
                if inside:
                    hits.add(doc["id"])
    return hits


def test_go_standard_library_findings_for_a_go_1_19_binary(tmp_path: Path, vulndb_url: str) -> None:
    layer = LayerBuilder().file("app/hello", go_binary().read_bytes(), mode=0o755)
    inventory = _inventory(tmp_path, layer)
    [stdlib] = inventory.packages
    findings = [f for f in _match(vulndb_url, inventory) if f.package.name == "stdlib"]
    ids = {f.id for f in findings}
    assert ids == _go_oracle(stdlib.version.removeprefix("go"))
    assert len(ids) > 20 and "GO-2023-1878" in ids
    assert "GO-2023-1704" not in ids  # fixed in exactly 1.19.8
    assert all(f.hint.startswith("rebuild the program with Go") for f in findings)


def test_osv_range_walk() -> None:
    events = [("introduced", "0"), ("fixed", "1.19.8"), ("introduced", "1.20.0-0"),
              ("fixed", "1.20.3")]  # fmt: skip
    assert in_range("1.19.7", events, semver.compare)
    assert not in_range("1.19.8", events, semver.compare)
    assert in_range("1.20.0", events, semver.compare)
    assert fixed_for("1.20.1", events, semver.compare) == "1.20.3"
    assert not in_range("1.21.0", events, semver.compare)
    last = [("introduced", "1.0"), ("last_affected", "1.4")]
    assert in_range("1.4", last, pep440.compare) and not in_range("1.4.1", last, pep440.compare)
    assert not in_range("0.9", last, pep440.compare)


def test_a_finding_without_a_rating_takes_one_from_its_aliases(tmp_path: Path) -> None:
    """DSA entries carry no severity; the tracker's JSON rates the CVEs they fix."""
    url = new_database(tmp_path)
    rating = {
        "openssl": {
            "CVE-2023-0286": {
                "releases": {"bullseye": {"status": "resolved", "fixed_version":
                                          "1.1.1n-0+deb11u4", "urgency": "high"}}
            }
        }
    }  # fmt: skip
    (tmp_path / "tracker.json").write_text(json.dumps(rating))
    import_paths(url, [DATA / "debian-tracker-2023-04" / "data" / "DSA", tmp_path / "tracker.json"])
    layer = LayerBuilder().file("etc/os-release", BULLSEYE_OS_RELEASE)
    layer.file("var/lib/dpkg/status", _stanza("libssl1.1", "1.1.1n-0+deb11u3", "openssl"))
    severities = {f.id: f.severity for f in _match(url, _inventory(tmp_path, layer))}
    assert severities == {"DSA-5343-1": "HIGH", "CVE-2023-0286": "HIGH"}
