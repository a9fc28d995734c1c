"""/api/v1/namespaces/{namespace}/robots: robot accounts of a namespace (owner role).

* POST   {"name", "access": "pull"|"push", "expiresIn"?: "30d"} -> the robot and its token (once)
* GET    -> the robots, without tokens
* DELETE /{robot} -> revoked at once (the token and every registry token issued to it)
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from conveyor.auth import audit
from conveyor.auth.expiry import ExpiryError, expires_at
from conveyor.auth.robots import (
    RobotError,
    RobotView,
    create_robot,
    full_name,
    list_robots,
    revoke_robot,
)
from conveyor.db.models import Namespace
from conveyor.web.deps import OWNERS, require_role, services
from conveyor.web.errors import ApiError

router = APIRouter(prefix="/api/v1/namespaces", tags=["robots"])


class RobotIn(BaseModel):
    name: str = Field(min_length=1, max_length=32)
    access: Literal["pull", "push"] = "pull"
    expiresIn: str | None = Field(default=None, max_length=16, description="e.g. 30d, 12h; none")


class RobotOut(BaseModel):
    name: str
    fullName: str = Field(description="the user name to sign in with: robot$<namespace>+<name>")
    namespace: str
    access: str
    expiresAt: datetime | None
    createdBy: str
    createdAt: datetime


class CreatedRobotOut(RobotOut):
    token: str = Field(description="shown this once; only its hash is kept")


def _out(view: RobotView) -> RobotOut:
    return RobotOut(
        name=view.name,
        fullName=view.full_name,
        namespace=view.namespace,
        access=view.access,
        expiresAt=view.expires_at,
        createdBy=view.created_by,
        createdAt=view.created_at,
    )


async def _namespace(session: AsyncSession, name: str) -> Namespace:
    row = (
        await session.execute(select(Namespace).where(Namespace.name == name))
    ).scalar_one_or_none()
    if row is None:
        raise ApiError(404, "NOT_FOUND", f"no namespace {name!r}")
    return row


@router.post("/{namespace}/robots", response_model=CreatedRobotOut, status_code=201)
async def add_robot(namespace: str, body: RobotIn, request: Request) -> CreatedRobotOut:
    identity = await require_role(request, namespace, OWNERS)
    try:
        until = expires_at(body.expiresIn)
    except ExpiryError as exc:
        raise ApiError(400, "INVALID", str(exc), "expiresIn") from None
    async with services(request).ctx.db.write() as session:
        row = await _namespace(session, namespace)
        try:
            view, token = await create_robot(
                session, row, body.name, body.access, until, identity.name
            )
        except RobotError as exc:
            code = "CONFLICT" if exc.status == 409 else "INVALID"
            raise ApiError(exc.status, code, str(exc), exc.field) from None
        audit.record(
            session,
            audit.ROBOT_CREATED,
            actor=identity.name,
            target=view.full_name,
            detail={"access": view.access, "expiresAt": until.isoformat() if until else None},
        )
    return CreatedRobotOut(**_out(view).model_dump(), token=token)


@router.get("/{namespace}/robots", response_model=list[RobotOut])
async def get_robots(namespace: str, request: Request) -> list[RobotOut]:
    await require_role(request, namespace, OWNERS)
    async with services(request).ctx.db.read() as session:
        return [
            _out(view) for view in await list_robots(session, await _namespace(session, namespace))
        ]


@router.delete("/{namespace}/robots/{name}", status_code=204)
async def delete_robot(namespace: str, name: str, request: Request) -> None:
    identity = await require_role(request, namespace, OWNERS)
    async with services(request).ctx.db.write() as session:
        if not await revoke_robot(session, await _namespace(session, namespace), name):
            raise ApiError(404, "NOT_FOUND", f"no robot {name!r} in {namespace!r}")
        audit.record(
            session, audit.ROBOT_REVOKED, actor=identity.name, target=full_name(namespace, name)
        )
