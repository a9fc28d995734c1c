"""A running record's page, live: server-sent events with the re-rendered steps and new log
lines, until the record ends.

One connection lasts at most `MAX_SECONDS`, so a stopping server is never held up for long by
an open page; the browser's EventSource then reconnects by itself, and `Last-Event-ID` (the id
of the last log line it received) makes the new stream go on where the old one stopped."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from starlette.responses import Response, StreamingResponse

from conveyor.db.chain_models import Record, Step, StepLog
from conveyor.web.console.access import WRITERS, Viewer, has_role, viewer
from conveyor.web.console.record_pages import LIVE, fingerprint, live_html, readable_record
from conveyor.web.deps import services
from conveyor.web.records import record_out

router = APIRouter(include_in_schema=False)
POLL_SECONDS = 0.5
MAX_SECONDS = 25
RECONNECT_MS = 1000


def event(name: str, data: str, event_id: int | None = None) -> bytes:
    lines = "".join(f"data: {line}\n" for line in data.split("\n"))
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\n{lines}\n".encode()


@router.get("/records/{record_id}/events")
async def record_events(
    record_id: int,
    request: Request,
    after: int = 0,
    version: str = "",
    who: Viewer = Depends(viewer),
) -> Response:
    _record, namespace = await readable_record(request, who, record_id)
    may_act = await has_role(request, who, namespace, WRITERS)
    resumed = request.headers.get("last-event-id", "")
    if resumed.isdigit():
        after = max(after, int(resumed))
    return StreamingResponse(
        _stream(request, who, record_id, after, version, may_act),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _stream(
    request: Request, who: Viewer, record_id: int, after: int, version: str, may_act: bool
) -> AsyncIterator[bytes]:
    db = services(request).ctx.db
    seen, shown = after, version
    yield f"retry: {RECONNECT_MS}\n\n".encode()
    for _ in range(int(MAX_SECONDS / POLL_SECONDS)):
        if await request.is_disconnected():
            return
        async with db.read() as session:
            record = await session.get(Record, record_id)
            if record is None:
                yield event("end", "gone")
                return
            out = await record_out(session, record)
            lines = (
                await session.execute(
                    select(StepLog, Step.node)
                    .join(Step, Step.id == StepLog.step_id)
                    .where(Step.record_id == record_id, StepLog.id > seen)
                    .order_by(StepLog.id)
                    .limit(1000)
                )
            ).all()
        for log, node in lines:
            seen = log.id
            line = {"node": node, "stage": log.stage, "line": log.line, "text": log.text}
            yield event("log", json.dumps(line), log.id)
        html = live_html(out, who.csrf, may_act)
        if fingerprint(html) != shown:
            shown = fingerprint(html)
            yield event("record", html)
        if out.status not in LIVE:
            yield event("end", out.status)
            return
        await asyncio.sleep(POLL_SECONDS)
