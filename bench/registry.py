"""Registry benchmark: 1 GiB blob push and pull, manifest GET rate, server memory while streaming.

Both servers get the same requests from the same clients (curl for blobs, wrk for manifests),
so the client is never the Python side. Run with `make bench`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from bench.servers import WORK, Server, start_conveyor, start_distribution

GIB = 1024 * 1024 * 1024
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@dataclass
class Result:
    push_mbps: float = 0.0
    pull_mbps: float = 0.0
    manifest_rps: float = 0.0
    rss_mib: dict[int, float] = field(default_factory=dict)


def make_blob(size: int) -> tuple[Path, str]:
    path = WORK / f"blob-{size}.bin"
    if not path.exists() or path.stat().st_size != size:
        with open(path, "wb") as handle:
            for _ in range(size // (64 * 1024 * 1024)):
                handle.write(os.urandom(64 * 1024 * 1024))
    hasher = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(8 * 1024 * 1024):
            hasher.update(chunk)
    return path, "sha256:" + hasher.hexdigest()


def curl_auth(server: Server) -> list[str]:
    return ["-u", ":".join(server.auth)] if server.auth else []


def push(server: Server, repo: str, path: Path, digest: str) -> float:
    """Seconds for POST + one streamed PUT of the whole file."""
    start = time.perf_counter()
    with httpx.Client(base_url=server.url, auth=server.auth) as http:
        location = http.post(f"/v2/{repo}/blobs/uploads/").headers["location"]
    if not location.startswith("http"):
        location = server.url + location
    sep = "&" if "?" in location else "?"
    code = subprocess.run(
        [
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            *curl_auth(server),
            "-X",
            "PUT",
            "-H",
            "Content-Type: application/octet-stream",
            "-T",
            str(path),
            f"{location}{sep}digest={digest}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert code == "201", f"{server.name} push answered {code}"
    return time.perf_counter() - start


def pull(server: Server, repo: str, digest: str) -> float:
    start = time.perf_counter()
    code = subprocess.run(
        [
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            *curl_auth(server),
            f"{server.url}/v2/{repo}/blobs/{digest}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert code == "200", f"{server.name} pull answered {code}"
    return time.perf_counter() - start


def put_small_image(server: Server, repo: str) -> None:
    config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    digest = "sha256:" + hashlib.sha256(config).hexdigest()
    with httpx.Client(base_url=server.url, auth=server.auth) as http:
        location = http.post(f"/v2/{repo}/blobs/uploads/").headers["location"]
        sep = "&" if "?" in location else "?"
        http.put(f"{location}{sep}digest={digest}", content=config).raise_for_status()
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": digest,
                "size": len(config),
            },
            "layers": [],
        }
        http.put(
            f"/v2/{repo}/manifests/latest",
            content=json.dumps(manifest).encode(),
            headers={"Content-Type": OCI_MANIFEST},
        ).raise_for_status()


def manifest_rate(server: Server, repo: str, seconds: int = 10) -> float:
    put_small_image(server, repo)
    headers = ["-H", f"Accept: {OCI_MANIFEST}"]
    if server.auth:
        token = base64.b64encode(":".join(server.auth).encode()).decode()
        headers += ["-H", f"Authorization: Basic {token}"]
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            "-c32",
            f"-d{seconds}s",
            *headers,
            f"{server.url}/v2/{repo}/manifests/latest",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out:
        raise AssertionError(f"{server.name}: errors during the manifest run:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert match, out
    return float(match.group(1))


def peak_rss_during(server: Server, work: Callable[[], object]) -> float:
    process = psutil.Process(server.process.pid)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            with contextlib.suppress(psutil.Error):
                tree = [process, *process.children(True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        work()
    finally:
        done.set()
        sampler.join()
    return peak / (1024 * 1024)


def measure(server: Server, blob: Path, digest: str, big: Path, big_digest: str) -> Result:
    result = Result()
    result.push_mbps = GIB / push(server, "bench/blob", blob, digest) / 1e6
    result.pull_mbps = GIB / pull(server, "bench/blob", digest) / 1e6
    result.manifest_rps = manifest_rate(server, "bench/manifest")
    for size, path, dig in ((1, blob, digest), (2, big, big_digest)):
        repo = f"bench/rss{size}"
        result.rss_mib[size] = peak_rss_during(
            server, lambda r=repo, p=path, d=dig: (push(server, r, p, d), pull(server, r, d))
        )
    return result


def main() -> str:
    WORK.mkdir(parents=True, exist_ok=True)
    blob, digest = make_blob(GIB)
    big, big_digest = make_blob(2 * GIB)
    results = {}
    for start in (start_distribution, start_conveyor):
        server = start()
        try:
            results[server.name] = measure(server, blob, digest, big, big_digest)
        finally:
            server.stop()
    return report(results["distribution"], results["conveyor"])


def report(peer: Result, ours: Result) -> str:
    rows = [
        ("push 1 GiB blob (MB/s)", peer.push_mbps, ours.push_mbps, "≥ 1.0×"),
        ("pull 1 GiB blob (MB/s)", peer.pull_mbps, ours.pull_mbps, "≥ 1.0×"),
        ("manifest GET, 32 clients (req/s)", peer.manifest_rps, ours.manifest_rps, "≥ 0.5×"),
    ]
    lines = [
        "| what | distribution 2.8 | Conveyor | ratio | target |",
        "|---|---|---|---|---|",
    ]
    for what, theirs, mine, target in rows:
        lines.append(f"| {what} | {theirs:.0f} | {mine:.0f} | {mine / theirs:.2f}× | {target} |")
    for size in (1, 2):
        lines.append(
            f"| server peak RSS, push+pull {size} GiB (MiB) | {peer.rss_mib[size]:.0f} | "
            f"{ours.rss_mib[size]:.0f} | - | < 200 MiB, flat |"
        )
    return "\n".join(lines)
