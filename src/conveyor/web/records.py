"""/api/v1/records: what ran, step by step, with logs; cancel and re-run."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy import select

from conveyor.chains import records, states
from conveyor.chains.store import find_chain
from conveyor.db.chain_models import Chain, Delivery, Record, Step, StepLog
from conveyor.web.deps import READERS, WRITERS, has_role, require_role, services, signed_in
from conveyor.web.errors import ApiError

router = APIRouter(prefix="/api/v1/records", tags=["records"])


class AttemptOut(BaseModel):
    target: str
    attempt: int
    statusCode: int | None
    ok: bool
    durationMs: int
    responseExcerpt: str
    error: str | None
    at: datetime


class StepOut(BaseModel):
    id: int
    node: str
    status: str
    startedAt: datetime | None
    endedAt: datetime | None
    attempts: int
    result: dict[str, Any]
    error: str | None
    deliveryAttempts: list[AttemptOut] = []


class RecordOut(BaseModel):
    id: int
    chain: str
    chainVersion: int
    status: str
    result: str | None
    reason: str | None
    trigger: dict[str, Any]
    rerunOf: int | None
    startedAt: datetime
    endedAt: datetime | None
    steps: list[StepOut]


class LogLine(BaseModel):
    step: int
    node: str
    line: int
    stage: str
    text: str
    at: datetime


async def _chain_namespace(session: Any, chain_name: str) -> str | None:
    chain = await find_chain(session, chain_name)
    return chain.namespace if chain else None


async def _readable_record(request: Request, record_id: int) -> Record:
    await signed_in(request)  # 401 first: records are never public
    if not 0 < record_id < 2**63:  # beyond what the database's integers hold
        raise ApiError(404, "NOT_FOUND", f"no record {record_id}")
    async with services(request).ctx.db.read() as session:
        record = await session.get(Record, record_id)
        namespace = await _chain_namespace(session, record.chain_name) if record else None
    if record is None or namespace is None:
        raise ApiError(404, "NOT_FOUND", f"no record {record_id}")
    try:
        await require_role(request, namespace, READERS)
    except ApiError:
        raise ApiError(404, "NOT_FOUND", f"no record {record_id}") from None
    return record


async def record_out(session: Any, record: Record) -> RecordOut:
    steps = (
        await session.execute(
            select(Step).where(Step.record_id == record.id).order_by(Step.position)
        )
    ).scalars()
    out_steps = []
    for step in steps:
        attempts = (
            await session.execute(
                select(Delivery).where(Delivery.step_id == step.id).order_by(Delivery.id)
            )
        ).scalars()
        out_steps.append(
            StepOut(
                id=step.id,
                node=step.node,
                status=step.status,
                startedAt=step.started_at,
                endedAt=step.ended_at,
                attempts=step.attempts,
                result=step.result or {},
                error=step.error,
                deliveryAttempts=[
                    AttemptOut(
                        target=a.target,
                        attempt=a.attempt,
                        statusCode=a.status_code,
                        ok=a.ok,
                        durationMs=a.duration_ms,
                        responseExcerpt=a.response_excerpt,
                        error=a.error,
                        at=a.at,
                    )
                    for a in attempts
                ],
            )
        )
    return RecordOut(
        id=record.id,
        chain=record.chain_name,
        chainVersion=record.chain_version,
        status=record.status,
        result=record.result,
        reason=record.reason,
        trigger=record.trigger,
        rerunOf=record.rerun_of,
        startedAt=record.started_at,
        endedAt=record.ended_at,
        steps=out_steps,
    )


@router.get("", response_model=list[RecordOut])
async def list_records(
    request: Request, chain: str | None = None, limit: int = 50
) -> list[RecordOut]:
    identity = await signed_in(request)
    limit = max(1, min(limit, 500))
    async with services(request).ctx.db.read() as session:
        query = (
            select(Record, Chain.namespace)
            .join(Chain, Chain.name == Record.chain_name)
            .order_by(Record.id.desc())
            .limit(limit)
        )
        if chain:
            query = query.where(Record.chain_name == chain)
        rows = (await session.execute(query)).all()
        result = []
        for record, namespace in rows:
            if identity.is_admin or await has_role(request, namespace, READERS):
                result.append(await record_out(session, record))
    return result


@router.get("/{record_id}", response_model=RecordOut)
async def get_record(record_id: int, request: Request) -> RecordOut:
    record = await _readable_record(request, record_id)
    async with services(request).ctx.db.read() as session:
        return await record_out(session, record)


@router.get("/{record_id}/logs", response_model=list[LogLine])
async def get_logs(record_id: int, request: Request, follow: bool = False) -> Any:
    await _readable_record(request, record_id)
    if follow:
        return StreamingResponse(_follow(request, record_id), media_type="application/x-ndjson")
    return await _lines_after(request, record_id, 0)


async def _lines_after(request: Request, record_id: int, after: int) -> list[LogLine]:
    async with services(request).ctx.db.read() as session:
        rows = await session.execute(
            select(StepLog, Step.node)
            .join(Step, Step.id == StepLog.step_id)
            .where(Step.record_id == record_id, StepLog.id > after)
            .order_by(StepLog.id)
            .limit(5000)
        )
        return [
            LogLine(
                step=log.step_id,
                node=node,
                line=log.line,
                stage=log.stage,
                text=log.text,
                at=log.at,
            )
            for log, node in rows.all()
        ]


async def _follow(request: Request, record_id: int) -> AsyncIterator[bytes]:
    """Lines as they are written, until the record ends (bounded to one hour)."""
    seen = 0
    for _ in range(7200):
        async with services(request).ctx.db.read() as session:
            rows = (
                await session.execute(
                    select(
                        StepLog.id,
                        StepLog.step_id,
                        Step.node,
                        StepLog.line,
                        StepLog.stage,
                        StepLog.text,
                    )
                    .join(Step, Step.id == StepLog.step_id)
                    .where(Step.record_id == record_id, StepLog.id > seen)
                    .order_by(StepLog.id)
                )
            ).all()
            record = await session.get(Record, record_id)
        for row in rows:
            seen = row[0]
            line = {"step": row[1], "node": row[2], "line": row[3], "stage": row[4], "text": row[5]}
            yield (json.dumps(line) + "\n").encode()
        if record is None or record.status in (states.COMPLETE, states.CANCELED):
            return
        await asyncio.sleep(0.5)


@router.post("/{record_id}/cancel", response_model=RecordOut)
async def cancel_record(record_id: int, request: Request) -> RecordOut:
    record = await _readable_record(request, record_id)
    async with services(request).ctx.db.read() as session:
        namespace = await _chain_namespace(session, record.chain_name)
    await require_role(request, namespace or "", WRITERS)
    async with services(request).ctx.db.write() as session:
        await records.cancel(session, record_id)
    async with services(request).ctx.db.read() as session:
        fresh = await session.get(Record, record_id)
        assert fresh is not None
        return await record_out(session, fresh)


@router.post("/{record_id}/rerun", response_model=RecordOut, status_code=201)
async def rerun_record(record_id: int, request: Request) -> RecordOut:
    record = await _readable_record(request, record_id)
    async with services(request).ctx.db.read() as session:
        namespace = await _chain_namespace(session, record.chain_name)
    await require_role(request, namespace or "", WRITERS)
    async with services(request).ctx.db.write() as session:
        new_id = await records.rerun(session, record)
    if new_id is None:
        raise ApiError(409, "CONFLICT", f"chain {record.chain_name!r} no longer exists")
    services(request).wake_runners()
    async with services(request).ctx.db.read() as session:
        fresh = await session.get(Record, new_id)
        assert fresh is not None
        return await record_out(session, fresh)
