"""Logs and traces as the configuration asks, once per process."""

from __future__ import annotations

from conveyor.config import Settings
from conveyor.observability import logs, tracing


def observe(settings: Settings, role: str) -> None:
    config = settings.observability
    logs.configure(config.log_format)
    traces_file = settings.data_dir / config.traces_file
    tracing.configure(config.traces, str(traces_file), config.otlp_endpoint, f"conveyor-{role}")
