"""`make bench`: run every benchmark and record the tables in bench/RESULTS.md."""

from __future__ import annotations

import platform
import subprocess
import time
from pathlib import Path

from bench import build, chains, registry, scan, sync

RESULTS = Path(__file__).parent / "RESULTS.md"


def main() -> None:
    sections = [
        ("Registry (DESIGN §7)", registry.main()),
        ("Delivery chains (DESIGN §7)", chains.main()),
        ("Scanner against syft (DESIGN §7)", scan.main()),
        ("Sync against skopeo sync (DESIGN §7)", sync.main()),
        ("Build cache (issue 6)", build.main()),
    ]
    body = "\n".join(f"## {title}\n\n{table}\n" for title, table in sections)
    print(body)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    header = (
        f"# Benchmark results\n\nRun {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on "
        f"{platform.machine()}, {platform.python_version()}, commit {commit}, by `make bench`.\n"
        "Peer and Conveyor measured in the same run with the same clients (curl, wrk).\n\n"
    )
    RESULTS.write_text(header + body)


if __name__ == "__main__":
    main()
