"""`conveyor gc`: what no manifest references goes, what is referenced or young stays."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import httpx

from tests.support.conveyor_server import ConveyorServer

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def push_blob(http: httpx.Client, name: str, data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    assert http.post(f"/v2/{name}/blobs/uploads/?digest={digest}", content=data).status_code == 201
    return digest


def push_image(http: httpx.Client, name: str, tag: str) -> tuple[str, str]:
    config = json.dumps({"architecture": "amd64", "os": "linux", "tag": tag}).encode()
    layer = f"layer of {tag}".encode() * 100
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": push_blob(http, name, config),
            "size": len(config),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": push_blob(http, name, layer),
                "size": len(layer),
            }
        ],
    }
    reply = http.put(
        f"/v2/{name}/manifests/{tag}",
        content=json.dumps(manifest).encode(),
        headers={"Content-Type": OCI_MANIFEST},
    )
    assert reply.status_code == 201
    return reply.headers["docker-content-digest"], manifest["layers"][0]["digest"]


def gc(server: ConveyorServer, *flags: str) -> dict[str, object]:
    report: dict[str, object] = json.loads(server.cli("gc", "-o", "json", *flags))
    return report


def test_gc_removes_only_unreferenced_blobs(
    conveyor_factory: Callable[..., ConveyorServer],
) -> None:
    server = conveyor_factory(CONVEYOR_REGISTRY__GC_GRACE_SECONDS="0")
    with httpx.Client(base_url=server.url, auth=("admin", server.admin_password)) as http:
        kept_manifest, kept_layer = push_image(http, "gc/app", "keep")
        orphan = push_blob(http, "gc/app", b"nobody references me" * 50)
        _, dropped_layer = push_image(http, "gc/app", "drop")
        assert http.delete(f"/v2/gc/app/manifests/{_}").status_code == 202

        dry = gc(server, "--dry-run")
        assert dry["dryRun"] is True and dry["blobsDeleted"] == 4  # orphan + drop's 2 + manifest
        assert http.head(f"/v2/gc/app/blobs/{orphan}").status_code == 200

        report = gc(server)
        assert report["blobsDeleted"] == 4 and report["bytesFreed"] > 0
        assert http.head(f"/v2/gc/app/blobs/{orphan}").status_code == 404
        assert http.head(f"/v2/gc/app/blobs/{dropped_layer}").status_code == 404
        assert http.get(f"/v2/gc/app/blobs/{kept_layer}").status_code == 200
        assert http.get("/v2/gc/app/manifests/keep").headers["docker-content-digest"] == (
            kept_manifest
        )
        assert gc(server)["blobsDeleted"] == 0


def test_gc_leaves_young_blobs_alone_so_pushes_in_flight_survive(
    conveyor_server: ConveyorServer,
) -> None:
    """The default grace period protects a blob pushed just before its manifest."""
    with httpx.Client(
        base_url=conveyor_server.url, auth=("admin", conveyor_server.admin_password)
    ) as http:
        pending = push_blob(http, "gc/young", b"a layer whose manifest is still coming")
        assert gc(conveyor_server)["blobsDeleted"] == 0
        assert http.head(f"/v2/gc/young/blobs/{pending}").status_code == 200


def test_gc_needs_an_administrator(conveyor_server: ConveyorServer) -> None:
    conveyor_server.cli("user", "create", "gcuser", "--password-stdin", input="gcuser-pass-1\n")
    reply = httpx.post(
        f"{conveyor_server.url}/api/v1/gc", json={}, auth=("gcuser", "gcuser-pass-1")
    )
    assert reply.status_code == 403
    assert reply.json()["error"]["code"] == "DENIED"
