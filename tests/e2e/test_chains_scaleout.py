"""Runners as separate processes on one PostgreSQL: every step runs, none twice at once."""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.chain_helpers import (
    admin_client,
    apply_chain,
    chain_document,
    push_image,
    wait_records,
)
from tests.support.conveyor_server import CONVEYOR, ConveyorServer
from tests.support.receiver import Receiver

RECORDS = 200


@pytest.fixture
def shared_env(postgresql_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "CONVEYOR_DATABASE__URL": postgresql_url,
        "CONVEYOR_STORAGE__URL": f"file://{tmp_path / 'blobs'}",
        "CONVEYOR_SECRETS__KEY": base64.b64encode(os.urandom(32)).decode(),
        "CONVEYOR_CHAINS__LEASE_SECONDS": "5",
        "CONVEYOR_CHAINS__POLL_SECONDS": "0.1",
    }


@pytest.fixture
def runners(shared_env: dict[str, str], tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    started = []
    for index in range(2):
        log = open(tmp_path / f"runner{index}.log", "wb")  # noqa: SIM115 - closed with the process
        started.append(
            subprocess.Popen(
                [CONVEYOR, "runner", "--data", str(tmp_path / f"runner{index}")],
                env={**os.environ, **shared_env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    yield started
    for process in started:
        process.terminate()
    for process in started:
        process.wait(20)


def test_two_runners_and_the_server_complete_200_records_without_overlap(
    conveyor_factory: Callable[..., ConveyorServer],
    shared_env: dict[str, str],
    runners: list[subprocess.Popen[bytes]],
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    server = conveyor_factory(**shared_env)
    with admin_client(server) as http:
        apply_chain(http, chain_document("many", "scale/app", [{"name": "h", "url": receiver.url}]))
        for n in range(RECORDS):
            push_image(http, "scale/app", f"t{n}", salt=str(n))
        done = wait_records(http, "many", RECORDS, timeout=240)
    assert all(process.poll() is None for process in runners), "a runner died"
    assert len(done) == RECORDS
    assert all(r["result"] == "SUCCESS" for r in done)
    deliveries = {r.headers["X-Conveyor-Delivery"] for r in receiver.received}
    assert len(deliveries) == RECORDS
    assert max(receiver.max_in_flight.values()) == 1, "a step ran twice at the same time"
    assert all(r["steps"][0]["attempts"] == 1 for r in done)
    # Which process ran which step depends on timing; the runner processes must have taken part.
    logs = "".join((tmp_path / f"runner{index}.log").read_text() for index in range(2))
    assert "(DISTRIBUTE) attempt 1: SUCCESS" in logs, "the runner processes ran no step"
