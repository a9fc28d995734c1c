"""Chains: the list, a chain's page (its nodes as a row), YAML export and delete."""

from __future__ import annotations

from typing import Any

import yaml
from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from starlette.responses import RedirectResponse, Response

from conveyor.auth import audit
from conveyor.chains.store import current_document, delete_chain, find_chain
from conveyor.db.chain_models import Chain, ChainVersion, Record
from conveyor.web.console import catalog
from conveyor.web.console.access import (
    OWNERS,
    READERS,
    Viewer,
    acting_viewer,
    has_role,
    require_role,
    viewer,
)
from conveyor.web.console.errors import ConsoleError
from conveyor.web.console.render import page
from conveyor.web.deps import services

router = APIRouter(include_in_schema=False)


@router.get("/chains")
async def chains_page(request: Request, who: Viewer = Depends(viewer)) -> Response:
    chains = await catalog.chains(request, who)
    rows = []
    async with services(request).ctx.db.read() as db:
        for chain in chains:
            document = await current_document(db, chain)
            last = (
                await db.execute(
                    select(Record)
                    .where(Record.chain_name == chain.name)
                    .order_by(Record.id.desc())
                    .limit(1)
                )
            ).scalar_one_or_none()
            rows.append({"chain": chain, "document": document, "last": last})
    return page(request, "chains.html", who, title="Delivery chains", rows=rows)


async def _readable(request: Request, who: Viewer, name: str) -> Chain:
    async with services(request).ctx.db.read() as db:
        chain = await find_chain(db, name)
    if chain is None or not await has_role(request, who, chain.namespace, READERS):
        raise ConsoleError(404, f"There is no chain {name!r}, or you may not see it.")
    return chain


@router.get("/chains/{name}")
async def chain_page(
    name: str, request: Request, saved: int | None = None, who: Viewer = Depends(viewer)
) -> Response:
    chain = await _readable(request, who, name)
    async with services(request).ctx.db.read() as db:
        document = await current_document(db, chain)
        records = list(
            (
                await db.execute(
                    select(Record)
                    .where(Record.chain_name == chain.name)
                    .order_by(Record.id.desc())
                    .limit(10)
                )
            ).scalars()
        )
        versions = list(
            (
                await db.execute(
                    select(ChainVersion)
                    .where(ChainVersion.chain_id == chain.id)
                    .order_by(ChainVersion.version.desc())
                    .limit(20)
                )
            ).scalars()
        )
    return page(
        request,
        "chain.html",
        who,
        title=f"Chain {chain.name}",
        chain=chain,
        document=document,
        spec=document.get("spec", {}),
        records=records,
        versions=versions,
        saved=saved,
        may_edit=await has_role(request, who, chain.namespace, OWNERS),
    )


@router.get("/chains/{name}/export")
async def export_chain(
    name: str, request: Request, version: int | None = None, who: Viewer = Depends(viewer)
) -> Response:
    chain = await _readable(request, who, name)
    async with services(request).ctx.db.read() as db:
        if version is None:
            document: dict[str, Any] | None = await current_document(db, chain)
        else:
            document = (
                await db.execute(
                    select(ChainVersion.document).where(
                        ChainVersion.chain_id == chain.id, ChainVersion.version == version
                    )
                )
            ).scalar_one_or_none()
    if document is None:
        raise ConsoleError(404, f"Chain {name!r} has no version {version}.")
    suffix = f"-v{version}" if version is not None else ""
    return Response(
        yaml.safe_dump(document, sort_keys=False),
        media_type="application/yaml",
        headers={"Content-Disposition": f'attachment; filename="{chain.name}{suffix}.yaml"'},
    )


@router.post("/chains/{name}/delete")
async def remove_chain(
    name: str, request: Request, who: Viewer = Depends(acting_viewer)
) -> Response:
    chain = await _readable(request, who, name)
    await require_role(request, who, chain.namespace, OWNERS)
    async with services(request).ctx.db.write() as db:
        await delete_chain(db, name)
        audit.record(db, audit.CHAIN_DELETED, actor=who.name, target=name)
    return RedirectResponse("/chains", status_code=303)
