"""Shared steps of the chain tests: apply a chain, push a small image, wait for records."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import httpx

from tests.support.conveyor_server import ConveyorServer

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def admin_client(server: ConveyorServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, auth=("admin", server.admin_password), timeout=60)


def chain_document(name: str, repository: str, distribute: list[dict[str, Any]]) -> dict[str, Any]:
    namespace, repo = repository.split("/", 1)
    return {
        "apiVersion": "conveyor/v1",
        "kind": "Chain",
        "metadata": {"name": name},
        "spec": {"scope": {"namespace": namespace, "repository": repo}, "distribute": distribute},
    }


def apply_chain(http: httpx.Client, document: dict[str, Any]) -> dict[str, Any]:
    namespace = document["spec"]["scope"]["namespace"]
    http.post("/api/v1/namespaces", json={"name": namespace})
    reply = http.post("/api/v1/chains", json=document)
    assert reply.status_code == 200, reply.text
    result: dict[str, Any] = reply.json()
    return result


def push_image(http: httpx.Client, repository: str, tag: str, salt: str = "") -> str:
    """A config-only image; returns the manifest digest."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "salt": salt}).encode()
    digest = "sha256:" + hashlib.sha256(config).hexdigest()
    reply = http.post(f"/v2/{repository}/blobs/uploads/?digest={digest}", content=config)
    assert reply.status_code == 201, reply.text
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": digest,
                "size": len(config),
            },
            "layers": [],
        }
    ).encode()
    reply = http.put(
        f"/v2/{repository}/manifests/{tag}",
        content=manifest,
        headers={"Content-Type": OCI_MANIFEST},
    )
    assert reply.status_code == 201, reply.text
    return str(reply.headers["docker-content-digest"])


def records(http: httpx.Client, chain: str) -> list[dict[str, Any]]:
    reply = http.get("/api/v1/records", params={"chain": chain, "limit": 500})
    assert reply.status_code == 200, reply.text
    result: list[dict[str, Any]] = reply.json()
    return result


def wait_records(
    http: httpx.Client, chain: str, count: int, timeout: float, status: str = "COMPLETE"
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        found = records(http, chain)
        if len([r for r in found if r["status"] == status]) >= count:
            return found
        time.sleep(0.2)
    summary = [(r["id"], r["status"], [s["status"] for s in r["steps"]]) for r in found]
    raise AssertionError(f"expected {count} {status} records of {chain}, have {summary}")
