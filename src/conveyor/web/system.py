"""/healthz, /readyz, /metrics and /api/v1/gc."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from conveyor.auth.identity import Identity
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


@router.post("/api/v1/gc", response_model=GcOut)
async def run_gc(body: GcIn, request: Request, _: Identity = Depends(admin)) -> GcOut:
    report = await collect(services(request).ctx, dry_run=body.dryRun)
    return GcOut.model_validate(report.to_json())
