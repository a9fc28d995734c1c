"""Records: the list with filters, a record's page (steps, logs, results), Cancel and Re-run."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from conveyor.chains import records as chain_records
from conveyor.chains import states
from conveyor.chains.store import find_chain
from conveyor.db.chain_models import Record, Step, StepLog
from conveyor.web.console import catalog
from conveyor.web.console.access import (
    READERS,
    WRITERS,
    Viewer,
    acting_viewer,
    has_role,
    require_role,
    viewer,
)
from conveyor.web.console.errors import ConsoleError
from conveyor.web.console.render import fragment, page
from conveyor.web.deps import services
from conveyor.web.records import RecordOut, record_out

router = APIRouter(include_in_schema=False)
STATUSES = (states.RUNNING, states.COMPLETE, states.CANCELING, states.CANCELED)
RESULTS = (states.SUCCESS, states.FAILED, states.CANCELED, states.DENIED)
PAGE_SIZE = 50
LIVE = frozenset({states.RUNNING, states.CANCELING})


@dataclass(frozen=True, slots=True)
class Filters:
    chain: str = ""
    status: str = ""
    result: str = ""
    since: str = ""  # datetime-local text, UTC
    until: str = ""
    before: int | None = None

    def query(self) -> dict[str, str]:
        return {
            k: v
            for k, v in (
                ("chain", self.chain),
                ("status", self.status),
                ("result", self.result),
                ("since", self.since),
                ("until", self.until),
            )
            if v
        }


def _moment(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


@router.get("/records")
async def records_page(
    request: Request,
    chain: str = "",
    status: str = "",
    result: str = "",
    since: str = "",
    until: str = "",
    before: int | None = None,
    who: Viewer = Depends(viewer),
) -> Response:
    filters = Filters(chain, status, result, since, until, before)
    allowed = await catalog.readable_namespaces(request, who)
    query = catalog.limit_to(select(Record), allowed)
    if filters.chain:
        query = query.where(Record.chain_name == filters.chain)
    if filters.status in STATUSES:
        query = query.where(Record.status == filters.status)
    if filters.result in RESULTS:
        query = query.where(Record.result == filters.result)
    if (start := _moment(filters.since)) is not None:
        query = query.where(Record.started_at >= start)
    if (end := _moment(filters.until)) is not None:
        query = query.where(Record.started_at <= end)
    if filters.before is not None:
        query = query.where(Record.id < filters.before)
    async with services(request).ctx.db.read() as db:
        rows = list(
            (await db.execute(query.order_by(Record.id.desc()).limit(PAGE_SIZE + 1))).scalars()
        )
        nodes = await _nodes(db, [r.id for r in rows[:PAGE_SIZE]])
    chains = [c.name for c in await catalog.chains(request, who)]
    return page(
        request,
        "records.html",
        who,
        title="Records",
        records=rows[:PAGE_SIZE],
        nodes=nodes,
        older=rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None,
        filters=filters,
        chains=chains,
        statuses=STATUSES,
        results=RESULTS,
    )


async def _nodes(db: AsyncSession, ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """Each record's steps as (node, status), for the list's small node row."""
    found: dict[int, list[tuple[str, str]]] = {i: [] for i in ids}
    if ids:
        rows = await db.execute(
            select(Step.record_id, Step.node, Step.status)
            .where(Step.record_id.in_(ids))
            .order_by(Step.record_id, Step.position)
        )
        for record_id, node, status in rows.all():
            found[record_id].append((node, status))
    return found


async def readable_record(request: Request, who: Viewer, record_id: int) -> tuple[Record, str]:
    """The record and its chain's namespace, when the viewer may read it (else 404)."""
    async with services(request).ctx.db.read() as db:
        record = await db.get(Record, record_id)
        chain = await find_chain(db, record.chain_name) if record else None
    if (
        record is None
        or chain is None
        or not await has_role(request, who, chain.namespace, READERS)
    ):
        raise ConsoleError(404, f"There is no record {record_id}, or you may not see it.")
    return record, chain.namespace


def live_context(out: RecordOut, csrf: str, may_act: bool) -> dict[str, Any]:
    return {"record": out, "csrf": csrf, "may_act": may_act, "live": out.status in LIVE}


def live_html(out: RecordOut, csrf: str, may_act: bool) -> str:
    return fragment("record_live.html", **live_context(out, csrf, may_act))


def fingerprint(html: str) -> str:
    return hashlib.sha256(html.encode()).hexdigest()[:16]


@router.get("/records/{record_id}")
async def record_page(record_id: int, request: Request, who: Viewer = Depends(viewer)) -> Response:
    record, namespace = await readable_record(request, who, record_id)
    async with services(request).ctx.db.read() as db:
        out = await record_out(db, record)
        logs = (
            await db.execute(
                select(StepLog, Step.node)
                .join(Step, Step.id == StepLog.step_id)
                .where(Step.record_id == record_id)
                .order_by(StepLog.id)
                .limit(5000)
            )
        ).all()
        reruns = list(
            (
                await db.execute(
                    select(Record.id).where(Record.rerun_of == record_id).order_by(Record.id)
                )
            ).scalars()
        )
    may_act = await has_role(request, who, namespace, WRITERS)
    html = live_html(out, who.csrf, may_act)
    return page(
        request,
        "record.html",
        who,
        title=f"Record {record_id}",
        record=out,
        live=html,
        live_version=fingerprint(html),
        is_live=out.status in LIVE,
        logs=[(log, node) for log, node in logs],
        last_log=logs[-1][0].id if logs else 0,
        reruns=reruns,
    )


@router.post("/records/{record_id}/cancel")
async def cancel(
    record_id: int, request: Request, who: Viewer = Depends(acting_viewer)
) -> Response:
    _record, namespace = await readable_record(request, who, record_id)
    await require_role(request, who, namespace, WRITERS)
    async with services(request).ctx.db.write() as db:
        await chain_records.cancel(db, record_id)
    services(request).wake_runners()
    return RedirectResponse(f"/records/{record_id}", status_code=303)


@router.post("/records/{record_id}/rerun")
async def rerun(record_id: int, request: Request, who: Viewer = Depends(acting_viewer)) -> Response:
    record, namespace = await readable_record(request, who, record_id)
    await require_role(request, who, namespace, WRITERS)
    async with services(request).ctx.db.write() as db:
        new_id = await chain_records.rerun(db, record)
    if new_id is None:
        raise ConsoleError(409, f"Chain {record.chain_name!r} no longer exists.")
    services(request).wake_runners()
    return RedirectResponse(f"/records/{new_id}", status_code=303)
