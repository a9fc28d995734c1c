"""/healthz, /readyz, /metrics and /api/v1/gc."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import func, select

from conveyor.auth.identity import Identity
from conveyor.chains import states
from conveyor.db.chain_models import Step
from conveyor.observability.metrics import QUEUE_DEPTH
from conveyor.registry.gc import collect
from conveyor.web.deps import admin, services

router = APIRouter(tags=["system"])


class GcIn(BaseModel):
    dryRun: bool = False


class GcOut(BaseModel):
    dryRun: bool
    blobsDeleted: int
    bytesFreed: int
    uploadsDeleted: int
    orphansDeleted: int


@router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    """The process answers (liveness)."""
    return {"status": "ok"}


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> Response:
    """The database and the blob store answer (readiness): take traffic only then."""
    ctx = services(request).ctx
    problems = []
    try:
        async with ctx.db.read() as session:
            await session.execute(select(1))
    except Exception as exc:
        problems.append(f"database: {type(exc).__name__}")
    try:
        await ctx.store.stat("readyz-probe")
    except Exception as exc:
        problems.append(f"storage: {type(exc).__name__}")
    body = {"status": "not ready" if problems else "ready", "problems": problems}
    return JSONResponse(body, status_code=503 if problems else 200)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    async with services(request).ctx.db.read() as session:
        depth = await session.execute(
            select(Step.node, func.count(Step.id))
            .where(Step.status == states.PENDING)
            .group_by(Step.node)
        )
        counts = dict(depth.all())
    for node in states.NODE_ORDER:
        QUEUE_DEPTH.labels(node).set(counts.get(node, 0))
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.post("/api/v1/gc", response_model=GcOut)
async def run_gc(body: GcIn, request: Request, _: Identity = Depends(admin)) -> GcOut:
    report = await collect(services(request).ctx, dry_run=body.dryRun)
    return GcOut.model_validate(report.to_json())
