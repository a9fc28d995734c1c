"""Crash safety: SIGKILL the server in the middle of work, start it again, check what is visible."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.support.conveyor_server import ConveyorServer

CHUNK = 64 * 1024 * 1024
TOTAL = 16 * CHUNK  # 1 GiB
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def chunk_bytes(index: int) -> bytes:
    """Deterministic 64 MiB chunks, so the whole blob never needs to be held at once."""
    seed = hashlib.sha256(str(index).encode()).digest()
    return seed * (CHUNK // len(seed))


def whole_digest() -> str:
    hasher = hashlib.sha256()
    for index in range(TOTAL // CHUNK):
        hasher.update(chunk_bytes(index))
    return "sha256:" + hasher.hexdigest()


def client(server: ConveyorServer) -> httpx.Client:
    return httpx.Client(
        base_url=server.url, auth=(server.admin_user, server.admin_password), timeout=120
    )


def absolute(server: ConveyorServer, location: str) -> str:
    return location if location.startswith("http") else server.url + location


def restart(server: ConveyorServer) -> None:
    server.kill()
    server.start()


@pytest.fixture
def server(conveyor_factory: Callable[..., ConveyorServer]) -> Iterator[ConveyorServer]:
    yield conveyor_factory(CONVEYOR_REGISTRY__GC_GRACE_SECONDS="0")


def test_kill_during_chunked_1gib_upload_then_resume(server: ConveyorServer) -> None:
    digest = whole_digest()
    with client(server) as http:
        location = absolute(server, http.post("/v2/crash/big/blobs/uploads/").headers["location"])

    sent = threading.Event()

    def upload() -> None:
        nonlocal location
        with client(server) as http:
            for index in range(TOTAL // CHUNK):
                start = index * CHUNK
                if index == 5:
                    sent.set()
                try:
                    reply = http.patch(
                        location,
                        content=chunk_bytes(index),
                        headers={"Content-Range": f"{start}-{start + CHUNK - 1}"},
                    )
                except httpx.HTTPError:
                    return
                location = absolute(server, reply.headers["location"])

    writer = threading.Thread(target=upload)
    writer.start()
    assert sent.wait(120)
    time.sleep(0.3)  # inside the sixth chunk
    server.kill()
    writer.join(60)
    server.start()

    with client(server) as http:
        assert http.head(f"/v2/crash/big/blobs/{digest}").status_code == 404
        status = http.get(location)
        assert status.status_code == 204
        accepted = int(status.headers["range"].split("-")[1]) + 1
        assert accepted % CHUNK == 0, "a half-written chunk must not count"
        assert 0 < accepted < TOTAL
        location = absolute(server, status.headers["location"])
        for index in range(accepted // CHUNK, TOTAL // CHUNK):
            start = index * CHUNK
            reply = http.patch(
                location,
                content=chunk_bytes(index),
                headers={"Content-Range": f"{start}-{start + CHUNK - 1}"},
            )
            assert reply.status_code == 202, reply.text
            location = absolute(server, reply.headers["location"])
        sep = "&" if "?" in location else "?"
        assert http.put(f"{location}{sep}digest={digest}").status_code == 201
        hasher = hashlib.sha256()
        with http.stream("GET", f"/v2/crash/big/blobs/{digest}") as reply:
            assert reply.status_code == 200
            for part in reply.iter_bytes(1 << 20):
                hasher.update(part)
        assert "sha256:" + hasher.hexdigest() == digest


def test_abandoned_upload_after_kill_is_refused_and_reclaimed(
    conveyor_factory: Callable[..., ConveyorServer],
) -> None:
    server = conveyor_factory(
        CONVEYOR_REGISTRY__GC_GRACE_SECONDS="0", CONVEYOR_REGISTRY__UPLOAD_EXPIRY_SECONDS="3"
    )
    with client(server) as http:
        location = absolute(server, http.post("/v2/crash/gone/blobs/uploads/").headers["location"])
        http.patch(location, content=b"a" * 4096, headers={"Content-Range": "0-4095"})
    restart(server)
    time.sleep(4)  # past the configured upload expiry
    with client(server) as http:
        assert http.get(location).status_code == 404
        report = http.post("/api/v1/gc", json={"dryRun": False}).json()
        assert report["uploadsDeleted"] >= 1
    leftovers = list((server.data_dir / "blobs" / "uploads").glob("*"))
    assert leftovers == []


def push_blob(http: httpx.Client, name: str, data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    reply = http.post(f"/v2/{name}/blobs/uploads/?digest={digest}", content=data)
    assert reply.status_code == 201, reply.text
    return digest


def manifest_bytes(config: str, config_size: int, layer: str, layer_size: int, n: int) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config,
                "size": config_size,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": layer,
                    "size": layer_size,
                }
            ],
            "annotations": {"n": str(n), "pad": "x" * 2000},
        }
    ).encode()


def test_kill_during_manifest_pushes_leaves_nothing_partial(server: ConveyorServer) -> None:
    config_data = b'{"architecture":"amd64","os":"linux"}'
    layer_data = b"layer" * 1000
    with client(server) as http:
        config = push_blob(http, "crash/m", config_data)
        layer = push_blob(http, "crash/m", layer_data)
    attempted: dict[str, bytes] = {}
    stop = threading.Event()

    def pusher() -> None:
        with client(server) as http:
            for n in range(100_000):
                if stop.is_set():
                    return
                body = manifest_bytes(config, len(config_data), layer, len(layer_data), n)
                attempted["sha256:" + hashlib.sha256(body).hexdigest()] = body
                try:
                    http.put(
                        f"/v2/crash/m/manifests/t{n % 7}",
                        content=body,
                        headers={"Content-Type": OCI_MANIFEST},
                    )
                except httpx.HTTPError:
                    return

    threads = [threading.Thread(target=pusher) for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(2.5)
    server.kill()
    stop.set()
    for thread in threads:
        thread.join(30)
    check_sqlite_integrity(server)
    server.start()

    with client(server) as http:
        visible = 0
        for digest, body in attempted.items():
            reply = http.get(f"/v2/crash/m/manifests/{digest}")
            assert reply.status_code in (200, 404)
            if reply.status_code == 200:
                assert reply.content == body
                visible += 1
        assert visible > 0
        for tag in http.get("/v2/crash/m/tags/list").json()["tags"]:
            reply = http.get(f"/v2/crash/m/manifests/{tag}")
            assert reply.status_code == 200
            digest = reply.headers["docker-content-digest"]
            assert "sha256:" + hashlib.sha256(reply.content).hexdigest() == digest


def check_sqlite_integrity(server: ConveyorServer) -> None:
    connection = sqlite3.connect(server.data_dir / "conveyor.db")
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        connection.close()
