"""Sync benchmark: Conveyor's copy engine against `skopeo sync`, registry to registry.

A source `docker-registry` gets a set of repositories that share base layers, each tag with a
unique layer of a few MB (random content, pushed once with httpx). Each tool then syncs every
repository, all tags, to a fresh `docker-registry` of its own (same kind of peers on both sides):
first copy, then no-change re-syncs; three interleaved rounds, medians reported (the machine
may be shared, so single runs are noisy). skopeo reads the repositories from a
YAML source file (`skopeo sync --src yaml --dest docker --all --preserve-digests`); Conveyor runs
`backfill_namespace` in-process. Both destinations end with the same digests (checked).

Run: `.venv/bin/python -m bench.sync` (prints the table); `bench/run.py` records it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx

from bench.servers import WORK, free_port
from conveyor.client import RegistryClient
from conveyor.sync.backfill import Limits, backfill_namespace

MIB = 1024 * 1024
REPOSITORIES = 10
TAGS = ("1.0", "1.1")
BASE_LAYERS = (24 * MIB, 6 * MIB)  # shared by every image
UNIQUE_LAYER = 3 * MIB  # one per image
RESYNC_RUNS = 3
ROUNDS = 3
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
SKOPEO_TIMEOUT = 600


@dataclass
class Registry:
    name: str
    root: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def start_registry(name: str) -> Registry:
    root = WORK / "sync" / name
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    port = free_port()
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    process = subprocess.Popen(
        ["docker-registry", "serve", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    registry = Registry(name, root, port, process)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{registry.url}/v2/", timeout=1).status_code == 200:
                return registry
        except httpx.HTTPError:
            time.sleep(0.05)
    registry.stop()
    raise RuntimeError(f"docker-registry {name} did not start")


# ---------------------------------------------------------------------- the data set


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push_blob(http: httpx.Client, repository: str, data: bytes) -> dict[str, object]:
    digest = sha256(data)
    if http.head(f"/v2/{repository}/blobs/{digest}").status_code != 200:
        start = http.post(f"/v2/{repository}/blobs/uploads/")
        location = start.url.join(start.headers["location"]).copy_merge_params({"digest": digest})
        http.put(location, content=data).raise_for_status()
    return {
        "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
        "digest": digest,
        "size": len(data),
    }


def push_image(http: httpx.Client, repository: str, tag: str, layers: list[bytes]) -> str:
    descriptors = [push_blob(http, repository, layer) for layer in layers]
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [d["digest"] for d in descriptors]},
        }
    ).encode()
    config_descriptor = push_blob(http, repository, config)
    config_descriptor["mediaType"] = "application/vnd.oci.image.config.v1+json"
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config_descriptor,
            "layers": descriptors,
        }
    ).encode()
    http.put(
        f"/v2/{repository}/manifests/{tag}",
        content=manifest,
        headers={"Content-Type": OCI_MANIFEST},
    ).raise_for_status()
    return sha256(manifest)


def populate(source: Registry) -> dict[str, dict[str, str]]:
    """`bench/appNN` repositories; returns repository -> tag -> digest."""
    base = [os.urandom(size) for size in BASE_LAYERS]
    images: dict[str, dict[str, str]] = {}
    with httpx.Client(base_url=source.url, timeout=120) as http:
        for number in range(REPOSITORIES):
            repository = f"bench/app{number:02d}"
            images[repository] = {
                tag: push_image(http, repository, tag, [*base, os.urandom(UNIQUE_LAYER)])
                for tag in TAGS
            }
    return images


def total_bytes() -> int:
    return sum(BASE_LAYERS) + REPOSITORIES * len(TAGS) * UNIQUE_LAYER


# ---------------------------------------------------------------------- the two contenders


def skopeo_sync(source: Registry, destination: Registry, repositories: list[str]) -> float:
    listing = "".join(f"      {repository}: []\n" for repository in repositories)
    spec = WORK / "sync" / "skopeo-source.yaml"
    spec.write_text(f"{source.host}:\n  tls-verify: false\n  images:\n{listing}")
    auth = WORK / "sync" / "auth.json"
    auth.write_text('{"auths": {}}\n')
    command = [
        "skopeo",
        "sync",
        "--src",
        "yaml",
        "--dest",
        "docker",
        "--dest-tls-verify=false",
        "--all",
        "--preserve-digests",
        str(spec),
        f"{destination.host}/mirror",
    ]
    env = {**os.environ, "REGISTRY_AUTH_FILE": str(auth)}
    started = time.perf_counter()
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=SKOPEO_TIMEOUT, env=env
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"skopeo sync failed:\n{result.stderr[-3000:]}")
    return elapsed


def conveyor_sync(source: Registry, destination: Registry) -> float:
    async def run() -> None:
        async with RegistryClient(source.url) as src, RegistryClient(destination.url) as dst:
            reports = await backfill_namespace(
                src,
                "bench",
                dst,
                "mirror",
                ".*",
                ".*",
                limits=Limits(),
            )
        failed = [r for report in reports for r in report.results if not r.ok]
        if failed or not all(report.ok for report in reports):
            raise RuntimeError(f"Conveyor sync failed: {failed[:3]}")

    started = time.perf_counter()
    anyio.run(run)
    return time.perf_counter() - started


def check_destination(destination: Registry, images: dict[str, dict[str, str]]) -> None:
    accept = {"Accept": OCI_MANIFEST}
    with httpx.Client(base_url=destination.url, timeout=60) as http:
        for repository, tags in images.items():
            mirror = repository.replace("bench/", "mirror/", 1)
            for tag, digest in tags.items():
                response = http.head(f"/v2/{mirror}/manifests/{tag}", headers=accept)
                found = response.headers.get("docker-content-digest")
                if found != digest:
                    raise RuntimeError(
                        f"{destination.name}: {mirror}:{tag} is {found}, not {digest}"
                    )


# ---------------------------------------------------------------------- the run


@dataclass
class Timings:
    first: float
    resync: float


def measure(sync: Callable[[Registry], float], name: str) -> Timings:
    """First copy into a fresh destination, then the median of the no-change re-syncs."""
    destination = start_registry(name)
    try:
        first = sync(destination)
        resync = statistics.median(sync(destination) for _ in range(RESYNC_RUNS))
    finally:
        destination.stop()
    return Timings(first, resync)


def median_timings(runs: list[Timings]) -> Timings:
    return Timings(
        statistics.median(t.first for t in runs), statistics.median(t.resync for t in runs)
    )


def main() -> str:
    source = start_registry("source")
    skopeo_runs: list[Timings] = []
    our_runs: list[Timings] = []
    try:
        images = populate(source)
        repositories = sorted(images)

        def with_skopeo(destination: Registry) -> float:
            elapsed = skopeo_sync(source, destination, repositories)
            check_destination(destination, images)
            return elapsed

        def with_conveyor(destination: Registry) -> float:
            elapsed = conveyor_sync(source, destination)
            check_destination(destination, images)
            return elapsed

        for number in range(ROUNDS):  # interleaved, alternating who goes first
            contenders = [(with_skopeo, skopeo_runs), (with_conveyor, our_runs)]
            for sync, runs in contenders if number % 2 == 0 else contenders[::-1]:
                runs.append(measure(sync, f"dest-{number}"))
    finally:
        source.stop()
    return report(median_timings(skopeo_runs), median_timings(our_runs))


def report(skopeo: Timings, ours: Timings) -> str:
    images = REPOSITORIES * len(TAGS)
    size = total_bytes() / MIB
    what = f"{REPOSITORIES} repositories × {len(TAGS)} tags, {size:.0f} MiB of distinct blobs"
    lines = [
        f"Sync of {what}, docker-registry → docker-registry ({images} images sharing "
        f"{len(BASE_LAYERS)} base layers); medians of {ROUNDS} interleaved rounds, each a first"
        f" copy into a fresh destination and {RESYNC_RUNS} re-syncs.",
        "",
        "| what | skopeo sync (s) | Conveyor (s) | ratio | target |",
        "|---|---|---|---|---|",
    ]
    for label, theirs, mine in (
        ("first copy", skopeo.first, ours.first),
        ("no-change re-sync", skopeo.resync, ours.resync),
    ):
        lines.append(f"| {label} | {theirs:.2f} | {mine:.2f} | {mine / theirs:.2f}× | ≤ 0.5× |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(main())
