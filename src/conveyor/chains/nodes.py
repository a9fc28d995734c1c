"""The small interface through which the engine runs nodes it does not know.

build, scan, sync and distribute implement `Node`; `app.py` hands the engine one of each.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from conveyor.chains.schema import ChainDocument

LogWriter = Callable[[str, str], Awaitable[None]]


@dataclass
class StepContext:
    record_id: int
    step_id: int
    node: str
    attempt: int
    trigger: dict[str, Any]
    chain: ChainDocument
    chain_version: int
    # What earlier steps of the record produced, by node kind (BUILD's image, SCAN's summary...).
    earlier: dict[str, dict[str, Any]]
    # The result the previous attempt of this step left behind (to resume, not redo).
    previous_result: dict[str, Any] | None
    log: LogWriter
    # Keep a partial result on the step while it runs (progress for the CLI and console).
    save_progress: Callable[[dict[str, Any]], Awaitable[None]] | None = None

    @property
    def repository(self) -> str:
        return str(self.trigger.get("repository", ""))

    @property
    def tag(self) -> str | None:
        tag = self.trigger.get("tag")
        return str(tag) if tag else None

    @property
    def digest(self) -> str | None:
        digest = self.earlier.get("BUILD", {}).get("digest") or self.trigger.get("digest")
        return str(digest) if digest else None


@dataclass
class NodeOutcome:
    status: str  # SUCCESS | FAILED | DENIED | SKIPPED
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    # A transient failure: run the step again later (with backoff), up to the attempt limit.
    retry: bool = False

    @classmethod
    def success(cls, result: dict[str, Any]) -> NodeOutcome:
        return cls("SUCCESS", result)

    @classmethod
    def failed(
        cls, error: str, result: dict[str, Any] | None = None, *, retry: bool = False
    ) -> NodeOutcome:
        return cls("FAILED", result or {}, error, retry)


class Node(Protocol):
    kind: str

    async def run(self, step: StepContext) -> NodeOutcome: ...
