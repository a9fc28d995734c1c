"""Registry events: an outbox row in the same transaction as the change, and an in-process bus.

Other parts (delivery chains) subscribe to the bus to be woken, and read the outbox rows to
know what happened; the registry never imports them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from conveyor.db.models import Event

MANIFEST_PUSHED: Final = "push"
TAG_SET: Final = "tag"
MANIFEST_DELETED: Final = "delete_manifest"
TAG_DELETED: Final = "delete_tag"

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RegistryEvent:
    action: str
    repository: str
    digest: str | None = None
    tag: str | None = None
    media_type: str | None = None
    actor: str = ""


Subscriber = Callable[[RegistryEvent], Awaitable[None]]
# Runs inside the transaction that made the change: what it writes commits (or not) with it.
TransactionHook = Callable[[AsyncSession, list[RegistryEvent]], Awaitable[object]]


def record(session: AsyncSession, event: RegistryEvent) -> RegistryEvent:
    """Add the outbox row to the caller's transaction."""
    session.add(
        Event(
            action=event.action,
            repository=event.repository,
            digest=event.digest,
            tag=event.tag,
            media_type=event.media_type,
            actor=event.actor,
        )
    )
    return event


class EventBus:
    """Tells in-process subscribers of events after their transaction committed."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def publish(self, events: list[RegistryEvent]) -> None:
        for event in events:
            for subscriber in self._subscribers:
                task = asyncio.get_running_loop().create_task(self._deliver(subscriber, event))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _deliver(self, subscriber: Subscriber, event: RegistryEvent) -> None:
        try:
            await subscriber(event)
        except Exception:
            # The outbox row is the durable record; a failed wake-up is caught up later.
            log.exception("event subscriber failed for %s", event)
