"""INSERT ... ON CONFLICT for whichever dialect the session speaks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from conveyor.db.models import Base


async def insert_ignore(session: AsyncSession, model: type[Base], **values: Any) -> bool:
    """Insert unless the primary key exists; True when a row was inserted."""
    insert = _dialect_insert(session)(model).values(**values).on_conflict_do_nothing()
    # Not rowcount: an ORM-enabled INSERT on psycopg reports -1 whether or not a row went in.
    result = await session.execute(insert.returning(*inspect(model).primary_key))
    return result.first() is not None


async def upsert(session: AsyncSession, model: type[Base], keys: list[str], **values: Any) -> None:
    """Insert, or update the non-key columns of the row with the same keys."""
    insert = _dialect_insert(session)(model).values(**values)
    changes = {k: v for k, v in values.items() if k not in keys}
    await session.execute(insert.on_conflict_do_update(index_elements=keys, set_=changes))


def _dialect_insert(session: AsyncSession) -> Any:
    name = session.get_bind().dialect.name
    return postgresql.insert if name == "postgresql" else sqlite.insert
