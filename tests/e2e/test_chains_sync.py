"""The SYNC node in a chain: a multi-arch image reaches CNCF distribution (htpasswd) and a second
Conveyor (token auth) by digest, the webhook fires only after, and rules run by hand backfill."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.chain_helpers import admin_client, push_image, wait_records
from tests.support.conveyor_server import ConveyorServer
from tests.support.distribution import DistributionRegistry
from tests.support.receiver import Receiver
from tests.support.sync_content import multiarch_layout, registry_raw, skopeo_copy_all


def sync_chain(
    name: str, repository: str, hook: str, rules: list[dict[str, Any]]
) -> dict[str, Any]:
    namespace, repo = repository.split("/", 1)
    return {
        "apiVersion": "conveyor/v1",
        "kind": "Chain",
        "metadata": {"name": name},
        "spec": {
            "scope": {"namespace": namespace, "repository": repo},
            "sync": rules,
            "distribute": [{"name": "redeploy", "url": hook}],
        },
    }


def add_endpoint(server: ConveyorServer, name: str, url: str, user: str, password: str) -> None:
    server.cli(
        "endpoint",
        "add",
        name,
        "--url",
        url,
        "--username",
        user,
        "--password-stdin",
        input=password + "\n",
    )


def test_multiarch_image_reaches_both_destinations_before_the_webhook(
    conveyor_factory: Callable[..., ConveyorServer],
    distribution_registry_htpasswd: DistributionRegistry,
    receiver: Receiver,
) -> None:
    source, peer = conveyor_factory(), conveyor_factory()
    cncf = distribution_registry_htpasswd
    assert cncf.user and cncf.password
    add_endpoint(source, "cncf", cncf.url, cncf.user, cncf.password)
    add_endpoint(source, "peer", peer.url, "admin", peer.admin_password)
    rules = [
        {
            "name": "to-cncf",
            "destination": {"endpoint": "cncf", "namespace": "mirror", "repository": "web"},
        },
        {
            "name": "to-peer",
            "destination": {"endpoint": "peer", "namespace": "shop"},
            "tagFilter": "v.*",
        },
    ]
    arrivals: list[dict[str, bytes]] = []

    with admin_client(source) as http:
        http.post("/api/v1/namespaces", json={"name": "shop"})
        reply = http.post(
            "/api/v1/chains", json=sync_chain("multi", "shop/web", receiver.url, rules)
        )
        assert reply.status_code == 200, reply.text
        layout = multiarch_layout()
        skopeo_copy_all(layout, source.host, "shop/web", "v1", ("admin", source.admin_password))
        arrived = receiver.wait_for(1, timeout=60)[0]
        # What the destinations hold the moment the webhook arrives: everything, already.
        arrivals.append(
            {
                "cncf": registry_raw(cncf.host, "mirror/web", "v1", cncf.auth),
                "peer": registry_raw(peer.host, "shop/web", "v1", ("admin", peer.admin_password)),
            }
        )
        record = wait_records(http, "multi", 1, timeout=30)[0]

    assert record["result"] == "SUCCESS"
    original = registry_raw(source.host, "shop/web", "v1", ("admin", source.admin_password))
    assert arrivals[0]["cncf"] == original and arrivals[0]["peer"] == original
    index = json.loads(original)
    assert len(index["manifests"]) == 2
    for child in index["manifests"]:
        assert registry_raw(cncf.host, "mirror/web", child["digest"], cncf.auth)
    sync = next(s for s in record["steps"] if s["node"] == "SYNC")
    distribute = next(s for s in record["steps"] if s["node"] == "DISTRIBUTE")
    assert sync["endedAt"] <= distribute["startedAt"]
    tasks = {t["rule"]: t for t in sync["result"]["tasks"]}
    assert tasks["to-cncf"]["destination"].endswith("mirror/web:v1")
    assert tasks["to-peer"]["blobsCopied"] >= 2 and tasks["to-peer"]["errorCode"] is None
    assert arrived.json()["push_data"]["digest"] == index_digest(original)


def index_digest(raw: bytes) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256(raw).hexdigest()


def test_tag_filter_and_a_failing_destination(
    conveyor_factory: Callable[..., ConveyorServer], receiver: Receiver
) -> None:
    source, peer = conveyor_factory(), conveyor_factory()
    add_endpoint(source, "peer", peer.url, "admin", peer.admin_password)
    add_endpoint(source, "wrong", peer.url, "admin", "not-the-password")
    rules = [
        {
            "name": "releases",
            "destination": {"endpoint": "peer", "namespace": "eu"},
            "tagFilter": "v.*",
        },
    ]
    with admin_client(source) as http:
        http.post("/api/v1/namespaces", json={"name": "tf"})
        assert (
            http.post(
                "/api/v1/chains", json=sync_chain("filtered", "tf/app", receiver.url, rules)
            ).status_code
            == 200
        )
        push_image(http, "tf/app", "nightly")
        record = wait_records(http, "filtered", 1, timeout=30)[0]
        assert record["result"] == "SUCCESS"
        assert next(s for s in record["steps"] if s["node"] == "SYNC")["result"]["tasks"] == []
        bad = [{"name": "broken", "destination": {"endpoint": "wrong", "namespace": "eu"}}]
        assert (
            http.post(
                "/api/v1/chains", json=sync_chain("filtered", "tf/app", receiver.url, bad)
            ).status_code
            == 200
        )
        push_image(http, "tf/app", "v2", salt="2")
        failed = next(
            r for r in wait_records(http, "filtered", 2, timeout=30) if r["trigger"]["tag"] == "v2"
        )
    assert failed["result"] == "FAILED"
    task = next(s for s in failed["steps"] if s["node"] == "SYNC")["result"]["tasks"][0]
    assert task["errorCode"] == "AUTH_ERROR"
    assert next(s for s in failed["steps"] if s["node"] == "DISTRIBUTE")["status"] == "SKIPPED"
    with httpx.Client(base_url=peer.url, auth=("admin", peer.admin_password)) as other:
        assert other.get("/v2/eu/app/tags/list").status_code == 404


def test_sync_run_by_hand_backfills_the_selected_tags_once(
    conveyor_factory: Callable[..., ConveyorServer], tmp_path: Path
) -> None:
    source, peer = conveyor_factory(), conveyor_factory()
    add_endpoint(source, "peer", peer.url, "admin", peer.admin_password)
    rules = [
        {
            "name": "copy-all",
            "scope": "namespace",
            "repoFilter": "app[0-9]",
            "tagFilter": "v.*",
            "destination": {"endpoint": "peer", "namespace": "dr"},
            "trigger": "initiative",
        }
    ]
    document = {
        "apiVersion": "conveyor/v1",
        "kind": "Chain",
        "metadata": {"name": "dr"},
        "spec": {"scope": {"namespace": "bf"}, "sync": rules},
    }
    with admin_client(source) as http:
        http.post("/api/v1/namespaces", json={"name": "bf"})
        assert http.post("/api/v1/chains", json=document).status_code == 200
        for repo in ("app1", "app2", "other"):
            for tag in ("v1", "v2", "dev"):
                push_image(http, f"bf/{repo}", tag, salt=f"{repo}-{tag}")
        passive = wait_records(http, "dr", 9, timeout=60)
        assert all(not s["result"]["tasks"] for r in passive for s in r["steps"]), (
            "initiative: by hand only"
        )

    first = source.cli("sync", "run", "dr", "copy-all")
    assert "4 tag(s) selected, 4 copied" in first, first
    with httpx.Client(base_url=peer.url, auth=("admin", peer.admin_password)) as other:
        for repo in ("app1", "app2"):
            assert other.get(f"/v2/dr/{repo}/tags/list").json()["tags"] == ["v1", "v2"]
        assert other.get("/v2/dr/other/tags/list").status_code == 404
    second = source.cli("sync", "run", "dr", "copy-all", "-o", "json")
    tasks = json.loads(second)["steps"][0]["result"]["tasks"]
    assert len(tasks) == 4 and all(t["bytesCopied"] == 0 and not t["tagWritten"] for t in tasks)
