"""A real `debootstrap --variant=minbase bullseye` root as an image layer: the engine runs on
it through a real server, takes the same dpkg inventory as syft, and matches by source."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.conveyor_server import ConveyorServer
from tests.support.scan_images import (
    VULNDB_DATA,
    debootstrap_bullseye,
    push_image,
    syft_packages,
    write_oci_layout,
)


@pytest.fixture(scope="module")
def server(conveyor_server: ConveyorServer) -> Iterator[ConveyorServer]:
    conveyor_server.cli("vulndb", "import", str(VULNDB_DATA / "debian-tracker-2023-04"))
    with httpx.Client(
        base_url=conveyor_server.url, auth=("admin", conveyor_server.admin_password)
    ) as http:
        push_image(http, "deb/base", "bullseye", [debootstrap_bullseye()])
    yield conveyor_server


def _scan(server: ConveyorServer) -> dict[str, object]:
    reply = httpx.post(
        f"{server.url}/api/v1/scans",
        json={"image": "deb/base:bullseye", "refresh": True},
        auth=("admin", server.admin_password),
        timeout=300,
    )
    assert reply.status_code == 200, reply.text
    document: dict[str, object] = reply.json()
    return document


def test_the_engine_reads_a_real_debian_root(server: ConveyorServer) -> None:
    report = _scan(server)
    packages = report["packages"]
    assert isinstance(packages, list)
    debs = {p["name"]: p["version"] for p in packages if p["type"] == "deb"}
    assert len(debs) > 80
    assert {"base-files", "libc6", "dpkg", "apt", "libssl1.1"} <= set(debs)
    assert debs["base-files"].startswith("11.1")
    status = server.cli("scan", "deb/base:bullseye")
    assert "packages" in status and "CRITICAL" in status


def test_dpkg_inventory_agrees_with_syft(server: ConveyorServer, tmp_path: Path) -> None:
    layout = write_oci_layout(tmp_path / "oci", [debootstrap_bullseye()])
    started = time.monotonic()
    theirs = {(p["name"], p["version"]) for p in syft_packages(f"oci-dir:{layout}")
              if p["type"] == "deb"}  # fmt: skip
    syft_seconds = time.monotonic() - started
    started = time.monotonic()
    report = _scan(server)
    ours_seconds = time.monotonic() - started
    packages = report["packages"]
    assert isinstance(packages, list)
    ours = {(p["name"], p["version"]) for p in packages if p["type"] == "deb"}
    assert ours == theirs
    print(f"inventory of debian bullseye: conveyor {ours_seconds:.2f}s, syft {syft_seconds:.2f}s")
