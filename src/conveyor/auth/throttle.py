"""Sign-in throttling: too many failures for a user name, or from an address, lock it a while.

Counts live in the database (`login_throttle`), so every replica sees the same ones. A key
counts failures in a fixed window; reaching the limit locks the key until the lockout ends.
While a key is locked, every attempt on it is refused before any password is checked: a lock
that still answered "right password" would tell a guesser when they got it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from conveyor.auth.expiry import aware
from conveyor.db.identity_models import LoginThrottle


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    max_failures_per_user: int = 10
    max_failures_per_address: int = 50
    window_seconds: float = 300.0
    lockout_seconds: float = 300.0


class Throttled(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after} s")
        self.retry_after = retry_after


def user_key(name: str) -> str:
    return f"user:{name[:190]}"


def address_key(address: str) -> str:
    return f"ip:{address[:64]}"


def limits(policy: ThrottlePolicy, user: str | None, address: str) -> dict[str, int]:
    """The keys one attempt counts against, with their limits."""
    keys = {address_key(address): policy.max_failures_per_address}
    if user:
        keys[user_key(user)] = policy.max_failures_per_user
    return keys


async def check(session: AsyncSession, keys: list[str], now: datetime | None = None) -> set[str]:
    """Raise Throttled when any key is locked; else the keys with failures on record."""
    now = now or datetime.now(UTC)
    rows = (
        await session.execute(
            select(LoginThrottle.key, LoginThrottle.failures, LoginThrottle.locked_until).where(
                LoginThrottle.key.in_(keys)
            )
        )
    ).all()
    ends = [aware(end) for _, _, end in rows if end is not None and aware(end) > now]
    if ends:
        raise Throttled(max(1, math.ceil((max(ends) - now).total_seconds())))
    return {key for key, failures, _ in rows if failures}


async def forget(session: AsyncSession, key: str, now: datetime | None = None) -> None:
    """A right password clears the user name's count (never an address's, nor a live lock)."""
    now = now or datetime.now(UTC)
    await session.execute(
        delete(LoginThrottle)
        .where(
            LoginThrottle.key == key,
            or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now),
        )
        .execution_options(synchronize_session=False)
    )


async def note_failure(
    session: AsyncSession,
    keys: dict[str, int],
    policy: ThrottlePolicy,
    now: datetime | None = None,
) -> list[str]:
    """Count a failure against each key (in a write transaction); returns the keys it locked."""
    now = now or datetime.now(UTC)
    window = timedelta(seconds=policy.window_seconds)
    locked = []
    for key, limit in keys.items():
        row = await session.get(LoginThrottle, key)
        if row is None:
            row = LoginThrottle(key=key, failures=0, window_started_at=now)
            session.add(row)
        elif aware(row.window_started_at) + window <= now:
            row.failures, row.window_started_at = 0, now
        row.failures += 1
        if row.failures >= limit:
            row.locked_until = now + timedelta(seconds=policy.lockout_seconds)
            row.failures, row.window_started_at = 0, now
            locked.append(key)
    await _forget_old(session, now - window - timedelta(seconds=policy.lockout_seconds))
    return locked


async def _forget_old(session: AsyncSession, before: datetime) -> None:
    """Drop keys whose window and lock are both long over: the table stays small."""
    await session.execute(
        delete(LoginThrottle)
        .where(
            LoginThrottle.window_started_at < before,
            or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < before),
        )
        .execution_options(synchronize_session=False)
    )
