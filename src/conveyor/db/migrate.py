"""Bring the database schema to the newest revision (run at start by serve and runner)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from conveyor.db.session import sync_url

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant works; replicas starting together take turns through this PostgreSQL lock.
_PG_LOCK_ID = 0x0C0E7E40


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    config = alembic_config(url)
    if not sync_url(url).startswith("postgresql"):
        command.upgrade(config, "head")
        return
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _PG_LOCK_ID})
            try:
                command.upgrade(config, "head")
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _PG_LOCK_ID})
    finally:
        engine.dispose()
