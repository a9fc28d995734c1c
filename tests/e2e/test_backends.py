"""The registry on PostgreSQL + S3 (SeaweedFS), and two replicas sharing them."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable

import httpx
import pytest

from tests.support.conveyor_server import ConveyorServer
from tests.support.seaweedfs import SeaweedFS

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@pytest.fixture
def shared_backend_env(postgresql_url: str, seaweedfs: SeaweedFS) -> dict[str, str]:
    return {
        "CONVEYOR_DATABASE__URL": postgresql_url,
        "CONVEYOR_STORAGE__URL": seaweedfs.bucket_url("registry"),
        **seaweedfs.env,
    }


def http_for(server: ConveyorServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, auth=("admin", server.admin_password), timeout=60)


def location(server: ConveyorServer, reply: httpx.Response) -> str:
    value = reply.headers["location"]
    return value if value.startswith("http") else server.url + value


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_registry_round_trip_on_postgresql_and_s3(
    conveyor_factory: Callable[..., ConveyorServer], shared_backend_env: dict[str, str]
) -> None:
    server = conveyor_factory(**shared_backend_env)
    layer = os.urandom(3 * 1024 * 1024 + 17)
    config = b'{"architecture":"arm64","os":"linux"}'
    with http_for(server) as http:
        start = http.post("/v2/pg/app/blobs/uploads/")
        first = http.patch(
            location(server, start),
            content=layer[: 2 * 1024 * 1024],
            headers={"Content-Range": f"0-{2 * 1024 * 1024 - 1}"},
        )
        assert first.status_code == 202
        second = http.patch(
            location(server, first),
            content=layer[2 * 1024 * 1024 :],
            headers={"Content-Range": f"{2 * 1024 * 1024}-{len(layer) - 1}"},
        )
        done = http.put(location(server, second) + f"?digest={sha(layer)}")
        assert done.status_code == 201, done.text
        assert (
            http.post(f"/v2/pg/app/blobs/uploads/?digest={sha(config)}", content=config).status_code
            == 201
        )
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": sha(config),
                    "size": len(config),
                },
                "layers": [
                    {
                        "mediaType": "application/vnd.oci.image.layer.v1.tar",
                        "digest": sha(layer),
                        "size": len(layer),
                    }
                ],
            }
        ).encode()
        put = http.put(
            "/v2/pg/app/manifests/v1", content=manifest, headers={"Content-Type": OCI_MANIFEST}
        )
        assert put.status_code == 201
        assert http.get("/v2/pg/app/manifests/v1").content == manifest
        assert http.get(f"/v2/pg/app/blobs/{sha(layer)}").content == layer
        ranged = http.get(f"/v2/pg/app/blobs/{sha(layer)}", headers={"Range": "bytes=100-199"})
        assert ranged.status_code == 206 and ranged.content == layer[100:200]
        mount = http.post(f"/v2/pg/copy/blobs/uploads/?mount={sha(layer)}&from=pg/app")
        assert mount.status_code == 201
        assert http.get("/v2/pg/app/tags/list").json() == {"name": "pg/app", "tags": ["v1"]}

    server.kill()
    server.start()
    with http_for(server) as http:
        assert http.get("/v2/pg/app/manifests/v1").content == manifest
        assert http.get(f"/v2/pg/copy/blobs/{sha(layer)}").content == layer


def test_two_replicas_share_uploads_tokens_and_content(
    conveyor_factory: Callable[..., ConveyorServer], shared_backend_env: dict[str, str]
) -> None:
    one = conveyor_factory(**shared_backend_env)
    two = conveyor_factory(**shared_backend_env)
    data = os.urandom(1024 * 1024)
    with http_for(one) as first, http_for(two) as second:
        started = first.post("/v2/shared/app/blobs/uploads/")
        half = first.patch(
            location(one, started), content=data[:500_000], headers={"Content-Range": "0-499999"}
        )
        assert half.status_code == 202
        # The rest goes to the other replica, which never saw the first chunk.
        path = half.headers["location"]
        rest = second.patch(
            two.url + path,
            content=data[500_000:],
            headers={"Content-Range": f"500000-{len(data) - 1}"},
        )
        assert rest.status_code == 202, rest.text
        assert (
            second.put(two.url + rest.headers["location"] + f"?digest={sha(data)}").status_code
            == 201
        )
        assert first.get(f"/v2/shared/app/blobs/{sha(data)}").content == data

        token = httpx.get(
            f"{one.url}/auth/token",
            params={"service": "conveyor", "scope": "repository:shared/app:pull"},
            auth=("admin", one.admin_password),
        ).json()["token"]
        via_other = httpx.head(
            f"{two.url}/v2/shared/app/blobs/{sha(data)}",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert via_other.status_code == 200
