"""Importers on the real data in shared/data/vulndb: counts, withdrawn entries, idempotence."""

from __future__ import annotations

import functools
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

from conveyor.db.database import Database
from conveyor.db.vulndb_models import VulnAdvisory, VulnAffected
from conveyor.scan.vulndb.files import from_paths
from conveyor.scan.vulndb.parse import advisories
from conveyor.scan.vulndb.status import vulndb_status
from tests.unit.scan.conftest import DATA, import_paths, new_database, with_db


@functools.cache
def _withdrawn() -> list[str]:
    """PyPA advisories with a `withdrawn` date, read with the C YAML loader."""
    return [
        path.stem
        for path in sorted((DATA / "pypa-osv").rglob("*.yaml"))
        if "withdrawn" in path.read_text()
        and yaml.load(path.read_text(), Loader=yaml.CSafeLoader).get("withdrawn")
    ]


def _status(url: str) -> dict[str, dict[str, Any]]:
    doc = with_db(url, vulndb_status)
    return {s["name"]: s for s in doc["sources"]}


def test_the_whole_data_folder_imports_with_sane_counts(vulndb_url: str) -> None:
    sources = _status(vulndb_url)
    withdrawn = len(_withdrawn())
    pysec_files = len(list((DATA / "pypa-osv").rglob("PYSEC-*.yaml")))
    assert withdrawn == 10 and pysec_files == 2661
    assert sources["osv:PYSEC"]["advisories"] == pysec_files - withdrawn
    go_files = len(list((DATA / "go-osv").rglob("GO-*.json")))
    assert 4000 < sources["osv:GO"]["advisories"] <= go_files
    assert sources["debian-tracker:DSA"]["advisories"] > 5000
    assert sources["debian-tracker:DLA"]["advisories"] > 3000
    assert sources["alpine-secdb:v3.19/main"]["advisories"] == 105
    assert {f"alpine-secdb:v3.{n}/main" for n in range(3, 12)} <= set(sources)


def test_withdrawn_advisories_are_not_imported(vulndb_url: str) -> None:
    withdrawn_ids = _withdrawn()

    async def present(db: Database) -> int:
        async with db.read() as session:
            query = select(func.count()).where(VulnAdvisory.vuln_id.in_(withdrawn_ids))
            return int((await session.execute(query)).scalar_one())

    assert with_db(vulndb_url, present) == 0


def test_osv_ranges_and_versions_are_kept_as_strings(vulndb_url: str) -> None:
    async def rows(db: Database) -> list[tuple[str, list[object], list[object], str]]:
        async with db.read() as session:
            query = select(
                VulnAffected.package, VulnAffected.ranges, VulnAffected.versions, VulnAffected.fixed
            ).where(VulnAffected.vuln_id == "PYSEC-2014-13")
            return [tuple(r) for r in (await session.execute(query)).all()]  # type: ignore[misc]

    [(package, ranges, versions, fixed)] = with_db(vulndb_url, rows)
    assert package == "requests" and fixed == "2.3.0"
    assert ranges == [[{"introduced": "0"}, {"fixed": "2.3.0"}]]  # the GIT range is gone
    assert "0.12.01" in versions  # not the float 0.1201


def test_a_reimport_replaces_the_source_rows(tmp_path: Path) -> None:
    url = new_database(tmp_path)
    folder = DATA / "alpine-secdb-3.19-3.20"
    first = import_paths(url, [folder])
    again = import_paths(url, [folder])
    assert first.sources == again.sources
    assert _status(url)["alpine-secdb:v3.20/main"]["advisories"] == 359

    async def count(db: Database) -> int:
        async with db.read() as session:
            return int((await session.execute(select(func.count(VulnAffected.id)))).scalar_one())

    assert with_db(url, count) == 105 + 359  # both layouts of the same data, counted once


def test_osv_from_a_zip_archive_and_json_lists(tmp_path: Path) -> None:
    archive = tmp_path / "go.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in sorted((DATA / "go-osv").rglob("GO-2023-*.json"))[:50]:
            bundle.write(path, f"osv/{path.name}")
    url = new_database(tmp_path)
    report = import_paths(url, [archive])
    assert report.files == 50 and _status(url)["osv:GO"]["advisories"] == 50
    listing = tmp_path / "list.json"
    docs = [
        json.loads(p.read_text()) for p in sorted((DATA / "go-osv").rglob("GO-2022-*.json"))[:5]
    ]
    listing.write_text(json.dumps(docs))
    assert len(list(advisories(next(from_paths([listing]))))) == 5


def test_debian_tracker_json(tmp_path: Path) -> None:
    """The tracker's JSON document (/tracker/data/json), as far as its shape is known."""
    doc = {
        "openssl": {
            "CVE-2022-0778": {
                "description": "infinite loop in BN_mod_sqrt()",
                "scope": "remote",
                "releases": {
                    "bullseye": {
                        "status": "resolved",
                        "repositories": {"bullseye": "1.1.1n-0+deb11u3"},
                        "fixed_version": "1.1.1n-0+deb11u1",
                        "urgency": "high",
                    },
                    "bookworm": {"status": "resolved", "fixed_version": "0", "urgency": "low"},
                    "sid": {"status": "undetermined", "urgency": "not yet assigned"},
                },
            },
            "CVE-2099-0001": {
                "releases": {"bullseye": {"status": "open", "urgency": "medium**"}},
            },
        }
    }
    path = tmp_path / "tracker.json"
    path.write_text(json.dumps(doc))
    found = {a.vuln_id: a for a in advisories(next(from_paths([path])))}
    assert set(found) == {"CVE-2022-0778", "CVE-2099-0001"}
    [affected] = found["CVE-2022-0778"].affected
    assert (affected.package, affected.release, affected.fixed) == (
        "openssl",
        "bullseye",
        "1.1.1n-0+deb11u1",
    )
    assert found["CVE-2022-0778"].severity == "HIGH"
    assert found["CVE-2099-0001"].severity == "MEDIUM"
    assert found["CVE-2099-0001"].affected[0].fixed == ""


def test_files_that_are_not_data_are_reported_as_skipped(tmp_path: Path) -> None:
    shutil.copy(DATA / "debian-tracker-2023-04" / "data" / "config.json", tmp_path / "c.json")
    (tmp_path / "broken.yaml").write_text("key: [unclosed\n")
    url = new_database(tmp_path)
    report = import_paths(url, [tmp_path / "c.json", tmp_path / "broken.yaml"])
    assert report.files == 2 and len(report.skipped) == 2 and report.sources == {}
