"""POST /api/v1/chains/{name}/builds {"rule": N, "ref"?}: a manual build (developer role).

Refused, with the reason, for rules only the system may build (regex ref, buildTime, commitId).
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from conveyor.build.events import PushEvent
from conveyor.build.gitremote import GitError, resolve
from conveyor.build.intake import start_rule
from conveyor.build.manual import ManualBuildRefused, plan_manual_build
from conveyor.build.sources import SourceError, find_source, load_credentials
from conveyor.chains.schema import ChainDocument
from conveyor.chains.store import current_document, find_chain
from conveyor.db.chain_models import Record
from conveyor.web.build_sources import build_options
from conveyor.web.chains import readable_chain
from conveyor.web.deps import WRITERS, require_role, services
from conveyor.web.errors import ApiError
from conveyor.web.records import RecordOut, record_out

router = APIRouter(prefix="/api/v1/chains", tags=["build"])


class BuildIn(BaseModel):
    rule: int = Field(ge=1, le=20)
    ref: str | None = Field(default=None, max_length=300)


@router.post("/{name}/builds", response_model=RecordOut, status_code=201)
async def manual_build(name: str, body: BuildIn, request: Request) -> RecordOut:
    svc = services(request)
    options = build_options(request)
    await readable_chain(request, name)  # 404 to whoever may not read it, as GET /chains/{name}
    async with svc.ctx.db.read() as session:
        chain = await find_chain(session, name)
        if chain is None:
            raise ApiError(404, "NOT_FOUND", f"no chain {name!r}")
        doc = ChainDocument.model_validate(await current_document(session, chain))
    identity = await require_role(request, chain.namespace, WRITERS)
    try:
        _, ref = plan_manual_build(doc, body.rule, body.ref)
    except ManualBuildRefused as exc:
        raise ApiError(400, "INVALID", str(exc), exc.field) from None
    repository = f"{doc.spec.scope.namespace}/{doc.spec.scope.repository}"
    async with svc.ctx.db.read() as session:
        source = await find_source(session, repository)
        if source is None:
            raise ApiError(409, "CONFLICT", f"{repository} is no longer bound to a git source")
        try:
            credentials = await load_credentials(session, source, svc.box)
        except SourceError as exc:
            raise ApiError(409, "CONFLICT", str(exc)) from None
    try:
        commit = await resolve(source.git_url, credentials, ref, options.work_dir)
    except GitError as exc:
        raise ApiError(400, "INVALID", f"cannot look {ref.full} up: {exc}", "ref") from None
    event = PushEvent(repository, ref, commit, datetime.now(UTC), "manual", identity.name)
    async with svc.ctx.db.write() as session:
        fresh = await find_chain(session, name)
        if fresh is None or fresh.version != chain.version:
            raise ApiError(409, "CONFLICT", f"chain {name!r} changed meanwhile; try again")
        record_id = await start_rule(
            session, fresh, doc, body.rule, event, {}, options.utc_offset_hours
        )
    svc.wake_runners()
    async with svc.ctx.db.read() as session:
        record = await session.get(Record, record_id)
        assert record is not None
        return await record_out(session, record)
