"""Challenge-driven authorization: Basic, or the Docker token flow with cached Bearer tokens.

Nothing is sent until the registry asks: the first 401 tells the scheme (and for Bearer the
token realm and service). For Bearer, a token is fetched per set of scopes (with the Basic
credentials, or anonymously) and reused until shortly before it expires. A 401 that rejects the
token, or names a scope it lacks (`error="insufficient_scope"`) that was not asked for, makes the
caller ask again with the union of the scopes; one naming only scopes already asked for means the
token server granted less, and ends as AUTH_ERROR. The transport bounds the rounds.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Awaitable, Callable

import anyio
import httpx

from conveyor.client.challenge import Challenge, Scope, preferred_challenge
from conveyor.client.errors import AuthError
from conveyor.client.options import Credentials
from conveyor.client.tokens import Token, TokenCache, token_from_response

Sender = Callable[[httpx.Request], Awaitable[httpx.Response]]


class Authenticator:
    def __init__(
        self,
        http: httpx.AsyncClient,
        send: Sender,
        credentials: Credentials | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._send = send
        self._credentials = credentials
        self._challenge: Challenge | None = None
        self._tokens = TokenCache(clock)
        self._fetching = anyio.Lock()
        self.tokens_fetched = 0

    async def authorization(self, scopes: frozenset[Scope]) -> str | None:
        """The Authorization header for a request needing `scopes`, once a challenge is known."""
        if self._credentials is not None and self._credentials.token:
            return f"Bearer {self._credentials.token}"
        challenge = self._challenge
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            return self._basic()
        token = self._tokens.find(scopes) or await self._fetch(challenge, scopes)
        return f"Bearer {token.value}"

    def unauthorized(
        self, response: httpx.Response, scopes: frozenset[Scope], sent: str | None
    ) -> frozenset[Scope] | None:
        """Learn from a 401: the scopes to ask with next, or None when asking again is futile."""
        challenge = preferred_challenge(response.headers.get("www-authenticate", ""))
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            if self._credentials is None or (sent or "").startswith("Basic "):
                return None
            self._challenge = challenge
            return scopes
        self._challenge = Challenge("bearer", _realm_params(challenge))
        named = {s for s in (Scope.parse(text) for text in challenge.scopes) if s is not None}
        if sent and sent.startswith("Bearer "):
            self._tokens.drop(sent.removeprefix("Bearer "))
            if challenge.error == "insufficient_scope" and _asked_already(scopes, named):
                return None  # the token server gave all it will: asking again is futile
        return scopes | named

    def _basic(self) -> str | None:
        if self._credentials is None:
            return None
        pair = f"{self._credentials.username}:{self._credentials.password}"
        return "Basic " + base64.b64encode(pair.encode()).decode()

    async def _fetch(self, challenge: Challenge, scopes: frozenset[Scope]) -> Token:
        async with self._fetching:
            cached = self._tokens.find(scopes)
            if cached is not None:
                return cached
            token = await self._request_token(challenge, scopes)
            self._tokens.add(token)
            return token

    async def _request_token(self, challenge: Challenge, scopes: frozenset[Scope]) -> Token:
        if not challenge.realm:
            raise AuthError("the Bearer challenge names no token realm")
        params = [("service", challenge.service or ""), ("client_id", "conveyor")]
        params += [("scope", str(scope)) for scope in sorted(scopes)]
        headers = {}
        basic = self._basic()
        if basic:
            headers["Authorization"] = basic
        asked_at = self._tokens.clock()
        request = self._http.build_request(
            "GET", challenge.realm, params=tuple(params), headers=headers
        )
        response = await self._send(request)
        if response.status_code != 200:
            raise AuthError(
                f"the token endpoint answered {response.status_code}", status=response.status_code
            )
        self.tokens_fetched += 1
        try:
            doc = response.json()
        except ValueError:
            doc = None
        return token_from_response(doc, scopes, asked_at)


def _asked_already(scopes: frozenset[Scope], named: set[Scope]) -> bool:
    return all(any(held.covers(wanted) for held in scopes) for wanted in named)


def _realm_params(challenge: Challenge) -> dict[str, str]:
    return {k: v for k, v in challenge.params.items() if k in ("realm", "service")}
