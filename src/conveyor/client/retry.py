"""When and how long to wait before trying a request again.

Network errors, `429` and the `5xx` statuses of an unavailable server are retried with
exponential backoff and jitter; a `Retry-After` header (seconds, or an HTTP date) replaces the
backoff, capped so that a hostile value cannot stall a copy for hours.
"""

from __future__ import annotations

import random
import ssl
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Final

RETRY_STATUSES: Final = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 6
    base_delay: float = 0.25
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def backoff(self, attempt: int) -> float:
        """Seconds before attempt `attempt + 1` (0-based): half fixed, half random."""
        ceiling = min(self.max_delay, self.base_delay * (2.0**attempt))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        asked = parse_retry_after(retry_after) if retry_after else None
        if asked is None:
            return self.backoff(attempt)
        return min(asked, self.max_retry_after)

    def allows(self, attempt: int) -> bool:
        """Whether another attempt may follow attempt `attempt` (0-based)."""
        return attempt + 1 < self.attempts


def parse_retry_after(value: str, now: float | None = None) -> float | None:
    """`Retry-After` as seconds from now: delta-seconds or an HTTP date; None when unreadable."""
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


def is_tls_failure(error: BaseException) -> bool:
    """A certificate or handshake failure: retrying cannot help, so it is reported at once."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError | ssl.CertificateError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
