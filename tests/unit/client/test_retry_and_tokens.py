"""Backoff, Retry-After, and the token cache's reuse-until-expiry rule (pure)."""

from __future__ import annotations

import ssl
import time
from email.utils import formatdate

import httpx
import pytest

from conveyor.client.challenge import pull, push
from conveyor.client.errors import IntegrityError
from conveyor.client.retry import RetryPolicy, is_tls_failure, parse_retry_after
from conveyor.client.tokens import TokenCache, token_from_response


def test_retry_after_in_seconds_and_as_an_http_date() -> None:
    assert parse_retry_after("1") == 1.0
    assert parse_retry_after(" 120 ") == 120.0
    now = time.time()
    in_ten = formatdate(now + 10, usegmt=True)
    assert 8.0 <= (parse_retry_after(in_ten, now=now) or 0) <= 11.0
    assert parse_retry_after(formatdate(now - 100, usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-3") is None


def test_delay_honours_retry_after_with_a_cap() -> None:
    policy = RetryPolicy(max_retry_after=30.0)
    assert policy.delay(0, "2") == 2.0
    assert policy.delay(5, "3600") == 30.0
    assert policy.delay(0, "garbage") <= policy.base_delay


def test_backoff_grows_exponentially_within_bounds() -> None:
    policy = RetryPolicy(base_delay=0.1, max_delay=1.0)
    for attempt, ceiling in [(0, 0.1), (1, 0.2), (2, 0.4), (3, 0.8), (4, 1.0), (10, 1.0)]:
        for _ in range(20):
            assert ceiling / 2 <= policy.backoff(attempt) <= ceiling
    assert RetryPolicy(attempts=3).allows(1) and not RetryPolicy(attempts=3).allows(2)


def test_tls_failures_are_recognised_through_the_cause_chain() -> None:
    cause = ssl.SSLCertVerificationError("certificate verify failed")
    try:
        try:
            raise cause
        except ssl.SSLError as exc:
            raise httpx.ConnectError("wrapped") from exc
    except httpx.ConnectError as wrapped:
        assert is_tls_failure(wrapped)
    assert not is_tls_failure(httpx.ConnectError("connection refused"))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_tokens_are_reused_for_covered_scopes_until_near_expiry() -> None:
    clock = Clock()
    cache = TokenCache(clock)
    token = token_from_response(
        {"token": "t1", "expires_in": 300}, frozenset({push("shop/web")}), clock()
    )
    cache.add(token)
    assert cache.find(frozenset({pull("shop/web")})) is token
    assert cache.find(frozenset({push("shop/web")})) is token
    assert cache.find(frozenset({pull("shop/api")})) is None
    clock.now += 265  # 300 s life, stops 30 s before the end
    assert cache.find(frozenset({pull("shop/web")})) is token
    clock.now += 10
    assert cache.find(frozenset({pull("shop/web")})) is None


def test_token_defaults_and_bad_answers() -> None:
    token = token_from_response({"access_token": "a"}, frozenset(), 0.0)
    assert token.value == "a" and token.expires_at == 60.0
    assert token.usable_until == 54.0
    with pytest.raises(IntegrityError):
        token_from_response({"expires_in": 60}, frozenset(), 0.0)
    with pytest.raises(IntegrityError):
        token_from_response(["token"], frozenset(), 0.0)


def test_dropped_tokens_are_not_reused() -> None:
    cache = TokenCache(Clock())
    cache.add(token_from_response({"token": "bad"}, frozenset({pull("a")}), 1000.0))
    cache.drop("bad")
    assert cache.find(frozenset({pull("a")})) is None
