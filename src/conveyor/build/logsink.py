"""A build's log: numbered, staged lines in the step's log, written in batches, capped.

A build can print a million lines a second; each line is not a transaction of its own. Lines are
queued without waiting and written every fraction of a second, many per transaction. Past the
cap only a count is kept, and the last stored line says how many were left out. Secret values
(git credentials) are replaced before a line is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from types import TracebackType

from sqlalchemy import func, select

from conveyor.db.chain_models import StepLog
from conveyor.db.database import Database

FLUSH_SECONDS = 0.25
BATCH = 1000


class BuildLog:
    def __init__(
        self,
        db: Database,
        step_id: int,
        *,
        max_lines: int,
        max_chars: int,
        redact: Sequence[str] = (),
    ) -> None:
        self.db = db
        self.step_id = step_id
        self.max_lines = max_lines
        self.max_chars = max_chars
        self._redact = [value for value in redact if len(value) >= 4]
        self._pending: list[tuple[str, str]] = []
        self._line = 0
        self._kept = 0
        self.dropped = 0
        self._flusher: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()

    def hide(self, value: str) -> None:
        """Never store this value (a credential) in a line."""
        if len(value) >= 4:
            self._redact.append(value)

    async def __aenter__(self) -> BuildLog:
        async with self.db.read() as session:
            last = await session.execute(
                select(func.max(StepLog.line)).where(StepLog.step_id == self.step_id)
            )
            self._line = int(last.scalar_one() or 0)  # a later attempt continues the numbering
        self._flusher = asyncio.create_task(self._flush_loop())
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        if self.dropped:
            self._pending.append(
                ("BUILD", f"... log capped at {self.max_lines} lines: {self.dropped} more not kept")
            )
        # The flusher is told to finish, not cancelled: a batch cut off during its commit could
        # be written twice. Its last round writes what is left, even when the build was
        # cancelled: the log says how far it got.
        self._closing.set()
        await asyncio.shield(self._flusher or self.flush())

    def add(self, stage: str, text: str) -> None:
        """Queue one line (never waits)."""
        if self._kept >= self.max_lines - 1:  # the last line is kept for the summary
            self.dropped += 1
            return
        for value in self._redact:
            if value in text:
                text = text.replace(value, "***")
        if len(text) > self.max_chars:
            text = text[: self.max_chars] + " [line cut]"
        self._kept += 1
        self._pending.append((stage, text))

    def writer(self, stage: str) -> _StageWriter:
        return _StageWriter(self, stage)

    async def flush(self) -> None:
        while self._pending:
            batch = self._pending[:BATCH]
            async with self.db.write() as session:
                session.add_all(
                    StepLog(step_id=self.step_id, line=self._line + n, stage=stage, text=text)
                    for n, (stage, text) in enumerate(batch, start=1)
                )
            # Only once committed: a batch cut short by a cancel is written by the next flush.
            self._line += len(batch)
            del self._pending[: len(batch)]

    async def _flush_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), FLUSH_SECONDS)
            await self.flush()
            if self._closing.is_set():
                return


class _StageWriter:
    """`on_line` for a child process: every line under one stage."""

    def __init__(self, log: BuildLog, stage: str) -> None:
        self.log = log
        self.stage = stage

    def __call__(self, text: str) -> None:
        self.log.add(self.stage, text)
