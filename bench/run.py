"""`make bench`: run every benchmark and record the tables in bench/RESULTS.md."""

from __future__ import annotations

import platform
import subprocess
import time
from pathlib import Path

from bench import registry

RESULTS = Path(__file__).parent / "RESULTS.md"


def main() -> None:
    table = registry.main()
    print(table)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    header = (
        f"# Benchmark results\n\nRun {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on "
        f"{platform.machine()}, {platform.python_version()}, commit {commit}, by `make bench`.\n"
        "Peer and Conveyor measured in the same run with the same clients (curl, wrk).\n\n"
        "## Registry (DESIGN §7)\n\n"
    )
    RESULTS.write_text(header + table + "\n")


if __name__ == "__main__":
    main()
