"""One handle on the metadata database: short read sessions and serialized write transactions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conveyor.db.session import create_engine, is_sqlite

# A transaction-level advisory lock: released by the commit or rollback that ends the write.
_WRITE_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
_WRITE_LOCK_KEY = 0x0C0E7E41


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        # SQLite: writers take the lock at BEGIN, so read-then-write never fails half-way.
        self.write_engine = create_engine(url, immediate=True) if is_sqlite(url) else self.engine
        self._reader = async_sessionmaker(self.engine, expire_on_commit=False)
        self._writer = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self._lock_writes = self.dialect == "postgresql"

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._reader() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A transaction that commits when the block ends without an exception."""
        async with self._writer() as session, session.begin():
            if self._lock_writes:
                # PostgreSQL: one writer at a time, as on SQLite, so read-then-write loses nothing.
                await session.execute(_WRITE_LOCK, {"key": _WRITE_LOCK_KEY})
            yield session

    async def close(self) -> None:
        await self.engine.dispose()
        if self.write_engine is not self.engine:
            await self.write_engine.dispose()
