"""Scanner benchmark: inventory of a Debian image and a Python image, Conveyor against syft.

The same layers go to syft (as an OCI layout) and to a fresh `conveyor serve` (pushed, then
`POST /api/v1/scans`, which unpacks, takes inventory and matches). Both are timed from the
outside in one run, with their peak memory; the package sets are compared too.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil

from bench.servers import start_conveyor
from tests.support.scan_images import (
    LayerBuilder,
    debootstrap_bullseye,
    gz,
    pip_target,
    push_image,
    syft_packages,
    write_oci_layout,
)

PYTHON_PACKAGES = [
    "requests==2.19.1",
    "urllib3==1.24.1",
    "jinja2==2.10",
    "flask==1.0",
    "django==2.2",
]


def _peak_rss(pid: int, work: Callable[[], object]) -> tuple[float, float]:
    """(seconds, peak RSS MiB of the process tree) while `work` runs."""
    process = psutil.Process(pid)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                tree = [process, *process.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree))
            except psutil.Error:
                pass
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    try:
        work()
    finally:
        elapsed = time.perf_counter() - started
        done.set()
        sampler.join()
    return elapsed, peak / (1024 * 1024)


def _syft(layout: Path) -> tuple[float, float, set[tuple[str, str]]]:
    syft = str(Path(sys.executable).parent / "syft")
    process = subprocess.Popen(
        [syft, f"oci-dir:{layout}", "-o", "json", "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={"SYFT_CHECK_FOR_APP_UPDATE": "false", "PATH": "/usr/bin:/bin"},
    )
    seconds, peak = _peak_rss(process.pid, process.wait)
    packages = {_key(p["name"], p["version"]) for p in syft_packages(f"oci-dir:{layout}")}
    return seconds, peak, packages


def _key(name: str, version: str) -> tuple[str, str]:
    """Names compared as PEP 503 normalises them (syft keeps the distribution's spelling)."""
    return name.lower().replace("_", "-").replace(".", "-"), version


def _conveyor(
    http: httpx.Client, pid: int, image: str
) -> tuple[float, float, set[tuple[str, str]]]:
    report: dict[str, object] = {}

    def scan() -> None:
        reply = http.post("/api/v1/scans", json={"image": image, "refresh": True})
        reply.raise_for_status()
        report.update(reply.json())

    seconds, peak = _peak_rss(pid, scan)
    listed: list[dict[str, str]] = report["packages"]  # type: ignore[assignment]
    packages = {_key(p["name"], p["version"]) for p in listed}
    return seconds, peak, packages


def _images() -> dict[str, list[bytes | Path]]:
    debian = debootstrap_bullseye()
    python = LayerBuilder().add_tree(pip_target(PYTHON_PACKAGES), "usr/lib/python3/dist-packages")
    return {
        "debian bullseye (debootstrap minbase)": [debian],
        "python packages": [gz(python.bytes())],
    }


def main() -> str:
    rows = [
        "| image | syft (s) | Conveyor (s) | ratio | syft MiB | Conveyor MiB | packages |",
        "|---|---|---|---|---|---|---|",
    ]
    server = start_conveyor()
    try:
        with (
            tempfile.TemporaryDirectory() as scratch,
            httpx.Client(base_url=server.url, auth=server.auth, timeout=600) as http,
        ):
            for n, (name, layers) in enumerate(_images().items()):
                layout = write_oci_layout(Path(scratch) / f"layout{n}", layers)
                push_image(http, "bench/scan", f"i{n}", layers)
                theirs = _syft(layout)
                ours = _conveyor(http, server.process.pid, f"bench/scan:i{n}")
                common = len(theirs[2] & ours[2])
                rows.append(
                    f"| {name} | {theirs[0]:.2f} | {ours[0]:.2f} | {ours[0] / theirs[0]:.2f}× | "
                    f"{theirs[1]:.0f} | {ours[1]:.0f} | "
                    f"{common} in common; syft {len(theirs[2])}, Conveyor {len(ours[2])} |"
                )
    finally:
        server.stop()
    return "\n".join(rows)


if __name__ == "__main__":
    print(main())
