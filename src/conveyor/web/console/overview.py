"""The overview: the instance, its namespaces and repositories, and the latest records."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from starlette.responses import Response

from conveyor.chains import states
from conveyor.db.chain_models import Record
from conveyor.web.console import catalog
from conveyor.web.console.access import Viewer, viewer
from conveyor.web.console.render import page
from conveyor.web.deps import services

router = APIRouter(include_in_schema=False)


@router.get("/")
async def overview(request: Request, who: Viewer = Depends(viewer)) -> Response:
    namespaces = await catalog.namespaces(request, who)
    repositories = await catalog.repositories(request, who)
    chains = await catalog.chains(request, who)
    allowed = await catalog.readable_namespaces(request, who)
    async with services(request).ctx.db.read() as db:
        query = catalog.limit_to(select(Record), allowed)
        recent = list((await db.execute(query.order_by(Record.id.desc()).limit(10))).scalars())
        running = list(
            (
                await db.execute(
                    catalog.limit_to(select(Record), allowed).where(
                        Record.status.in_((states.RUNNING, states.CANCELING))
                    )
                )
            ).scalars()
        )
    newest = sorted(repositories, key=lambda r: r.created_at, reverse=True)[:10]
    return page(
        request,
        "overview.html",
        who,
        title="Overview",
        namespaces=namespaces,
        repositories=newest,
        repository_count=len(repositories),
        chain_count=len(chains),
        running=len(running),
        records=recent,
    )
