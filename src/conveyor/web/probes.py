"""Probes for load balancers, Kubernetes and Prometheus: /healthz, /readyz, /metrics.

Served by `conveyor serve` and by `conveyor runner` (on its `--listen` address) alike; both put
their RegistryContext in `app.state.ctx`.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select

from conveyor.chains import states
from conveyor.db.chain_models import Step
from conveyor.observability.metrics import QUEUE_DEPTH
from conveyor.registry.context import RegistryContext

router = APIRouter(tags=["probes"])


def _ctx(request: Request) -> RegistryContext:
    ctx: RegistryContext = request.app.state.ctx
    return ctx


def probe_app(ctx: RegistryContext) -> FastAPI:
    """The probes alone, for processes that serve nothing else."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.ctx = ctx
    app.include_router(router)
    return app


@router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    """The process answers (liveness)."""
    return {"status": "ok"}


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> Response:
    """The database and the blob store answer (readiness): take traffic only then."""
    ctx = _ctx(request)
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
    async with _ctx(request).db.read() as session:
        depth = await session.execute(
            select(Step.node, func.count(Step.id))
            .where(Step.status == states.PENDING)
            .group_by(Step.node)
        )
        counts = dict(depth.all())
    for node in states.NODE_ORDER:
        QUEUE_DEPTH.labels(node).set(counts.get(node, 0))
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
