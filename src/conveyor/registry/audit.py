"""Pushes and deletes in the audit log: a transaction hook, so the entry commits with the change.

One entry per manifest pushed (with the tags it was pushed under) and one per delete. The
registry's outbox rows (`registry_events`) say what changed for the chain engine; the audit entry
adds where the request came from.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from conveyor.auth import audit
from conveyor.registry import events


async def audit_registry_events(
    session: AsyncSession, published: list[events.RegistryEvent]
) -> None:
    tags = [e.tag for e in published if e.action == events.TAG_SET and e.tag]
    for event in published:
        if event.action == events.MANIFEST_PUSHED:
            audit.record(
                session,
                audit.PUSH,
                actor=event.actor,
                target=f"{event.repository}@{event.digest}",
                detail={"tags": tags[:100], "mediaType": event.media_type},
            )
        elif event.action == events.TAG_DELETED:
            audit.record(
                session,
                audit.DELETE,
                actor=event.actor,
                target=f"{event.repository}:{event.tag}",
                detail={"digest": event.digest},
            )
        elif event.action == events.MANIFEST_DELETED:
            audit.record(
                session,
                audit.DELETE,
                actor=event.actor,
                target=f"{event.repository}@{event.digest}",
            )
