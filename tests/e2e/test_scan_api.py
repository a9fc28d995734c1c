"""The scan API and CLI on a real server: layers named in findings, indexes per platform,
access rules, vulnerability DB import and status, and hostile or missing images."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.support.conveyor_server import ConveyorServer
from tests.support.scan_images import (
    BULLSEYE_OS_RELEASE,
    LAYER_ZSTD,
    VULNDB_DATA,
    LayerBuilder,
    go_binary,
    gz,
    push_image,
    zst,
)

INDEX = "application/vnd.oci.image.index.v1+json"
STATUS = (
    "Package: libssl1.1\nStatus: install ok installed\nSource: openssl\n"
    "Version: 1.1.1n-0+deb11u3\n\n"
)


@pytest.fixture(scope="module")
def server(conveyor_server: ConveyorServer) -> Iterator[ConveyorServer]:
    conveyor_server.cli("vulndb", "import", str(VULNDB_DATA))
    yield conveyor_server


@pytest.fixture(scope="module")
def http(server: ConveyorServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server.url, auth=("admin", server.admin_password), timeout=120
    ) as client:
        yield client


def _two_layers(http: httpx.Client, name: str, tag: str) -> tuple[str, list[str]]:
    debian = LayerBuilder().file("etc/os-release", BULLSEYE_OS_RELEASE)
    debian.file("var/lib/dpkg/status", STATUS)
    program = LayerBuilder().file("usr/local/bin/hello", go_binary().read_bytes(), mode=0o755)
    return push_image(http, name, tag, [zst(debian.bytes()), zst(program.bytes())], LAYER_ZSTD)


def test_vulndb_status_lists_every_source(server: ConveyorServer) -> None:
    status = json.loads(server.cli("vulndb", "status", "-o", "json"))
    names = {s["name"] for s in status["sources"]}
    assert {"osv:PYSEC", "osv:GO", "debian-tracker:DSA", "alpine-secdb:v3.20/main"} <= names
    assert status["advisories"] > 20000
    assert all(s["importedAt"] for s in status["sources"])
    assert "osv:GO" in server.cli("vulndb", "status")


def test_findings_name_the_layer_that_added_the_package(
    server: ConveyorServer, http: httpx.Client
) -> None:
    digest, layers = _two_layers(http, "api/app", "v1")
    report = json.loads(server.cli("scan", "api/app:v1", "-o", "json"))
    assert report["digest"] == digest and report["image"] == "api/app:v1"
    by_id = {f["id"]: f for f in report["findings"]}
    assert by_id["DSA-5343-1"]["layer"] == layers[0]
    assert by_id["DSA-5343-1"]["package"] == "libssl1.1"
    stdlib = [f for f in report["findings"] if f["package"] == "stdlib"]
    assert stdlib and all(f["layer"] == layers[1] for f in stdlib)
    by_digest = json.loads(server.cli("scan", f"api/app@{digest}", "-o", "json"))
    assert by_digest["findings"] == report["findings"]
    table = server.cli("scan", "api/app:v1")
    assert "DSA-5343-1" in table and "libssl1.1" in table


def test_an_index_is_scanned_per_platform(server: ConveyorServer, http: httpx.Client) -> None:
    amd64, _ = _two_layers(http, "api/multi", "amd64-only")
    arm64, _ = push_image(
        http, "api/multi", "arm64-only",
        [gz(LayerBuilder().file("etc/os-release", BULLSEYE_OS_RELEASE).bytes())],
    )  # fmt: skip
    sizes = {d: len(http.get(f"/v2/api/multi/manifests/{d}").content) for d in (amd64, arm64)}
    index = {
        "schemaVersion": 2,
        "mediaType": INDEX,
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d,
             "size": sizes[d], "platform": {"os": "linux", "architecture": arch}}
            for d, arch in ((amd64, "amd64"), (arm64, "arm64"))
        ],
    }  # fmt: skip
    reply = http.put(
        "/v2/api/multi/manifests/both",
        content=json.dumps(index).encode(),
        headers={"Content-Type": INDEX},
    )
    assert reply.status_code == 201
    report = http.get("/api/v1/repositories/api/multi/tags/both/scan").json()
    assert [(m["platform"], m["digest"]) for m in report["manifests"]] == [
        ("linux/amd64", amd64),
        ("linux/arm64", arm64),
    ]
    assert {f["platform"] for f in report["findings"]} == {"linux/amd64"}
    assert report["summary"] == report["manifests"][0]["summary"]


def test_access_needs_pull_on_the_repository(server: ConveyorServer, http: httpx.Client) -> None:
    _two_layers(http, "private/app", "v1")
    server.cli("user", "create", "outsider", "--password-stdin", input="outsider-pass-1\n")
    url = f"{server.url}/api/v1/repositories/private/app/tags/v1/scan"
    assert httpx.get(url).status_code in (401, 404)
    denied = httpx.get(url, auth=("outsider", "outsider-pass-1"))
    assert denied.status_code == 404 and denied.json()["error"]["code"] == "NOT_FOUND"
    posted = httpx.post(
        f"{server.url}/api/v1/scans",
        json={"image": "private/app:v1"},
        auth=("outsider", "outsider-pass-1"),
    )
    assert posted.status_code == 404
    upload = httpx.post(
        f"{server.url}/api/v1/vulndb/import", content=b"x", auth=("outsider", "outsider-pass-1")
    )
    assert upload.status_code == 403


def test_errors_have_the_api_shape(server: ConveyorServer, http: httpx.Client) -> None:
    missing = http.get("/api/v1/repositories/api/app/tags/nope/scan")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"
    bad = http.post("/api/v1/scans", json={"image": "Not Valid:tag"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "image"
    wrong_format = http.get("/api/v1/repositories/api/app/tags/v1/scan?format=spdx")
    assert wrong_format.status_code == 400
    garbage = http.post("/api/v1/vulndb/import", content=b"not a tar archive at all")
    assert garbage.status_code == 400 and garbage.json()["error"]["code"] == "INVALID"


def test_a_truncated_layer_fails_the_scan_clearly(
    server: ConveyorServer, http: httpx.Client
) -> None:
    layer = gz(LayerBuilder().file("var/lib/dpkg/status", STATUS * 2000).bytes())
    push_image(http, "api/broken", "v1", [layer[: len(layer) // 2]])
    reply = http.post("/api/v1/scans", json={"image": "api/broken:v1"})
    assert reply.status_code == 422
    error = reply.json()["error"]
    assert error["code"] == "SCAN_FAILED" and "truncated" in error["message"]
    failed = server.cli("scan", "api/broken:v1", check=False)
    assert "SCAN_FAILED" in failed or failed == ""


def test_a_reimport_is_idempotent_through_the_cli(server: ConveyorServer) -> None:
    before = json.loads(server.cli("vulndb", "status", "-o", "json"))
    out = json.loads(
        server.cli("vulndb", "import", str(VULNDB_DATA / "alpine-secdb-3.19-3.20"), "-o", "json")
    )
    assert {s["name"] for s in out["imported"]} == {
        "alpine-secdb:v3.19/main",
        "alpine-secdb:v3.20/main",
    }
    after = json.loads(server.cli("vulndb", "status", "-o", "json"))
    assert after["advisories"] == before["advisories"]
