"""Logging: plain text by default, or one JSON object per line carrying the record and step
being worked on (set through context variables by the runner)."""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

RECORD_ID: ContextVar[int | None] = ContextVar("record_id", default=None)
STEP_ID: ContextVar[int | None] = ContextVar("step_id", default=None)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (record_id := RECORD_ID.get()) is not None:
            entry["recordId"] = record_id
        if (step_id := STEP_ID.get()) is not None:
            entry["stepId"] = step_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure(fmt: str) -> None:
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
