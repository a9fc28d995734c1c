"""/api/v1/endpoints: remote registries that sync rules copy to. Passwords go in, never out."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import delete, select

from conveyor.auth import audit
from conveyor.auth.identity import Identity
from conveyor.db.chain_models import Endpoint
from conveyor.web.deps import admin, services, signed_in
from conveyor.web.errors import ApiError

router = APIRouter(prefix="/api/v1/endpoints", tags=["endpoints"])


class EndpointIn(BaseModel):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    url: str = Field(max_length=1024)
    username: str | None = Field(default=None, max_length=255)
    password: str | None = Field(default=None, max_length=4096)
    insecure: bool = False
    region: str | None = Field(default=None, max_length=64)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.path not in ("", "/")
        ):
            raise ValueError("a registry base URL: http(s)://host[:port]")
        return value.rstrip("/")


class EndpointOut(BaseModel):
    name: str
    url: str
    username: str | None
    hasPassword: bool
    insecure: bool
    region: str | None
    createdAt: datetime


def _out(row: Endpoint) -> EndpointOut:
    return EndpointOut(
        name=row.name,
        url=row.url,
        username=row.username,
        hasPassword=row.password_ciphertext is not None,
        insecure=row.insecure,
        region=row.region,
        createdAt=row.created_at,
    )


@router.get("", response_model=list[EndpointOut])
async def list_endpoints(request: Request, _: Identity = Depends(signed_in)) -> list[EndpointOut]:
    async with services(request).ctx.db.read() as session:
        rows = (await session.execute(select(Endpoint).order_by(Endpoint.name))).scalars()
        return [_out(row) for row in rows]


@router.post("", response_model=EndpointOut, status_code=201)
async def add_endpoint(
    body: EndpointIn, request: Request, identity: Identity = Depends(admin)
) -> EndpointOut:
    svc = services(request)
    nonce, ciphertext = (None, None)
    if body.password:
        nonce, ciphertext = svc.box.seal(f"endpoint:{body.name}", body.password)
    async with svc.ctx.db.write() as session:
        if await session.get(Endpoint, body.name) is not None:
            raise ApiError(409, "CONFLICT", f"endpoint {body.name!r} exists", "name")
        row = Endpoint(
            name=body.name,
            url=body.url,
            username=body.username,
            password_nonce=nonce,
            password_ciphertext=ciphertext,
            insecure=body.insecure,
            region=body.region,
        )
        session.add(row)
        await session.flush()
        audit.record(
            session,
            audit.ENDPOINT_ADDED,
            actor=identity.name,
            target=body.name,
            detail={"url": body.url, "username": body.username},
        )
        return _out(row)


@router.delete("/{name}", status_code=204)
async def remove_endpoint(name: str, request: Request, identity: Identity = Depends(admin)) -> None:
    async with services(request).ctx.db.write() as session:
        result = await session.execute(delete(Endpoint).where(Endpoint.name == name))
        if not result.rowcount:  # type: ignore[attr-defined]
            raise ApiError(404, "NOT_FOUND", f"no endpoint {name!r}")
        audit.record(session, audit.ENDPOINT_REMOVED, actor=identity.name, target=name)
