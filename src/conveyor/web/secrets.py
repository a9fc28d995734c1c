"""/api/v1/secrets: values go in, never come out."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from conveyor.auth import audit
from conveyor.auth.identity import Identity
from conveyor.auth.secrets import SecretError, list_secrets, put_secret, remove_secret
from conveyor.web.deps import admin, services
from conveyor.web.errors import ApiError

router = APIRouter(prefix="/api/v1/secrets", tags=["secrets"])
NAME = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


class SecretIn(BaseModel):
    value: str = Field(min_length=1, max_length=65536)


class SecretOut(BaseModel):
    name: str
    createdAt: datetime
    updatedAt: datetime


@router.get("", response_model=list[SecretOut])
async def get_secrets(request: Request, _: Identity = Depends(admin)) -> list[SecretOut]:
    async with services(request).ctx.db.read() as session:
        rows = await list_secrets(session)
    return [SecretOut(name=r.name, createdAt=r.created_at, updatedAt=r.updated_at) for r in rows]


@router.put("/{name}", status_code=204)
async def set_secret(
    name: str, body: SecretIn, request: Request, identity: Identity = Depends(admin)
) -> None:
    import re

    if not re.fullmatch(NAME, name):
        raise ApiError(400, "INVALID", "secret names are 1-64 of a-z 0-9 _ . -", "name")
    svc = services(request)
    try:
        async with svc.ctx.db.write() as session:
            await put_secret(session, svc.box, name, body.value)
            audit.record(session, audit.SECRET_SET, actor=identity.name, target=name)
    except SecretError as exc:
        raise ApiError(400, "INVALID", str(exc), "value") from None


@router.delete("/{name}", status_code=204)
async def delete_secret(name: str, request: Request, identity: Identity = Depends(admin)) -> None:
    async with services(request).ctx.db.write() as session:
        if not await remove_secret(session, name):
            raise ApiError(404, "NOT_FOUND", f"no secret {name!r}")
        audit.record(session, audit.SECRET_REMOVED, actor=identity.name, target=name)
