"""Shared steps of the build tests: a multi-arch base image in the instance, chains that build,
records awaited, and files read back out of an image's layers through the registry."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import time
from typing import Any

import httpx

from tests.e2e.chain_helpers import admin_client
from tests.support.conveyor_server import ConveyorServer
from tests.support.images import blob_path, busybox_layout, read_layout

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
BASE = "base/busybox:1"
# RUN writes what the (possibly emulated) machine says it is, the build arg, and the platform
# argument buildah sets itself.
DOCKERFILE = """FROM {host}/base/busybox:1
ARG GREETING=none
ARG TARGETARCH
RUN uname -m > /arch && echo "$GREETING" > /greeting && echo "$TARGETARCH" > /targetarch
"""


def push_base_image(http: httpx.Client) -> str:
    """busybox for amd64 and arm64 as one index at base/busybox:1, in a public namespace."""
    http.post("/api/v1/namespaces", json={"name": "base", "public": True})
    children = []
    for arch in ("amd64", "arm64"):
        image = read_layout(busybox_layout(arch))
        for digest in image.blobs - {image.digest}:
            data = blob_path(image.layout, digest).read_bytes()
            reply = http.post(f"/v2/base/busybox/blobs/uploads/?digest={digest}", content=data)
            assert reply.status_code == 201, reply.text
        reply = http.put(
            f"/v2/base/busybox/manifests/{image.digest}",
            content=image.raw,
            headers={"Content-Type": image.media_type},
        )
        assert reply.status_code == 201, reply.text
        children.append(
            {
                "mediaType": image.media_type,
                "digest": image.digest,
                "size": len(image.raw),
                "platform": {"architecture": arch, "os": "linux"},
            }
        )
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children})
    reply = http.put(
        "/v2/base/busybox/manifests/1", content=index, headers={"Content-Type": OCI_INDEX}
    )
    assert reply.status_code == 201, reply.text
    return "sha256:" + hashlib.sha256(index.encode()).hexdigest()


def build_chain(
    name: str,
    repository: str,
    rules: list[dict[str, Any]],
    distribute: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    namespace, repo = repository.split("/", 1)
    spec: dict[str, Any] = {
        "scope": {"namespace": namespace, "repository": repo},
        "build": {"rules": rules},
    }
    if distribute:
        spec["distribute"] = distribute
    return {"apiVersion": "conveyor/v1", "kind": "Chain", "metadata": {"name": name}, "spec": spec}


def release_rule(**changes: Any) -> dict[str, Any]:
    """The rule of the acceptance test: release-(?<imageTag>\\w*) -> v1-<time>-<sha6>."""
    rule: dict[str, Any] = {
        "type": "branch",
        "ref": r"release-(?<imageTag>\w*)",
        "dockerfile": {"directory": "docker", "filename": "Build.docker"},
        "tags": [{"tag": "${imageTag}", "buildTime": "yyyyMMddHHmm", "commitId": 6}],
        "platforms": ["linux/amd64", "linux/arm64"],
        "args": {"GREETING": "hello-from-args"},
        "cache": True,
    }
    rule.update(changes)
    return rule


def wait_record(http: httpx.Client, record_id: int, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    record: dict[str, Any] = {}
    while time.monotonic() < deadline:
        record = http.get(f"/api/v1/records/{record_id}").json()
        if record["status"] in ("COMPLETE", "CANCELED"):
            return record
        time.sleep(0.2)
    raise AssertionError(f"record {record_id} did not end: {json.dumps(record)[:2000]}")


def chain_records(http: httpx.Client, chain: str) -> list[dict[str, Any]]:
    reply = http.get("/api/v1/records", params={"chain": chain, "limit": 500})
    assert reply.status_code == 200, reply.text
    result: list[dict[str, Any]] = reply.json()
    return result


def wait_new_record(
    http: httpx.Client, chain: str, known: int, timeout: float = 30
) -> dict[str, Any]:
    """The first record of `chain` beyond the `known` ones."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = chain_records(http, chain)
        if len(found) > known:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no new record of {chain} in {timeout}s")


def step_logs(http: httpx.Client, record_id: int) -> list[dict[str, Any]]:
    reply = http.get(f"/api/v1/records/{record_id}/logs")
    assert reply.status_code == 200, reply.text
    result: list[dict[str, Any]] = reply.json()
    return result


def platform_files(
    server: ConveyorServer, repository: str, tag: str, wanted: list[str]
) -> dict[str, dict[str, str]]:
    """{platform: {path: text}} of files read back from every platform's layers."""
    found: dict[str, dict[str, str]] = {}
    with admin_client(server) as http:
        accept = {"Accept": OCI_INDEX}
        index = http.get(f"/v2/{repository}/manifests/{tag}", headers=accept).json()
        for child in index["manifests"]:
            platform = f"{child['platform']['os']}/{child['platform']['architecture']}"
            manifest = http.get(
                f"/v2/{repository}/manifests/{child['digest']}",
                headers={"Accept": child["mediaType"]},
            ).json()
            files: dict[str, str] = {}
            for layer in manifest["layers"]:
                blob = http.get(f"/v2/{repository}/blobs/{layer['digest']}").content
                data = gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob
                with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                    for member in tar.getmembers():
                        name = member.name.lstrip("./")
                        if name in wanted and member.isfile():
                            extracted = tar.extractfile(member)
                            assert extracted is not None
                            files[name] = extracted.read().decode().strip()
            found[platform] = files
    return found
