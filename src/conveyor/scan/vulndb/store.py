"""Writes advisories in bulk; the first advisory of a source in an import replaces every row
that source had, so a re-import is idempotent and withdrawn entries disappear."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from conveyor.db.upsert import upsert
from conveyor.db.vulndb_models import VulnAdvisory, VulnAffected, VulnSource
from conveyor.scan.vulndb.records import Advisory, Affected, affected_row

BATCH = 2000


@dataclass
class SourceCounts:
    kind: str
    advisories: int = 0
    affected: int = 0


class Writer:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.sources: dict[str, SourceCounts] = {}
        self._advisories: set[tuple[str, str]] = set()
        self._affected: set[tuple[str, str, Affected]] = set()
        self._pending_advisories: list[dict[str, Any]] = []
        self._pending_affected: list[dict[str, Any]] = []

    async def add(self, advisory: Advisory) -> None:
        counts = self.sources.get(advisory.source)
        if counts is None:
            counts = self.sources[advisory.source] = SourceCounts(advisory.kind)
            await self._clear(advisory.source)
        key = (advisory.source, advisory.vuln_id)
        if key not in self._advisories:
            self._advisories.add(key)
            self._pending_advisories.append(advisory.row())
            counts.advisories += 1
        for affected in advisory.affected:
            if (*key, affected) not in self._affected:
                self._affected.add((*key, affected))
                self._pending_affected.append(affected_row(*key, affected))
                counts.affected += 1
        if len(self._pending_affected) + len(self._pending_advisories) >= BATCH:
            await self.flush()

    async def _clear(self, source: str) -> None:
        await self.session.execute(delete(VulnAffected).where(VulnAffected.source == source))
        await self.session.execute(delete(VulnAdvisory).where(VulnAdvisory.source == source))

    async def flush(self) -> None:
        if self._pending_advisories:
            await self.session.execute(insert(_table(VulnAdvisory)), self._pending_advisories)
        if self._pending_affected:
            await self.session.execute(insert(_table(VulnAffected)), self._pending_affected)
        self._pending_advisories, self._pending_affected = [], []

    async def finish(self) -> None:
        await self.flush()
        now = datetime.now(UTC)
        for name, counts in self.sources.items():
            await upsert(
                self.session,
                VulnSource,
                ["name"],
                name=name,
                kind=counts.kind,
                advisories=counts.advisories,
                affected=counts.affected,
                imported_at=now,
            )


def _table(model: type[VulnAdvisory] | type[VulnAffected]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


async def stamp(session: AsyncSession) -> str:
    """Changes whenever any source is imported again: stored reports older than it are
    matched anew."""
    row = (await session.execute(select(func.count(), func.max(VulnSource.imported_at)))).one()
    return f"{row[0]}:{row[1].isoformat() if row[1] else ''}"
