"""Build cache (DESIGN §5.1, issue 6): the second build of an unchanged commit against the first.

A real git repository (file://), a Dockerfile whose RUN does a few seconds of work on every
platform (amd64 natively, arm64 through qemu), built twice by the same rule with `cache: true`.
Times are the BUILD step's own (fetch, buildah per platform, push), read from the records.
"""

from __future__ import annotations

import shutil
import time
from datetime import datetime
from typing import Any

import httpx

from bench.servers import WORK, start_conveyor
from tests.e2e.build_helpers import build_chain, push_base_image
from tests.support.git_http import SourceRepo

TARGET = 3.0
# About two seconds of shell arithmetic natively; arm64 runs it under qemu.
DOCKERFILE = """FROM {host}/base/busybox:1
ARG ROUNDS=150000
RUN i=0; while [ $i -lt $ROUNDS ]; do i=$((i+1)); done; echo "$i rounds on $(uname -m)" > /work
RUN echo built > /done
"""


def main() -> str:
    server = start_conveyor()
    try:
        first, second = _measure(server.url, server.auth)
    finally:
        server.stop()
    ratio = first / second
    verdict = "met" if ratio >= TARGET else "NOT met"
    return "\n".join(
        [
            "| what | first build (s) | unchanged commit again (s) | speed-up | target |",
            "|---|---|---|---|---|",
            f"| BUILD step, linux/amd64 + linux/arm64, cache on | {first:.1f} | {second:.1f} | "
            f"{ratio:.1f}× | ≥ {TARGET:.0f}× ({verdict}) |",
        ]
    )


def _measure(url: str, auth: tuple[str, str] | None) -> tuple[float, float]:
    root = WORK / "build-bench"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    host = url.removeprefix("http://")
    repo = SourceRepo(root / "app.git")
    repo.commit("main", {"Dockerfile": DOCKERFILE.format(host=host)})
    rule = {
        "type": "branch",
        "ref": "main",
        "tags": [{"tag": "latest"}],
        "platforms": ["linux/amd64", "linux/arm64"],
        "cache": True,
    }
    with httpx.Client(base_url=url, auth=auth, timeout=600) as http:
        push_base_image(http)
        http.post("/api/v1/namespaces", json={"name": "bench"})
        bound = http.put("/api/v1/repositories/bench/app/source", json={"git": repo.file_url})
        bound.raise_for_status()
        http.post(
            "/api/v1/chains", json=build_chain("bench", "bench/app", [rule])
        ).raise_for_status()
        return _build_once(http), _build_once(http)


def _build_once(http: httpx.Client) -> float:
    reply = http.post("/api/v1/repositories/bench/app/push-events", json={"ref": "refs/heads/main"})
    reply.raise_for_status()
    (record_id,) = reply.json()["records"]
    record = _wait(http, record_id)
    if record["result"] != "SUCCESS":
        raise RuntimeError(f"the bench build failed: {record.get('reason')}")
    step = record["steps"][0]
    started = datetime.fromisoformat(step["startedAt"])
    ended = datetime.fromisoformat(step["endedAt"])
    return (ended - started).total_seconds()


def _wait(http: httpx.Client, record_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        record: dict[str, Any] = http.get(f"/api/v1/records/{record_id}").json()
        if record["status"] in ("COMPLETE", "CANCELED"):
            return record
        time.sleep(0.2)
    raise RuntimeError(f"record {record_id} did not end in 10 minutes")


if __name__ == "__main__":
    print(main())
