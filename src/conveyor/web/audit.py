"""GET /api/v1/audit (administrators): the audit log, newest first.

Filters: `user` (the actor), `action` (`robot.create`, or a whole area: `robot`), `since` and
`until` (ISO times), `outcome` (success | failure); paging with `before` (an entry id) and `limit`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from conveyor.auth.audit import AuditQuery, search
from conveyor.auth.identity import Identity
from conveyor.web.deps import admin, services

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    outcome: str
    clientIp: str
    detail: dict[str, Any]


@router.get("", response_model=list[AuditOut])
async def get_audit(
    request: Request,
    user: str | None = Query(default=None, max_length=128),
    action: str | None = Query(default=None, max_length=64),
    since: datetime | None = None,
    until: datetime | None = None,
    outcome: Literal["success", "failure"] | None = None,
    before: int | None = Query(default=None, ge=1, le=2**62),
    limit: int = Query(default=100, ge=1, le=1000),
    _: Identity = Depends(admin),
) -> list[AuditOut]:
    query = AuditQuery(
        actor=user,
        action=action,
        since=_utc(since),
        until=_utc(until),
        outcome=outcome,
        before_id=before,
        limit=limit,
    )
    async with services(request).ctx.db.read() as session:
        rows = await search(session, query)
    return [
        AuditOut(
            id=row.id,
            at=_utc(row.at) or row.at,
            actor=row.actor,
            action=row.action,
            target=row.target,
            outcome=row.outcome,
            clientIp=row.client_ip,
            detail=row.detail or {},
        )
        for row in rows
    ]


def _utc(moment: datetime | None) -> datetime | None:
    """Naive times are UTC (and SQLite returns naive ones); compare everything in UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
