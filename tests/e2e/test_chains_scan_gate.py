"""The scan node and its security gate inside a chain, on a real server with the real data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.chain_helpers import apply_chain, wait_records
from tests.support.conveyor_server import ConveyorServer
from tests.support.receiver import Receiver
from tests.support.scan_images import BULLSEYE_OS_RELEASE, VULNDB_DATA, LayerBuilder, gz, push_image

OLD_OPENSSL = "1.1.1n-0+deb11u3"  # DSA-5343-1 (CVE-2023-0286) is fixed in deb11u4
FIXED_OPENSSL = "1.1.1n-0+deb11u4"


def debian_layer(openssl: str) -> bytes:
    status = (
        f"Package: libssl1.1\nStatus: install ok installed\nSource: openssl\nVersion: {openssl}\n\n"
    )
    layer = LayerBuilder().file("etc/os-release", BULLSEYE_OS_RELEASE)
    return gz(layer.file("var/lib/dpkg/status", status).bytes())


def gated_chain(name: str, repository: str, mode: str, hook: str) -> dict[str, Any]:
    namespace, repo = repository.split("/", 1)
    return {
        "apiVersion": "conveyor/v1",
        "kind": "Chain",
        "metadata": {"name": name},
        "spec": {
            "scope": {"namespace": namespace, "repository": repo},
            "scan": {
                "policy": {
                    "mode": mode,
                    "deny": {"vulnerabilities": ["CVE-2023-0286"]},
                    "deleteOriginal": True,
                    "backup": {"namespace": f"{namespace}-quarantine"},
                }
            },
            "distribute": [{"name": "redeploy", "url": hook}],
        },
    }


@pytest.fixture(scope="module")
def http(conveyor_server: ConveyorServer) -> Iterator[httpx.Client]:
    conveyor_server.cli("vulndb", "import", str(VULNDB_DATA))
    with httpx.Client(
        base_url=conveyor_server.url, auth=("admin", conveyor_server.admin_password), timeout=120
    ) as client:
        yield client


def steps(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["node"]: step for step in record["steps"]}


def test_blocking_gate_denies_backs_up_and_deletes_the_tag(
    http: httpx.Client, receiver: Receiver
) -> None:
    apply_chain(http, gated_chain("gate", "gate/app", "blocking", receiver.url))
    digest, _ = push_image(http, "gate/app", "v1", [debian_layer(OLD_OPENSSL)])
    record = wait_records(http, "gate", 1, timeout=60)[0]
    assert record["result"] == "DENIED"
    assert "CVE-2023-0286" in (record["reason"] or "")
    scan, distribute = steps(record)["SCAN"], steps(record)["DISTRIBUTE"]
    assert scan["status"] == "DENIED" and distribute["status"] == "SKIPPED"
    assert scan["result"]["findings"] >= 1
    assert receiver.received == []
    backup = http.head("/v2/gate-quarantine/app/manifests/v1")
    assert backup.status_code == 200 and backup.headers["docker-content-digest"] == digest
    assert http.head("/v2/gate/app/manifests/v1").status_code == 404


def test_a_clean_image_passes_the_gate_and_is_delivered(
    http: httpx.Client, receiver: Receiver
) -> None:
    apply_chain(http, gated_chain("gate-clean", "clean/app", "blocking", receiver.url))
    push_image(http, "clean/app", "v2", [debian_layer(FIXED_OPENSSL)])
    record = wait_records(http, "gate-clean", 1, timeout=60)[0]
    assert record["result"] == "SUCCESS"
    assert steps(record)["SCAN"]["status"] == "SUCCESS"
    assert receiver.wait_for(1, timeout=10)[0].json()["push_data"]["tag"] == "v2"
    assert http.head("/v2/clean/app/manifests/v2").status_code == 200
    image = http.head("/v2/clean/app/manifests/v2").headers["docker-content-digest"]
    referrers = http.get(
        f"/v2/clean/app/referrers/{image}",
        params={"artifactType": "application/vnd.cyclonedx+json"},
    ).json()["manifests"]
    assert [r["digest"] for r in referrers] == [steps(record)["SCAN"]["result"]["sbom"]]
    sbom_manifest = http.get(f"/v2/clean/app/manifests/{referrers[0]['digest']}").json()
    sbom = http.get(f"/v2/clean/app/blobs/{sbom_manifest['layers'][0]['digest']}").json()
    assert sbom["bomFormat"] == "CycloneDX"
    assert any(c["name"] == "libssl1.1" for c in sbom["components"])


def test_non_blocking_records_the_findings_and_goes_on(
    http: httpx.Client, receiver: Receiver
) -> None:
    apply_chain(http, gated_chain("gate-soft", "soft/app", "non-blocking", receiver.url))
    push_image(http, "soft/app", "v3", [debian_layer(OLD_OPENSSL)])
    record = wait_records(http, "gate-soft", 1, timeout=60)[0]
    assert record["result"] == "SUCCESS"
    scan = steps(record)["SCAN"]["result"]
    assert scan["policyMet"] is True and scan["findings"] >= 1
    assert any("CVE-2023-0286" in reason for reason in scan["reasons"])
    assert receiver.wait_for(1, timeout=10)
    assert http.head("/v2/soft/app/manifests/v3").status_code == 200
    assert http.head("/v2/soft-quarantine/app/manifests/v3").status_code == 404
