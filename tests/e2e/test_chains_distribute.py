"""Delivery chains with a distribute node, end to end against a real server and receiver."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conveyor.distribute.signing import verify
from tests.e2e.chain_helpers import (
    admin_client,
    apply_chain,
    chain_document,
    push_image,
    records,
    wait_records,
)
from tests.support.conveyor_server import ConveyorServer
from tests.support.images import busybox_layout, oci_ref, storage_env
from tests.support.receiver import Receiver

ACR_FIELDS = {
    "push_data": {"digest", "pushed_at", "tag"},
    "repository": {
        "date_created",
        "name",
        "namespace",
        "region",
        "repo_authentication_type",
        "repo_full_name",
        "repo_origin_type",
        "repo_type",
    },
}


def test_skopeo_push_delivers_the_acr_body_and_untriggered_tags_are_recorded(
    conveyor_factory: Callable[..., ConveyorServer], receiver: Receiver, tmp_path: Path
) -> None:
    server = conveyor_factory(CONVEYOR_SERVER__REGION="cn-hangzhou")
    hook = {
        "name": "redeploy",
        "url": receiver.url + "?token=abc",
        "trigger": {"type": "regexp", "regexp": "v.*"},
    }
    with admin_client(server) as http:
        apply_chain(http, chain_document("web-release", "shop/web", [hook]))
        layout = busybox_layout("amd64")
        started = time.monotonic()
        subprocess.run(
            [
                "skopeo",
                "copy",
                "--quiet",
                "--dest-tls-verify=false",
                "--dest-creds",
                f"admin:{server.admin_password}",
                oci_ref(layout),
                f"docker://{server.host}/shop/web:v1",
            ],
            env=storage_env(tmp_path / "containers"),
            check=True,
            timeout=120,
            capture_output=True,
            stdin=subprocess.DEVNULL,
        )
        pushed = time.monotonic()
        arrived = receiver.wait_for(1, timeout=10)[0]
        assert arrived.at - pushed < 2.0, "the webhook came later than 2 s after the push"
        assert arrived.at > started
        body = arrived.json()
        assert {k: set(v) for k, v in body.items()} == ACR_FIELDS
        digest = http.head("/v2/shop/web/manifests/v1").headers["docker-content-digest"]
        assert body["push_data"]["digest"] == digest
        assert body["push_data"]["tag"] == "v1"
        assert body["repository"] | {"date_created": ""} == {
            "date_created": "",
            "name": "web",
            "namespace": "shop",
            "region": "cn-hangzhou",
            "repo_authentication_type": "NO_CERTIFIED",
            "repo_full_name": "shop/web",
            "repo_origin_type": "NO_CERTIFIED",
            "repo_type": "PRIVATE",
        }
        assert len(body["push_data"]["pushed_at"]) == len("2016-11-29 12:25:46")
        assert arrived.headers["X-Conveyor-Delivery"]
        assert arrived.headers["Content-Type"] == "application/json"

        push_image(http, "shop/web", "nightly")
        done = wait_records(http, "web-release", 2, timeout=10)
        nightly = next(r for r in done if r["trigger"]["tag"] == "nightly")
        assert nightly["result"] == "SUCCESS"
        assert nightly["steps"][0]["result"] == {"deliveries": [], "untriggered": ["redeploy"]}
        time.sleep(0.5)
        assert len(receiver.received) == 1

    shown = server.cli(
        "record", "show", str(next(r["id"] for r in done if r["trigger"]["tag"] == "v1"))
    )
    assert "COMPLETE / SUCCESS" in shown
    assert "DISTRIBUTE" in shown and "redeploy #1: 200" in shown
    assert "token=abc" not in shown


def test_push_to_webhook_latency_is_under_two_seconds(
    conveyor_server: ConveyorServer, receiver: Receiver
) -> None:
    with admin_client(conveyor_server) as http:
        apply_chain(
            http, chain_document("latency", "fast/app", [{"name": "h", "url": receiver.url}])
        )
        for n in range(5):
            started = time.monotonic()
            push_image(http, "fast/app", f"t{n}", salt=str(n))
            arrived = receiver.wait_for(n + 1, timeout=10)[n]
            assert arrived.at - started < 2.0


def test_webhook_is_retried_until_the_receiver_recovers(
    conveyor_factory: Callable[..., ConveyorServer],
) -> None:
    server = conveyor_factory(
        CONVEYOR_DISTRIBUTE__RETRY_MAX_SECONDS="4", CONVEYOR_DISTRIBUTE__MAX_ATTEMPTS="20"
    )
    flaky = Receiver(refuse_until=time.monotonic() + 3, fail_until=time.monotonic() + 33)
    flaky.start()
    try:
        with admin_client(server) as http:
            apply_chain(
                http, chain_document("retry", "shop/retry", [{"name": "h", "url": flaky.url}])
            )
            push_image(http, "shop/retry", "v1")
            flaky.wait_for(1, timeout=60)
            record = wait_records(http, "retry", 1, timeout=20)[0]
    finally:
        flaky.stop()
    assert record["result"] == "SUCCESS"
    attempts = record["steps"][0]["deliveryAttempts"]
    assert attempts[-1]["ok"] is True and attempts[-1]["statusCode"] == 200
    refused = [a for a in attempts if a["statusCode"] is None]
    failed = [a for a in attempts if a["statusCode"] == 500]
    assert refused and failed, attempts
    assert all("500" in (a["error"] or "") or a["statusCode"] == 500 for a in failed)
    assert [a["attempt"] for a in attempts] == list(range(1, len(attempts) + 1))


def test_kill_during_a_running_step_the_step_is_claimed_again(
    conveyor_factory: Callable[..., ConveyorServer],
) -> None:
    server = conveyor_factory(CONVEYOR_CHAINS__LEASE_SECONDS="3")
    slow = Receiver(delay_seconds=30)
    slow.start()
    try:
        with admin_client(server) as http:
            apply_chain(
                http, chain_document("crash", "shop/crash", [{"name": "h", "url": slow.url}])
            )
            push_image(http, "shop/crash", "v1")
            wait_records(http, "crash", 1, timeout=10, status="RUNNING")
            deadline = time.monotonic() + 10
            while not any(slow.in_flight.values()) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert any(slow.in_flight.values()), "the step never called the receiver"
        server.kill()
        slow.delay_seconds = 0
        server.start()
        with admin_client(server) as http:
            record = wait_records(http, "crash", 1, timeout=30)[0]
            assert record["result"] == "SUCCESS"
            assert record["steps"][0]["attempts"] == 2
            assert all(r["status"] != "RUNNING" for r in records(http, "crash"))
    finally:
        slow.stop()


def test_signed_webhook_carries_a_verifiable_signature_and_the_secret_stays_hidden(
    conveyor_server: ConveyorServer, receiver: Receiver
) -> None:
    secret = "hook-Secret-Value-42"
    conveyor_server.cli("secret", "set", "hook-prod", input=secret + "\n")
    hook = {"name": "signed", "url": receiver.url, "secret": "hook-prod", "format": "cloudevents"}
    with admin_client(conveyor_server) as http:
        apply_chain(http, chain_document("signed", "sig/app", [hook]))
        push_image(http, "sig/app", "v1")
        arrived = receiver.wait_for(1, timeout=10)[0]
        assert verify(
            secret, arrived.body, arrived.headers["X-Conveyor-Signature"], int(time.time())
        )
        assert not verify(
            "wrong", arrived.body, arrived.headers["X-Conveyor-Signature"], int(time.time())
        )
        event = arrived.json()
        assert event["specversion"] == "1.0" and event["type"] == "io.conveyor.image.pushed"
        assert arrived.headers["Content-Type"] == "application/cloudevents+json"
        record = wait_records(http, "signed", 1, timeout=10)[0]
        everything = json.dumps(
            [
                http.get("/api/v1/secrets").json(),
                record,
                http.get(f"/api/v1/records/{record['id']}/logs").json(),
            ]
        )
    assert secret not in everything
    assert secret not in conveyor_server.cli("secret", "list", "-o", "json")
    assert secret not in conveyor_server.log_path.read_text()


@pytest.mark.parametrize(
    ("fmt", "check"),
    [
        (
            "harbor",
            lambda b: (
                b["type"] == "PUSH_ARTIFACT" and b["event_data"]["resources"][0]["tag"] == "v2"
            ),
        ),
        (
            "dockerhub",
            lambda b: b["push_data"]["tag"] == "v2" and b["repository"]["repo_name"] == "fmt/app",
        ),
    ],
)
def test_other_formats(
    conveyor_server: ConveyorServer, receiver: Receiver, fmt: str, check: Callable[[dict], bool]
) -> None:
    with admin_client(conveyor_server) as http:
        apply_chain(
            http,
            chain_document(
                f"fmt-{fmt}", "fmt/app", [{"name": "h", "url": receiver.url, "format": fmt}]
            ),
        )
        push_image(http, "fmt/app", "v2", salt=fmt)
        assert check(receiver.wait_for(1, timeout=10)[0].json())


def test_metadata_address_is_refused_without_a_request(conveyor_server: ConveyorServer) -> None:
    hook = {"name": "meta", "url": "http://169.254.169.254/latest/meta-data"}
    with admin_client(conveyor_server) as http:
        apply_chain(http, chain_document("ssrf", "ssrf/app", [hook]))
        push_image(http, "ssrf/app", "v1")
        record = wait_records(http, "ssrf", 1, timeout=15)[0]
    assert record["result"] == "FAILED"
    attempts = record["steps"][0]["deliveryAttempts"]
    assert len(attempts) == 1 and attempts[0]["statusCode"] is None
    assert "denied" in attempts[0]["error"]


def test_cancel_a_running_record_and_rerun_it(
    conveyor_server: ConveyorServer,
) -> None:
    slow = Receiver(delay_seconds=20)
    slow.start()
    try:
        with admin_client(conveyor_server) as http:
            apply_chain(
                http, chain_document("cancel", "cancel/app", [{"name": "h", "url": slow.url}])
            )
            push_image(http, "cancel/app", "v1")
            record = wait_records(http, "cancel", 1, timeout=10, status="RUNNING")[0]
            time.sleep(0.5)
            canceled = http.post(f"/api/v1/records/{record['id']}/cancel").json()
            assert canceled["status"] in ("CANCELING", "CANCELED")
            done = wait_records(http, "cancel", 1, timeout=30, status="CANCELED")[0]
            assert done["result"] == "CANCELED"
            slow.delay_seconds = 0
            rerun = http.post(f"/api/v1/records/{record['id']}/rerun")
            assert rerun.status_code == 201
            assert rerun.json()["rerunOf"] == record["id"]
            finished = wait_records(http, "cancel", 1, timeout=20)
            assert any(r["rerunOf"] == record["id"] and r["result"] == "SUCCESS" for r in finished)
    finally:
        slow.stop()
