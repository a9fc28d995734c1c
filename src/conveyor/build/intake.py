"""Push events become records: one per (chain in scope, build rule that matches the ref).

All records of one event are created in the caller's transaction, so an event starts all of its
builds or none; the caller wakes the runners after the commit.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from conveyor.build.events import PushEvent
from conveyor.build.rules import match_rule
from conveyor.build.tagging import TagError, compose_tags
from conveyor.chains.patterns import PatternError
from conveyor.chains.records import create_record, in_scope
from conveyor.chains.schema import ChainDocument
from conveyor.chains.store import chains_in_namespace
from conveyor.db.chain_models import Chain
from conveyor.oci.reference import split_namespace

log = logging.getLogger(__name__)


async def start_builds(
    session: AsyncSession, event: PushEvent, utc_offset_hours: float
) -> list[int]:
    """Records for every chain and rule that build this push; their ids."""
    started: list[int] = []
    namespace = split_namespace(event.repository)[0]
    for chain, doc in await chains_in_namespace(session, namespace):
        if doc.spec.build is None or not in_scope(doc, event.repository):
            continue
        for number, rule in enumerate(doc.spec.build.rules, start=1):
            try:
                groups = match_rule(rule, event.ref)
            except PatternError as exc:
                log.warning("chain %s rule %d: %s", chain.name, number, exc)
                continue
            if groups is not None:
                started.append(
                    await start_rule(session, chain, doc, number, event, groups, utc_offset_hours)
                )
    return started


async def start_rule(
    session: AsyncSession,
    chain: Chain,
    doc: ChainDocument,
    number: int,
    event: PushEvent,
    groups: dict[str, str],
    utc_offset_hours: float,
) -> int:
    assert doc.spec.build is not None
    rule = doc.spec.build.rules[number - 1]
    try:
        first = compose_tags(rule, groups, event.pushed_at, event.commit, utc_offset_hours)[0]
    except TagError:
        first = None  # the BUILD step composes again and fails with the reason
    return await create_record(session, chain, doc, event.trigger(number, first))
