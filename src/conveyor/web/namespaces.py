"""/api/v1/namespaces."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from conveyor.auth import audit
from conveyor.auth.identity import Identity
from conveyor.auth.users import find_user
from conveyor.db.models import Member, Namespace, User
from conveyor.db.upsert import upsert
from conveyor.oci.reference import is_valid_name
from conveyor.registry.repositories import delete_namespace, ensure_namespace
from conveyor.web.deps import caller, services, signed_in
from conveyor.web.errors import ApiError

router = APIRouter(prefix="/api/v1/namespaces", tags=["namespaces"])


class NamespaceIn(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    public: bool = False


class NamespaceOut(BaseModel):
    name: str
    public: bool
    createdAt: datetime


def _out(row: Namespace) -> NamespaceOut:
    return NamespaceOut(name=row.name, public=row.public, createdAt=row.created_at)


@router.get("", response_model=list[NamespaceOut])
async def list_namespaces(request: Request) -> list[NamespaceOut]:
    who = await caller(request)
    async with services(request).ctx.db.read() as session:
        rows = (await session.execute(select(Namespace).order_by(Namespace.name))).scalars().all()
        if who.identity.is_admin:
            return [_out(r) for r in rows]
        mine = set()
        if who.identity.user_id is not None:
            mine = set(
                (
                    await session.execute(
                        select(Member.namespace_id).where(Member.user_id == who.identity.user_id)
                    )
                ).scalars()
            )
    return [_out(r) for r in rows if r.public or r.id in mine]


@router.post("", response_model=NamespaceOut, status_code=201)
async def create_namespace(
    body: NamespaceIn, request: Request, identity: Identity = Depends(signed_in)
) -> NamespaceOut:
    if "/" in body.name or not is_valid_name(body.name):
        raise ApiError(400, "INVALID", "namespace names are a-z 0-9 with . _ - between", "name")
    async with services(request).ctx.db.write() as session:
        exists = (
            await session.execute(select(Namespace.id).where(Namespace.name == body.name))
        ).first()
        if exists:
            raise ApiError(409, "CONFLICT", f"namespace {body.name!r} exists", "name")
        row = await ensure_namespace(session, body.name, identity, public=body.public)
        audit.record(
            session,
            audit.NAMESPACE_CREATED,
            actor=identity.name,
            target=body.name,
            detail={"public": body.public},
        )
    return _out(row)


@router.delete("/{name}", status_code=204)
async def remove_namespace(
    name: str, request: Request, identity: Identity = Depends(signed_in)
) -> None:
    async with services(request).ctx.db.write() as session:
        row = (
            await session.execute(select(Namespace).where(Namespace.name == name))
        ).scalar_one_or_none()
        if row is None:
            raise ApiError(404, "NOT_FOUND", f"no namespace {name!r}")
        if not identity.is_admin:
            role = (
                await session.execute(
                    select(Member.role).where(
                        Member.namespace_id == row.id, Member.user_id == identity.user_id
                    )
                )
            ).scalar_one_or_none()
            if role != "owner":
                raise ApiError(403, "DENIED", "only an owner or an administrator may delete it")
        await delete_namespace(session, name)
        audit.record(session, audit.NAMESPACE_DELETED, actor=identity.name, target=name)


class MemberIn(BaseModel):
    user: str = Field(min_length=1, max_length=64)
    role: Literal["owner", "developer", "guest"] = "developer"


class MemberOut(BaseModel):
    user: str
    role: str


async def _namespace_for_owner(session: AsyncSession, name: str, identity: Identity) -> Namespace:
    """The namespace, when the caller owns it or is an administrator."""
    row = (
        await session.execute(select(Namespace).where(Namespace.name == name))
    ).scalar_one_or_none()
    if row is None:
        raise ApiError(404, "NOT_FOUND", f"no namespace {name!r}")
    if identity.is_admin:
        return row
    role = (
        await session.execute(
            select(Member.role).where(
                Member.namespace_id == row.id, Member.user_id == identity.user_id
            )
        )
    ).scalar_one_or_none()
    if role != "owner":
        raise ApiError(403, "DENIED", "only an owner or an administrator may do this")
    return row


@router.get("/{name}/members", response_model=list[MemberOut])
async def list_members(
    name: str, request: Request, identity: Identity = Depends(signed_in)
) -> list[MemberOut]:
    async with services(request).ctx.db.read() as session:
        namespace = await _namespace_for_owner(session, name, identity)
        rows = await session.execute(
            select(User.name, Member.role)
            .join(Member, Member.user_id == User.id)
            .where(Member.namespace_id == namespace.id)
            .order_by(User.name)
        )
        return [MemberOut(user=user, role=role) for user, role in rows.all()]


@router.put("/{name}/members", response_model=MemberOut)
async def set_member(
    name: str, body: MemberIn, request: Request, identity: Identity = Depends(signed_in)
) -> MemberOut:
    async with services(request).ctx.db.write() as session:
        namespace = await _namespace_for_owner(session, name, identity)
        user = await find_user(session, body.user)
        if user is None:
            raise ApiError(404, "NOT_FOUND", f"no user {body.user!r}", "user")
        await upsert(
            session,
            Member,
            ["namespace_id", "user_id"],
            namespace_id=namespace.id,
            user_id=user.id,
            role=body.role,
        )
        audit.record(
            session,
            audit.MEMBER_SET,
            actor=identity.name,
            target=f"{name}/{body.user}",
            detail={"role": body.role},
        )
    return MemberOut(user=body.user, role=body.role)


@router.delete("/{name}/members/{user}", status_code=204)
async def remove_member(
    name: str, user: str, request: Request, identity: Identity = Depends(signed_in)
) -> None:
    async with services(request).ctx.db.write() as session:
        namespace = await _namespace_for_owner(session, name, identity)
        account = await find_user(session, user)
        removed = 0
        if account is not None:
            result = await session.execute(
                delete(Member).where(
                    Member.namespace_id == namespace.id, Member.user_id == account.id
                )
            )
            removed = result.rowcount  # type: ignore[attr-defined]
        if not removed:
            raise ApiError(404, "NOT_FOUND", f"{user!r} is not a member of {name!r}", "user")
        audit.record(session, audit.MEMBER_REMOVED, actor=identity.name, target=f"{name}/{user}")
