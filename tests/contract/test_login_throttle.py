"""Sign-in throttling in the database (shared by replicas), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import anyio.to_thread
import pytest

from conveyor.auth import throttle
from conveyor.auth.throttle import Throttled, ThrottlePolicy
from conveyor.db import migrate
from conveyor.db.database import Database
from conveyor.db.identity_models import LoginThrottle

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

POLICY = ThrottlePolicy(
    max_failures_per_user=3, max_failures_per_address=5, window_seconds=60, lockout_seconds=30
)
T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'conveyor.db'}"
    else:
        url = request.getfixturevalue("postgresql_url")
    await anyio.to_thread.run_sync(migrate.upgrade, url)
    database = Database(url)
    try:
        yield database
    finally:
        await database.close()


async def fail(db: Database, user: str, address: str, at: datetime) -> list[str]:
    async with db.write() as session:
        return await throttle.note_failure(
            session, throttle.limits(POLICY, user, address), POLICY, at
        )


async def check(db: Database, user: str, address: str, at: datetime) -> set[str]:
    async with db.read() as session:
        return await throttle.check(session, list(throttle.limits(POLICY, user, address)), at)


async def test_the_limit_locks_the_user_name_for_the_lockout(db: Database) -> None:
    for n in range(2):
        assert await fail(db, "alice", f"10.0.0.{n}", T0) == []
    assert await check(db, "alice", "10.0.0.9", T0) == {"user:alice"}
    assert await fail(db, "alice", "10.0.0.3", T0) == ["user:alice"]
    with pytest.raises(Throttled) as raised:
        await check(db, "alice", "10.0.0.9", T0 + timedelta(seconds=10))
    assert raised.value.retry_after == 20
    await check(db, "bob", "10.0.0.9", T0)  # others are not locked
    assert await check(db, "alice", "10.0.0.9", T0 + timedelta(seconds=31)) == set()


async def test_failures_outside_the_window_are_forgotten(db: Database) -> None:
    await fail(db, "carol", "10.1.0.1", T0)
    await fail(db, "carol", "10.1.0.2", T0)
    assert await fail(db, "carol", "10.1.0.3", T0 + timedelta(seconds=61)) == []


async def test_the_address_limit_counts_every_user_name(db: Database) -> None:
    locked: list[str] = []
    for n in range(5):
        locked = await fail(db, f"user{n}", "192.0.2.1", T0)
    assert locked == ["ip:192.0.2.1"]
    with pytest.raises(Throttled):
        await check(db, "somebody", "192.0.2.1", T0)


async def test_a_right_password_forgets_the_count_but_not_a_lock(db: Database) -> None:
    await fail(db, "dave", "10.2.0.1", T0)
    async with db.write() as session:
        await throttle.forget(session, throttle.user_key("dave"), T0)
    assert "user:dave" not in await check(db, "dave", "10.2.0.2", T0)
    for _ in range(3):
        await fail(db, "dave", "10.2.0.3", T0)
    async with db.write() as session:
        await throttle.forget(session, throttle.user_key("dave"), T0)
        assert await session.get(LoginThrottle, "user:dave") is not None
