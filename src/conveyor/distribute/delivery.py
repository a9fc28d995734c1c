"""At-least-once delivery of one webhook: retries with backoff, every attempt recorded."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from conveyor.db.chain_models import Delivery
from conveyor.db.database import Database
from conveyor.distribute.signing import signature
from conveyor.distribute.targets import TargetRefused, check_url, redact
from conveyor.observability.metrics import WEBHOOK_ATTEMPTS

EXCERPT = 512


@dataclass
class DeliveryPolicy:
    timeout_seconds: float
    max_attempts: int
    retry_base_seconds: float
    retry_max_seconds: float
    deny_networks: list[str]


@dataclass
class Webhook:
    step_id: int
    target: str
    url: str
    body: dict[str, Any]
    content_type: str
    delivery_id: str
    secret: str | None


@dataclass
class DeliveryReport:
    target: str
    url: str
    delivered: bool
    attempts: int
    status_code: int | None
    error: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.target,
            "url": self.url,
            "delivered": self.delivered,
            "attempts": self.attempts,
            "statusCode": self.status_code,
            "error": self.error,
        }


async def deliver(
    db: Database, http: httpx.AsyncClient, hook: Webhook, policy: DeliveryPolicy, first_attempt: int
) -> DeliveryReport:
    body = json.dumps(hook.body, separators=(",", ":")).encode()
    status: int | None = None
    error: str | None = None
    for attempt in range(first_attempt, policy.max_attempts + 1):
        try:
            await check_url(hook.url, policy.deny_networks)
        except TargetRefused as exc:
            await _record(db, hook, attempt, None, 0, "", str(exc))
            return DeliveryReport(hook.target, redact(hook.url), False, attempt, None, str(exc))
        status, error, wait = await _attempt(db, http, hook, body, attempt, policy)
        if status is not None and 200 <= status < 300:
            return DeliveryReport(hook.target, redact(hook.url), True, attempt, status, None)
        if attempt < policy.max_attempts:
            backoff = policy.retry_base_seconds * 2 ** (attempt - 1)
            await asyncio.sleep(min(max(backoff, wait or 0.0), policy.retry_max_seconds))
    return DeliveryReport(
        hook.target, redact(hook.url), False, policy.max_attempts, status, error or f"HTTP {status}"
    )


async def _attempt(
    db: Database,
    http: httpx.AsyncClient,
    hook: Webhook,
    body: bytes,
    attempt: int,
    policy: DeliveryPolicy,
) -> tuple[int | None, str | None, float | None]:
    headers = {
        "Content-Type": hook.content_type,
        "User-Agent": "Conveyor-Webhook/1",
        "X-Conveyor-Delivery": hook.delivery_id,
        "X-Conveyor-Attempt": str(attempt),
    }
    if hook.secret:
        headers["X-Conveyor-Signature"] = signature(hook.secret, body, int(time.time()))
    started = time.monotonic()
    try:
        response = await http.post(
            hook.url, content=body, headers=headers, timeout=policy.timeout_seconds
        )
    except httpx.HTTPError as exc:
        elapsed = int((time.monotonic() - started) * 1000)
        message = f"{type(exc).__name__}: {exc}"[:EXCERPT]
        await _record(db, hook, attempt, None, elapsed, "", message)
        return None, message, None
    elapsed = int((time.monotonic() - started) * 1000)
    excerpt = response.text[:EXCERPT]
    ok = 200 <= response.status_code < 300
    await _record(db, hook, attempt, response.status_code, elapsed, excerpt, None, ok)
    return (
        response.status_code,
        None if ok else f"HTTP {response.status_code}",
        _retry_after(response),
    )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value or response.status_code not in (429, 503):
        return None
    if value.isdigit():
        return float(value)
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


def _count(status: int | None, ok: bool) -> None:
    outcome = "delivered" if ok else ("error" if status is None else "rejected")
    WEBHOOK_ATTEMPTS.labels(outcome).inc()


async def _record(
    db: Database,
    hook: Webhook,
    attempt: int,
    status: int | None,
    duration_ms: int,
    excerpt: str,
    error: str | None,
    ok: bool = False,
) -> None:
    _count(status, ok)
    async with db.write() as session:
        session.add(
            Delivery(
                step_id=hook.step_id,
                target=hook.target,
                delivery_id=hook.delivery_id,
                attempt=attempt,
                status_code=status,
                ok=ok,
                duration_ms=duration_ms,
                response_excerpt=excerpt,
                error=error,
            )
        )
