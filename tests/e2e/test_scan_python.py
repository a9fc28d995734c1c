"""Python packages `pip install --target`ed into an image layer, pushed to a real server and
scanned through the CLI: the PYSEC ids the PyPA data lists for the old releases, none for
current releases of packages with old advisories, and the same inventory as syft."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support.conveyor_server import ConveyorServer
from tests.support.scan_images import (
    VULNDB_DATA,
    LayerBuilder,
    gz,
    pip_target,
    push_image,
    syft_packages,
    write_oci_layout,
)

OLD = {"requests": "2.19.1", "urllib3": "1.24.1"}
CURRENT = {"certifi": "2024.8.30", "jinja2": "3.1.4"}  # newer than every advisory in the data
SITE = "usr/local/lib/python3.11/site-packages"


@pytest.fixture(scope="module")
def python_layer() -> bytes:
    requirements = [f"{n}=={v}" for n, v in {**OLD, **CURRENT}.items()]
    return gz(LayerBuilder().add_tree(pip_target(requirements), SITE).bytes())


@pytest.fixture(scope="module")
def server(conveyor_server: ConveyorServer, python_layer: bytes) -> Iterator[ConveyorServer]:
    conveyor_server.cli("vulndb", "import", str(VULNDB_DATA / "pypa-osv"))
    with httpx.Client(
        base_url=conveyor_server.url, auth=("admin", conveyor_server.admin_password)
    ) as http:
        push_image(http, "py/app", "old", [python_layer])
    yield conveyor_server


def _listed_ids(package: str, version: str) -> set[str]:
    """The oracle: advisories whose explicit `versions` list has this release."""
    found = set()
    for path in (VULNDB_DATA / "pypa-osv" / "vulns" / package).glob("*.yaml"):
        doc = yaml.load(path.read_text(), Loader=yaml.CSafeLoader)
        if doc.get("withdrawn"):
            continue
        for affected in doc["affected"]:
            if version in [str(v) for v in affected.get("versions", [])]:
                found.add(doc["id"])
    return found


def test_old_releases_have_the_listed_pysec_ids_and_current_ones_none(
    server: ConveyorServer,
) -> None:
    report = json.loads(server.cli("scan", "py/app:old", "-o", "json"))
    assert set(report) >= {"image", "digest", "summary", "findings", "packages"}
    by_package: dict[str, set[str]] = {}
    for finding in report["findings"]:
        by_package.setdefault(finding["package"], set()).add(finding["id"])
        assert set(finding) >= {
            "id", "aliases", "package", "version", "fixedVersion", "severity", "layer",
        }  # fmt: skip
    for package, version in OLD.items():
        expected = _listed_ids(package, version)
        assert expected, f"the data lists advisories for {package} {version}"
        assert by_package[package] == expected
    assert not set(by_package) & set(CURRENT)  # the false-positive trap
    requests = next(f for f in report["findings"] if f["id"] == "PYSEC-2018-28")
    assert requests["fixedVersion"] == "2.20.0" and "CVE-2018-18074" in requests["aliases"]
    assert sum(report["summary"].values()) == len(report["findings"])
    packages = {(p["name"].lower(), p["version"], p["type"]) for p in report["packages"]}
    assert packages == {(n, v, "pypi") for n, v in {**OLD, **CURRENT}.items()}


def test_inventory_agrees_with_syft(
    server: ConveyorServer, python_layer: bytes, tmp_path: Path
) -> None:
    layout = write_oci_layout(tmp_path / "oci", [python_layer])
    theirs = {(p["name"].lower(), p["version"]) for p in syft_packages(f"oci-dir:{layout}")
              if p["type"] == "python"}  # fmt: skip
    report = json.loads(server.cli("scan", "py/app:old", "-o", "json"))
    ours = {(p["name"].lower(), p["version"]) for p in report["packages"] if p["type"] == "pypi"}
    assert ours == theirs and len(ours) == 4


def test_the_report_and_the_sbom_over_the_api(server: ConveyorServer) -> None:
    auth = ("admin", server.admin_password)
    report = httpx.get(f"{server.url}/api/v1/repositories/py/app/tags/old/scan", auth=auth)
    assert report.status_code == 200
    assert report.json()["image"] == "py/app:old"
    sbom = httpx.get(
        f"{server.url}/api/v1/repositories/py/app/tags/old/scan",
        params={"format": "cyclonedx"},
        auth=auth,
    ).json()
    assert sbom["bomFormat"] == "CycloneDX" and sbom["specVersion"] == "1.5"
    assert "pkg:pypi/requests@2.19.1" in {c.get("purl") for c in sbom["components"]}
    cli_sbom = json.loads(server.cli("scan", "py/app:old", "-o", "cyclonedx"))
    assert {c["purl"] for c in cli_sbom["components"]} == {c["purl"] for c in sbom["components"]}
