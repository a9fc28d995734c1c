"""The runner loop: claim a step, run its node under a kept-alive lease, record the outcome.

`conveyor serve` runs a few of these in-process; `conveyor runner` runs them on their own
against the same database. A runner that dies simply stops renewing its leases.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select

from conveyor.chains import queue, states
from conveyor.chains.nodes import Node, NodeOutcome, StepContext
from conveyor.db.chain_models import StepLog
from conveyor.db.database import Database
from conveyor.observability import tracing
from conveyor.observability.logs import RECORD_ID, STEP_ID
from conveyor.observability.metrics import STEP_SECONDS, STEPS

log = logging.getLogger(__name__)
MAX_LOG_LINES = 20_000
MAX_LOG_LINE = 4096


@dataclass
class RunnerSettings:
    concurrency: int = 4
    lease_seconds: float = 15.0
    poll_seconds: float = 1.0
    max_attempts: int = 5
    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 300.0


class Runner:
    def __init__(
        self, db: Database, nodes: Mapping[str, Node], settings: RunnerSettings | None = None
    ) -> None:
        self.db = db
        self.nodes = dict(nodes)
        self.settings = settings or RunnerSettings()
        self.name = f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        self._wake = asyncio.Event()
        self._workers: list[asyncio.Task[None]] = []
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        for index in range(self.settings.concurrency):
            self._workers.append(asyncio.create_task(self._work(), name=f"runner-{index}"))

    async def stop(self) -> None:
        self._stopping = True
        for worker in self._workers:
            worker.cancel()
        for worker in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    async def run_once(self) -> bool:
        """Claim and run one step; False when nothing was due."""
        claimed = await queue.claim(self.db, self.name, self.settings.lease_seconds)
        if claimed is None:
            return False
        await self._execute(claimed)
        return True

    async def _work(self) -> None:
        while not self._stopping:
            # Cleared before looking, so a wake-up that comes while we look is not lost.
            self._wake.clear()
            try:
                if await self.run_once():
                    continue
            except Exception:
                log.exception("runner %s: claim failed", self.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.poll_seconds)

    async def _execute(self, claimed: queue.ClaimedStep) -> None:
        RECORD_ID.set(claimed.record_id)
        STEP_ID.set(claimed.step_id)
        started = time.perf_counter()
        try:
            with tracing.step_span(
                claimed.record_id, claimed.step_id, claimed.node, claimed.attempt
            ) as span:
                outcome = await self._run_step(claimed)
                tracing.end_step_span(span, outcome.status, outcome.error)
        except asyncio.CancelledError:
            await asyncio.shield(queue.release(self.db, claimed.step_id, self.name))
            raise
        STEP_SECONDS.labels(claimed.node, outcome.status).observe(time.perf_counter() - started)
        STEPS.labels(claimed.node, outcome.status).inc()
        await self._trace_record_end(claimed.record_id)
        self.wake()  # the next step of the record may be due now

    async def _trace_record_end(self, record_id: int) -> None:
        record = await queue.record_outcome(self.db, record_id)
        if record is not None and record.ended_at is not None:
            tracing.record_span(
                record.id,
                record.chain_name,
                record.result or "",
                record.started_at,
                record.ended_at,
            )

    async def _run_step(self, claimed: queue.ClaimedStep) -> NodeOutcome:
        node = self.nodes.get(claimed.node)
        context = StepContext(
            claimed.record_id,
            claimed.step_id,
            claimed.node,
            claimed.attempt,
            claimed.trigger,
            claimed.chain,
            claimed.chain_version,
            claimed.earlier,
            claimed.previous_result,
            StepLogWriter(self.db, claimed.step_id),
            functools.partial(queue.save_progress, self.db, claimed.step_id, self.name),
        )
        if node is None:
            outcome = NodeOutcome.failed(f"no runner here can run {claimed.node} steps")
        else:
            outcome = await self._run_with_lease(node, context)
        finish = self._finish_for(claimed, outcome)
        await queue.finish(self.db, claimed.step_id, self.name, finish)
        log.info(
            "runner %s: record %d step %d (%s) attempt %d: %s%s",
            self.name,
            claimed.record_id,
            claimed.step_id,
            claimed.node,
            claimed.attempt,
            outcome.status,
            " (will retry)" if finish.retry_in is not None else "",
        )
        return outcome

    async def _run_with_lease(self, node: Node, context: StepContext) -> NodeOutcome:
        task = asyncio.create_task(node.run(context))
        try:
            return await self._watch(task, context)
        except asyncio.CancelledError:
            # The runner is stopping: stop the node too (its subprocesses with it).
            await _stop(task)
            raise

    async def _watch(self, task: asyncio.Task[NodeOutcome], context: StepContext) -> NodeOutcome:
        interval = self.settings.lease_seconds / 3
        while True:
            done, _ = await asyncio.wait({task}, timeout=interval)
            if done:
                return _outcome_of(task)
            status = await queue.heartbeat(
                self.db, context.step_id, self.name, self.settings.lease_seconds
            )
            if status is None or status == states.CANCELING:
                await _stop(task)
                reason = "canceled" if status else "lease lost"
                return NodeOutcome(states.CANCELED, {}, reason)

    def _finish_for(self, claimed: queue.ClaimedStep, outcome: NodeOutcome) -> queue.Finish:
        retry_in = None
        if outcome.retry and claimed.attempt < self.settings.max_attempts:
            retry_in = min(
                self.settings.retry_base_seconds * 2 ** (claimed.attempt - 1),
                self.settings.retry_max_seconds,
            )
        return queue.Finish(outcome.status, outcome.result, outcome.error, retry_in)


async def _stop(task: asyncio.Task[NodeOutcome]) -> None:
    task.cancel()
    with contextlib.suppress(BaseException):
        await task


def _outcome_of(task: asyncio.Task[NodeOutcome]) -> NodeOutcome:
    try:
        return task.result()
    except Exception as exc:
        log.exception("node failed")
        return NodeOutcome.failed(f"internal error: {type(exc).__name__}: {exc}", retry=True)


class StepLogWriter:
    """Appends numbered, staged lines to a step's log; capped so a flood is not stored whole."""

    def __init__(self, db: Database, step_id: int) -> None:
        self.db = db
        self.step_id = step_id
        self._line: int | None = None

    async def __call__(self, stage: str, text: str) -> None:
        async with self.db.write() as session:
            if self._line is None:
                last = await session.execute(
                    select(func.max(StepLog.line)).where(StepLog.step_id == self.step_id)
                )
                self._line = int(last.scalar_one() or 0)
            if self._line >= MAX_LOG_LINES:
                return
            self._line += 1
            text = text if self._line < MAX_LOG_LINES else "... log truncated"
            session.add(
                StepLog(
                    step_id=self.step_id, line=self._line, stage=stage, text=text[:MAX_LOG_LINE]
                )
            )
