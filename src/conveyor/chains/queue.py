"""Steps as a work queue in the database: claim with a lease, keep it alive, finish it.

A step can be claimed when it is PENDING and due, or RUNNING with a lapsed lease (its runner
died), and every earlier step of its record is done. Every transition commits before it is
acted on, so any runner on any machine can pick up where another stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import aliased

from conveyor.chains import states
from conveyor.chains.records import end_record
from conveyor.chains.schema import ChainDocument
from conveyor.db.chain_models import Chain, ChainVersion, Record, Step
from conveyor.db.database import Database


@dataclass
class ClaimedStep:
    step_id: int
    record_id: int
    node: str
    attempt: int
    trigger: dict[str, Any]
    chain: ChainDocument
    chain_version: int
    earlier: dict[str, dict[str, Any]]
    previous_result: dict[str, Any] | None


@dataclass
class Finish:
    status: str
    result: dict[str, Any]
    error: str | None = None
    retry_in: float | None = None  # seconds; set: back to PENDING instead of final


def _now() -> datetime:
    return datetime.now(UTC)


async def claim(db: Database, runner: str, lease_seconds: float) -> ClaimedStep | None:
    now = _now()
    earlier = aliased(Step)
    blocked = exists().where(
        and_(
            earlier.record_id == Step.record_id,
            earlier.position < Step.position,
            earlier.status.not_in(states.STEP_DONE),
        )
    )
    query = (
        select(Step)
        .join(Record, Record.id == Step.record_id)
        .where(
            Record.status == states.RUNNING,
            or_(
                and_(Step.status == states.PENDING, Step.available_at <= now),
                and_(Step.status == states.RUNNING, Step.lease_expires_at < now),
            ),
            ~blocked,
        )
        .order_by(Step.available_at, Step.id)
        .limit(1)
    )
    if db.dialect == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Step)
    async with db.write() as session:
        step = (await session.execute(query)).scalar_one_or_none()
        if step is None:
            return None
        step.status = states.RUNNING
        step.attempts += 1
        step.lease_owner = runner
        step.lease_expires_at = now + timedelta(seconds=lease_seconds)
        step.started_at = step.started_at or now
        record = await session.get(Record, step.record_id)
        assert record is not None
        document = await _chain_document(session, record)
        done = await session.execute(
            select(Step.node, Step.result).where(
                Step.record_id == step.record_id, Step.position < step.position
            )
        )
        return ClaimedStep(
            step.id,
            step.record_id,
            step.node,
            step.attempts,
            dict(record.trigger),
            ChainDocument.model_validate(document),
            record.chain_version,
            {node: result or {} for node, result in done.all()},
            step.result,
        )


async def _chain_document(session: Any, record: Record) -> dict[str, Any]:
    row = (
        await session.execute(
            select(ChainVersion.document)
            .join(Chain, Chain.id == ChainVersion.chain_id)
            .where(Chain.name == record.chain_name, ChainVersion.version == record.chain_version)
        )
    ).scalar_one()
    return dict(row)


async def heartbeat(db: Database, step_id: int, runner: str, lease_seconds: float) -> str | None:
    """Extend the lease; returns the record's status, or None when the lease was lost."""
    async with db.write() as session:
        result = await session.execute(
            update(Step)
            .where(Step.id == step_id, Step.lease_owner == runner, Step.status == states.RUNNING)
            .values(lease_expires_at=_now() + timedelta(seconds=lease_seconds))
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            return None
        status = (
            await session.execute(
                select(Record.status)
                .join(Step, Step.record_id == Record.id)
                .where(Step.id == step_id)
            )
        ).scalar_one()
        return str(status)


async def save_progress(db: Database, step_id: int, runner: str, result: dict[str, Any]) -> None:
    """Keep a running step's partial result, so a later attempt can resume from it."""
    async with db.write() as session:
        await session.execute(
            update(Step).where(Step.id == step_id, Step.lease_owner == runner).values(result=result)
        )


async def finish(db: Database, step_id: int, runner: str, outcome: Finish) -> bool:
    """Record the outcome and move the record on; False when this runner lost the lease."""
    async with db.write() as session:
        step = await session.get(Step, step_id)
        if step is None or step.lease_owner != runner or step.status != states.RUNNING:
            return False
        record = await session.get(Record, step.record_id)
        assert record is not None
        step.result = outcome.result
        step.error = outcome.error
        step.lease_owner = None
        step.lease_expires_at = None
        if outcome.retry_in is not None and record.status == states.RUNNING:
            step.status = states.PENDING
            step.available_at = _now() + timedelta(seconds=outcome.retry_in)
            return True
        step.status = outcome.status
        step.ended_at = _now()
        await _advance_record(session, record, step, outcome)
        return True


async def _advance_record(session: Any, record: Record, step: Step, outcome: Finish) -> None:
    if step.status == states.CANCELED or record.status == states.CANCELING:
        await _close_remaining(session, record.id, states.CANCELED)
        end_record(record, states.CANCELED, states.CANCELED, outcome.error)
        return
    if step.status in (states.FAILED, states.DENIED):
        await _close_remaining(session, record.id, states.SKIPPED)
        end_record(record, states.COMPLETE, step.status, outcome.error)
        return
    remaining = (
        await session.execute(
            select(Step.id).where(
                Step.record_id == record.id, Step.status.not_in(states.STEP_FINAL)
            )
        )
    ).first()
    if remaining is None:
        end_record(record, states.COMPLETE, states.SUCCESS)


async def _close_remaining(session: Any, record_id: int, status: str) -> None:
    await session.execute(
        update(Step)
        .where(Step.record_id == record_id, Step.status == states.PENDING)
        .values(status=status, ended_at=_now())
    )


async def release(db: Database, step_id: int, runner: str) -> None:
    """Hand a step back at once (graceful shutdown), instead of waiting for the lease to lapse."""
    async with db.write() as session:
        await session.execute(
            update(Step)
            .where(Step.id == step_id, Step.lease_owner == runner, Step.status == states.RUNNING)
            .values(
                status=states.PENDING, lease_owner=None, lease_expires_at=None, available_at=_now()
            )
        )


async def record_outcome(db: Database, record_id: int) -> Record | None:
    async with db.read() as session:
        return await session.get(Record, record_id)
