"""/api/v1/users (administrators only)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from conveyor.auth import audit
from conveyor.auth.identity import Identity
from conveyor.auth.users import UserError, create_user, delete_user
from conveyor.db.models import User
from conveyor.web.deps import admin, services
from conveyor.web.errors import ApiError

router = APIRouter(prefix="/api/v1/users", tags=["users"])


class UserIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    admin: bool = False


class UserOut(BaseModel):
    name: str
    admin: bool
    createdAt: datetime


@router.get("", response_model=list[UserOut])
async def list_users(request: Request, _: Identity = Depends(admin)) -> list[UserOut]:
    async with services(request).ctx.db.read() as session:
        rows = (await session.execute(select(User).order_by(User.name))).scalars().all()
    return [UserOut(name=r.name, admin=r.is_admin, createdAt=r.created_at) for r in rows]


@router.post("", response_model=UserOut, status_code=201)
async def add_user(body: UserIn, request: Request, identity: Identity = Depends(admin)) -> UserOut:
    try:
        async with services(request).ctx.db.write() as session:
            row = await create_user(session, body.name, body.password, is_admin=body.admin)
            audit.record(
                session,
                audit.USER_CREATED,
                actor=identity.name,
                target=body.name,
                detail={"admin": body.admin},
            )
    except UserError as exc:
        raise ApiError(
            409 if exc.code == "CONFLICT" else 400, exc.code, str(exc), exc.field
        ) from None
    return UserOut(name=row.name, admin=row.is_admin, createdAt=row.created_at)


@router.delete("/{name}", status_code=204)
async def remove_user(name: str, request: Request, identity: Identity = Depends(admin)) -> None:
    if name == identity.name:
        raise ApiError(400, "INVALID", "you cannot delete yourself", "name")
    async with services(request).ctx.db.write() as session:
        if not await delete_user(session, name):
            raise ApiError(404, "NOT_FOUND", f"no user {name!r}")
        audit.record(session, audit.USER_DELETED, actor=identity.name, target=name)
