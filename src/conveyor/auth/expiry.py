"""Lifetimes of robot and personal tokens: `30d`, `12h`, `90m`, `45s`, `2w`, or none."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_DURATION = re.compile(r"(\d{1,7})([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
MAX_LIFETIME = timedelta(days=3650)


class ExpiryError(ValueError):
    pass


def parse_duration(text: str) -> timedelta:
    found = _DURATION.fullmatch(text.strip())
    if found is None:
        raise ExpiryError(f"{text[:40]!r} is not a duration like 30d, 12h, 90m or 45s")
    lifetime = timedelta(seconds=int(found.group(1)) * _UNITS[found.group(2)])
    if not timedelta(0) < lifetime <= MAX_LIFETIME:
        raise ExpiryError("a lifetime is more than 0 and at most 3650d")
    return lifetime


def expires_at(text: str | None, now: datetime | None = None) -> datetime | None:
    """When a credential made now with lifetime `text` ends; None (or "never"): it does not."""
    if text is None or text.strip() in ("", "never"):
        return None
    return (now or datetime.now(UTC)) + parse_duration(text)


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def is_expired(moment: datetime | None, now: datetime | None = None) -> bool:
    return moment is not None and aware(moment) <= (now or datetime.now(UTC))
