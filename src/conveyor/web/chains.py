"""/api/v1/chains: apply (create or new version), list, show, versions, delete."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel
from sqlalchemy import select

from conveyor.auth import audit
from conveyor.chains.schema import ChainDocument
from conveyor.chains.store import (
    ChainInvalid,
    current_document,
    delete_chain,
    find_chain,
    list_chains,
    parse_document,
    save_chain,
)
from conveyor.db.chain_models import Chain, ChainVersion
from conveyor.web.deps import OWNERS, READERS, has_role, require_role, services, signed_in
from conveyor.web.errors import ApiError

router = APIRouter(prefix="/api/v1/chains", tags=["chains"])


class ChainOut(BaseModel):
    name: str
    namespace: str
    version: int
    createdAt: datetime
    updatedAt: datetime
    document: dict[str, Any]


class ApplyOut(BaseModel):
    name: str
    version: int
    created: bool
    changed: bool


async def _out(session: Any, chain: Chain) -> ChainOut:
    return ChainOut(
        name=chain.name,
        namespace=chain.namespace,
        version=chain.version,
        createdAt=chain.created_at,
        updatedAt=chain.updated_at,
        document=await current_document(session, chain),
    )


@router.post("", response_model=ApplyOut)
async def apply_chain(request: Request, document: dict[str, Any] = Body(...)) -> ApplyOut:
    try:
        doc = parse_document(document)
    except ChainInvalid as exc:
        raise ApiError(400, "INVALID", str(exc), exc.field) from None
    identity = await require_role(request, doc.spec.scope.namespace, OWNERS)
    async with services(request).ctx.db.write() as session:
        existing = await find_chain(session, doc.metadata.name)
        if existing is not None and existing.namespace != doc.spec.scope.namespace:
            await require_role(request, existing.namespace, OWNERS)
        try:
            saved = await save_chain(session, doc, identity.name)
        except ChainInvalid as exc:
            raise ApiError(400, "INVALID", str(exc), exc.field) from None
        if saved.changed:
            audit_chain_applied(session, identity.name, saved.name, saved.version, doc)
    return ApplyOut(
        name=saved.name, version=saved.version, created=saved.created, changed=saved.changed
    )


@router.get("", response_model=list[ChainOut])
async def get_chains(request: Request) -> list[ChainOut]:
    identity = await signed_in(request)
    result = []
    async with services(request).ctx.db.read() as session:
        for chain in await list_chains(session):
            if identity.is_admin or await has_role(request, chain.namespace, READERS):
                result.append(await _out(session, chain))
    return result


async def readable_chain(request: Request, name: str) -> Chain:
    await signed_in(request)  # 401 first: chains are never public
    async with services(request).ctx.db.read() as session:
        chain = await find_chain(session, name)
    if chain is None or not await has_role(request, chain.namespace, READERS):
        raise ApiError(404, "NOT_FOUND", f"no chain {name!r}")
    return chain


@router.get("/{name}", response_model=ChainOut)
async def get_chain(name: str, request: Request) -> ChainOut:
    chain = await readable_chain(request, name)
    async with services(request).ctx.db.read() as session:
        return await _out(session, chain)


@router.get("/{name}/versions/{version}", response_model=dict[str, Any])
async def get_chain_version(name: str, version: int, request: Request) -> dict[str, Any]:
    chain = await readable_chain(request, name)
    if not 0 < version < 2**31:
        raise ApiError(404, "NOT_FOUND", f"chain {name!r} has no version {version}")
    async with services(request).ctx.db.read() as session:
        row = (
            await session.execute(
                select(ChainVersion.document).where(
                    ChainVersion.chain_id == chain.id, ChainVersion.version == version
                )
            )
        ).scalar_one_or_none()
    if row is None:
        raise ApiError(404, "NOT_FOUND", f"chain {name!r} has no version {version}")
    return dict(row)


@router.delete("/{name}", status_code=204)
async def remove_chain(name: str, request: Request) -> None:
    chain = await readable_chain(request, name)
    identity = await require_role(request, chain.namespace, OWNERS)
    async with services(request).ctx.db.write() as session:
        await delete_chain(session, name)
        audit.record(session, audit.CHAIN_DELETED, actor=identity.name, target=name)


def audit_chain_applied(
    session: Any, actor: str, name: str, version: int, doc: ChainDocument
) -> None:
    """A new chain version, in the audit log (the API's and the console's)."""
    audit.record(
        session,
        audit.CHAIN_APPLIED,
        actor=actor,
        target=name,
        detail={"version": version, "namespace": doc.spec.scope.namespace},
    )
