"""The build settings one process runs with, resolved from the configuration."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from conveyor.config import Settings


@dataclass(frozen=True, slots=True)
class BuildOptions:
    work_dir: Path
    cache_dir: Path
    registry_url: str
    timeout_seconds: float = 1800.0
    utc_offset_hours: float = 8.0
    log_max_lines: int = 10_000
    log_max_line_chars: int = 2000
    max_concurrent: int = 2
    poll_min_seconds: float = 10.0


def registry_url(settings: Settings) -> str:
    """Where this instance's /v2 is reachable from a build."""
    return settings.local_registry_url


def build_options(settings: Settings) -> BuildOptions:
    build = settings.build
    data = settings.data_dir.resolve()
    return BuildOptions(
        work_dir=Path(build.storage_dir).resolve()
        if build.storage_dir
        else data / "build" / "work",
        cache_dir=Path(build.cache_dir).resolve() if build.cache_dir else data / "build" / "cache",
        registry_url=registry_url(settings),
        timeout_seconds=build.timeout_seconds,
        utc_offset_hours=build.utc_offset_hours,
        log_max_lines=build.log_max_lines,
        log_max_line_chars=build.log_max_line_chars,
        max_concurrent=build.max_concurrent,
        poll_min_seconds=build.poll_min_seconds,
    )
