"""Alembic environment: runs migrations on the synchronous driver of the configured database."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import create_engine, event, pool

from conveyor.db import (
    build_models,  # noqa: F401 - registers the git source table
    chain_models,  # noqa: F401 - registers its tables on Base
    identity_models,  # noqa: F401 - robots, personal tokens, audit log, sign-in throttle
    vulndb_models,  # noqa: F401 - registers the vulnerability tables
)
from conveyor.db.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url, "the database URL is set by conveyor.db.migrate"


def _sqlite_manual_transactions(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # the driver would not put DDL in a transaction


def _sqlite_begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


sqlite = url.startswith("sqlite")
engine = create_engine(url, poolclass=pool.NullPool, connect_args={"timeout": 60} if sqlite else {})
if sqlite:
    # The whole upgrade is one transaction holding the write lock: a second process starting
    # at the same time waits and then finds the schema current, and a crash half-way leaves
    # the old schema, never a partial one.
    event.listen(engine, "connect", _sqlite_manual_transactions)
    event.listen(engine, "begin", _sqlite_begin_immediate)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=sqlite,
        transactional_ddl=True if sqlite else None,
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
