"""Bearer tokens, kept per set of scopes and reused until shortly before they expire."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from conveyor.client.challenge import Scope
from conveyor.client.errors import IntegrityError

DEFAULT_LIFETIME: Final = 60.0  # the token spec's default when `expires_in` is absent
MAX_CACHED: Final = 256


@dataclass(frozen=True, slots=True)
class Token:
    value: str
    scopes: frozenset[Scope]
    asked_at: float  # on the cache's clock
    expires_at: float

    @property
    def usable_until(self) -> float:
        """Stop using a token when a tenth of its life, at most 30 s, is left."""
        return self.expires_at - min(30.0, (self.expires_at - self.asked_at) / 10)

    def covers(self, wanted: Iterable[Scope]) -> bool:
        return all(any(held.covers(w) for held in self.scopes) for w in wanted)


def token_from_response(doc: Any, scopes: frozenset[Scope], asked_at: float) -> Token:
    """Read the token endpoint's JSON; the lifetime counts from when we asked (no clock skew)."""
    if not isinstance(doc, dict):
        raise IntegrityError("the token endpoint did not answer a JSON object")
    value = doc.get("token") or doc.get("access_token")
    if not isinstance(value, str) or not value:
        raise IntegrityError("the token endpoint answered no token")
    lifetime = doc.get("expires_in")
    if not isinstance(lifetime, int | float) or isinstance(lifetime, bool) or lifetime <= 0:
        lifetime = DEFAULT_LIFETIME
    return Token(value, scopes, asked_at, asked_at + float(lifetime))


class TokenCache:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._tokens: list[Token] = []

    def find(self, wanted: frozenset[Scope]) -> Token | None:
        """A token covering every wanted scope that stays valid a while longer."""
        now = self.clock()
        self._tokens = [t for t in self._tokens if t.usable_until > now]
        return next((t for t in self._tokens if t.covers(wanted)), None)

    def add(self, token: Token) -> None:
        self._tokens = [token, *self._tokens[: MAX_CACHED - 1]]

    def drop(self, value: str) -> None:
        self._tokens = [t for t in self._tokens if t.value != value]
