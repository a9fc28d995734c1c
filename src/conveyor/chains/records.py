"""Records: started by registry events in the event's own transaction, cancelled, re-run."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from conveyor.chains import states
from conveyor.chains.schema import ChainDocument
from conveyor.chains.store import chains_in_namespace, current_document
from conveyor.db.chain_models import Chain, Record, Step
from conveyor.oci.reference import split_namespace
from conveyor.registry import events as registry_events

# The account the BUILD node pushes as (a name no user can take: user names have no ':').
# Its pushes continue the record that built them, so chains that build start no second record.
BUILD_ACTOR = "conveyor:build"


def in_scope(doc: ChainDocument, repository: str) -> bool:
    namespace, name = split_namespace(repository)
    scope = doc.spec.scope
    if namespace != scope.namespace:
        return False
    if scope.repository is not None:
        return name == scope.repository
    return name not in scope.exclude


async def start_for_events(
    session: AsyncSession, events: list[registry_events.RegistryEvent]
) -> list[int]:
    """The registry's transaction hook: one record per (tag set, chain in scope)."""
    started: list[int] = []
    for event in events:
        if event.action != registry_events.TAG_SET or not event.tag:
            continue
        namespace = split_namespace(event.repository)[0]
        for chain, doc in await chains_in_namespace(session, namespace):
            if event.actor == BUILD_ACTOR and doc.spec.build is not None:
                continue  # an image this chain built: its own record goes on with it
            if in_scope(doc, event.repository):
                trigger = {
                    "type": "push",
                    "repository": event.repository,
                    "tag": event.tag,
                    "digest": event.digest,
                    "mediaType": event.media_type,
                    "pusher": event.actor,
                    "pushedAt": datetime.now(UTC).isoformat(),
                }
                started.append(await create_record(session, chain, doc, trigger))
    return started


async def create_record(
    session: AsyncSession,
    chain: Chain,
    doc: ChainDocument,
    trigger: dict[str, Any],
    rerun_of: int | None = None,
    only: tuple[str, ...] | None = None,
) -> int:
    """A record with a step per node of the chain (or only the `only` nodes: a sync by hand)."""
    kinds = [kind for kind in doc.node_kinds() if only is None or kind in only]
    record = Record(
        chain_name=chain.name,
        chain_version=chain.version,
        status=states.RUNNING,
        trigger=trigger,
        rerun_of=rerun_of,
    )
    session.add(record)
    await session.flush()
    for position, kind in enumerate(kinds):
        # An image pushed to the registry did not come from a build: its BUILD step is skipped.
        skip = kind == "BUILD" and trigger.get("type") == "push"
        session.add(
            Step(
                record_id=record.id,
                position=position,
                node=kind,
                status=states.SKIPPED if skip else states.PENDING,
            )
        )
    if all(k == "BUILD" and trigger.get("type") == "push" for k in kinds):
        end_record(record, states.COMPLETE, states.SUCCESS)
    return record.id


async def cancel(session: AsyncSession, record_id: int) -> Record | None:
    record = await session.get(Record, record_id)
    if record is None or record.status != states.RUNNING:
        return record
    await session.execute(
        update(Step)
        .where(Step.record_id == record_id, Step.status == states.PENDING)
        .values(status=states.CANCELED, ended_at=datetime.now(UTC))
    )
    running = (
        await session.execute(
            select(Step.id).where(Step.record_id == record_id, Step.status == states.RUNNING)
        )
    ).first()
    if running is None:
        end_record(record, states.CANCELED, states.CANCELED)
    else:
        record.status = states.CANCELING  # the runner stops the step and ends the record
    return record


def end_record(record: Record, status: str, result: str, reason: str | None = None) -> None:
    record.status = status
    record.result = result
    record.reason = reason
    record.ended_at = datetime.now(UTC)


async def rerun(session: AsyncSession, record: Record) -> int | None:
    """A new record with the old one's trigger, on the chain's current version, linked to the
    old one; None when the chain no longer exists."""
    chain = (
        await session.execute(select(Chain).where(Chain.name == record.chain_name))
    ).scalar_one_or_none()
    if chain is None:
        return None
    document = await current_document(session, chain)
    doc = ChainDocument.model_validate(document)
    return await create_record(session, chain, doc, dict(record.trigger), record.id)
