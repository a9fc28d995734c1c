"""/api/v1/chains/{name}/sync-runs: run a sync rule by hand over every tag it selects."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from conveyor.chains import records
from conveyor.chains.schema import ChainDocument
from conveyor.chains.store import current_document, find_chain
from conveyor.db.chain_models import Record
from conveyor.web.chains import readable_chain
from conveyor.web.deps import WRITERS, require_role, services
from conveyor.web.errors import ApiError
from conveyor.web.records import RecordOut, record_out

router = APIRouter(prefix="/api/v1/chains", tags=["chains"])


class SyncRunIn(BaseModel):
    rule: str
    # Kept for ACR parity: a run by hand always goes over every existing tag the rule selects;
    # tags already at the destination with the same digest cost one HEAD each.
    backfill: bool = True


@router.post("/{name}/sync-runs", response_model=RecordOut, status_code=201)
async def start_sync_run(name: str, body: SyncRunIn, request: Request) -> RecordOut:
    svc = services(request)
    chain = await readable_chain(request, name)  # 404 alike for missing and unreadable
    identity = await require_role(request, chain.namespace, WRITERS)
    async with svc.ctx.db.write() as session:
        current = await find_chain(session, name)
        if current is None:
            raise ApiError(404, "NOT_FOUND", f"no chain {name!r}")
        doc = ChainDocument.model_validate(await current_document(session, current))
        if body.rule not in {rule.name for rule in doc.spec.sync}:
            raise ApiError(
                404, "NOT_FOUND", f"chain {name!r} has no sync rule {body.rule!r}", "rule"
            )
        trigger = {
            "type": "sync",
            "rule": body.rule,
            "backfill": body.backfill,
            "by": identity.name,
        }
        record_id = await records.create_record(session, current, doc, trigger, only=("SYNC",))
    svc.wake_runners()
    async with svc.ctx.db.read() as session:
        record = await session.get(Record, record_id)
        assert record is not None
        return await record_out(session, record)
