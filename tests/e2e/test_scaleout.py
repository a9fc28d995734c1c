"""Scale-out (DESIGN §2): PostgreSQL + SeaweedFS, two stateless `conveyor serve` replicas and
two `conveyor runner`s; metrics, traces and JSON logs of what they did."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.chain_helpers import (
    admin_client,
    apply_chain,
    chain_document,
    push_image,
    wait_records,
)
from tests.support.conveyor_server import CONVEYOR, ConveyorServer, free_port
from tests.support.receiver import Receiver
from tests.support.seaweedfs import SeaweedFS


@dataclass
class RunnerProcess:
    process: subprocess.Popen[bytes]
    log: Path
    port: int

    @property
    def name(self) -> str:
        for line in self.log.read_text().splitlines():
            if "conveyor runner " in line and "waiting for steps" in line:
                return line.split("conveyor runner ")[1].split(":")[0]
        raise AssertionError("the runner has not started")

    def metrics(self) -> str:
        return httpx.get(f"http://127.0.0.1:{self.port}/metrics", timeout=5).text


@pytest.fixture
def cluster_env(postgresql_url: str, seaweedfs: SeaweedFS, tmp_path: Path) -> dict[str, str]:
    return {
        "CONVEYOR_DATABASE__URL": postgresql_url,
        "CONVEYOR_STORAGE__URL": seaweedfs.bucket_url("cluster"),
        "CONVEYOR_SECRETS__KEY": base64.b64encode(os.urandom(32)).decode(),
        "CONVEYOR_CHAINS__RUNNERS": "0",  # the replicas serve; the runners run steps
        "CONVEYOR_CHAINS__LEASE_SECONDS": "3",
        "CONVEYOR_CHAINS__POLL_SECONDS": "0.2",
        "CONVEYOR_OBSERVABILITY__TRACES": "file",
        "CONVEYOR_OBSERVABILITY__TRACES_FILE": str(tmp_path / "traces.jsonl"),
        "CONVEYOR_OBSERVABILITY__LOG_FORMAT": "json",
        **seaweedfs.env,
    }


@pytest.fixture
def start_runner(
    cluster_env: dict[str, str], tmp_path: Path
) -> Iterator[Callable[[], RunnerProcess]]:
    started: list[RunnerProcess] = []

    def start() -> RunnerProcess:
        index = len(started)
        log = tmp_path / f"runner{index}.log"
        port = free_port()
        process = subprocess.Popen(
            [
                CONVEYOR,
                "runner",
                "--data",
                str(tmp_path / f"runner{index}"),
                "--listen",
                f"127.0.0.1:{port}",
            ],
            env={**os.environ, **cluster_env},
            stdout=open(log, "wb"),  # noqa: SIM115 - lives as long as the process
            stderr=subprocess.STDOUT,
        )
        runner = RunnerProcess(process, log, port)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        started.append(runner)
        return runner

    yield start
    for runner in started:
        if runner.process.poll() is None:
            runner.process.terminate()
            runner.process.wait(20)


def test_two_replicas_and_two_runners_share_everything(
    conveyor_factory: Callable[..., ConveyorServer],
    cluster_env: dict[str, str],
    start_runner: Callable[[], RunnerProcess],
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    one, two = conveyor_factory(**cluster_env), conveyor_factory(**cluster_env)
    runners = [start_runner(), start_runner()]
    with admin_client(one) as first, admin_client(two) as second:
        apply_chain(
            first, chain_document("fleet", "fleet/app", [{"name": "h", "url": receiver.url}])
        )
        for n in range(50):
            push_image(first if n % 2 else second, "fleet/app", f"t{n}", salt=str(n))
        done = wait_records(second, "fleet", 50, timeout=120)
        assert all(r["result"] == "SUCCESS" for r in done)
        assert len({r.headers["X-Conveyor-Delivery"] for r in receiver.received}) == 50
        assert max(receiver.max_in_flight.values()) == 1, "a step ran twice at the same time"
        pulled = second.get("/v2/fleet/app/manifests/t1")
        assert pulled.status_code == 200
        assert first.get("/v2/fleet/app/manifests/t1").content == pulled.content

        for runner in runners:
            families = {f.name: f for f in text_string_to_metric_families(runner.metrics())}
            assert "conveyor_step_duration_seconds" in families
            assert "conveyor_webhook_attempts" in families
        served = {f.name for f in text_string_to_metric_families(first.get("/metrics").text)}
        assert {"conveyor_http_requests", "conveyor_http_bytes", "conveyor_queue_depth"} <= served

    spans = [json.loads(line) for line in (tmp_path / "traces.jsonl").read_text().splitlines()]
    for record in done:
        mine = [s for s in spans if s["attributes"].get("conveyor.record") == record["id"]]
        roots = [s for s in mine if s["name"].startswith("record ")]
        steps = [s for s in mine if s["name"].startswith("step ")]
        assert len(roots) == 1 and steps, record["id"]
        assert {s["traceId"] for s in mine} == {roots[0]["traceId"]}
        assert all(s["parentSpanId"] == roots[0]["spanId"] for s in steps)

    logged = [
        json.loads(line) for line in runners[0].log.read_text().splitlines() if line.startswith("{")
    ]
    assert any("recordId" in entry and "stepId" in entry for entry in logged)


def test_a_killed_runner_s_step_is_finished_by_the_other(
    conveyor_factory: Callable[..., ConveyorServer],
    cluster_env: dict[str, str],
    start_runner: Callable[[], RunnerProcess],
    postgresql_url: str,
) -> None:
    server = conveyor_factory(**cluster_env)
    runners = [start_runner(), start_runner()]
    slow = Receiver(delay_seconds=60)
    slow.start()
    try:
        with admin_client(server) as http:
            apply_chain(http, chain_document("long", "long/app", [{"name": "h", "url": slow.url}]))
            push_image(http, "long/app", "v1")
            owner = _running_step_owner(postgresql_url)
            holder = next(r for r in runners if r.name == owner)
            holder.process.send_signal(signal.SIGKILL)
            holder.process.wait(10)
            slow.delay_seconds = 0
            record = wait_records(http, "long", 1, timeout=60)[0]
        assert record["result"] == "SUCCESS"
        assert record["steps"][0]["attempts"] == 2
        survivor = next(r for r in runners if r is not holder)
        assert "attempt 2: SUCCESS" in survivor.log.read_text()
    finally:
        slow.stop()


def test_a_stopped_runner_hands_its_step_back_at_once(
    conveyor_factory: Callable[..., ConveyorServer],
    cluster_env: dict[str, str],
    start_runner: Callable[[], RunnerProcess],
    postgresql_url: str,
) -> None:
    env = {**cluster_env, "CONVEYOR_CHAINS__LEASE_SECONDS": "120"}
    server = conveyor_factory(**env)
    first = start_runner()
    slow = Receiver(delay_seconds=60)
    slow.start()
    try:
        with admin_client(server) as http:
            apply_chain(
                http, chain_document("handback", "hand/app", [{"name": "h", "url": slow.url}])
            )
            push_image(http, "hand/app", "v1")
            _running_step_owner(postgresql_url)
            first.process.send_signal(signal.SIGTERM)
            assert first.process.wait(20) == 0
            with psycopg.connect(postgresql_url) as connection:
                status = connection.execute("SELECT status, lease_owner FROM steps").fetchone()
            assert status == ("PENDING", None), "handed back without waiting for the lease"
            slow.delay_seconds = 0
            start_runner()
            record = wait_records(http, "handback", 1, timeout=30)[0]
        assert record["result"] == "SUCCESS"
    finally:
        slow.stop()


def _running_step_owner(url: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with psycopg.connect(url) as connection:
            row = connection.execute(
                "SELECT lease_owner FROM steps WHERE status = 'RUNNING'"
            ).fetchone()
        if row and row[0]:
            return str(row[0])
        time.sleep(0.1)
    raise AssertionError("no step started running")
