"""One request to a registry, with authorization rounds and retries; the client's only door.

`request` reads the whole (small) body; `stream` yields a response whose body is still to be
read. Both retry network errors (when the call can be replayed) and the statuses of an
unavailable server, honouring `Retry-After`, then answer 401s through the authenticator (at
most two extra rounds, so a refusal ends quickly as AUTH_ERROR). A call whose body is a stream
goes out once: its failures are the caller's to handle (by starting over).
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterable, AsyncIterator, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx

from conveyor.client.auth import Authenticator
from conveyor.client.challenge import Scope
from conveyor.client.errors import AuthError, NetworkError
from conveyor.client.options import Credentials
from conveyor.client.responses import expect, registry_error
from conveyor.client.retry import RETRY_STATUSES, RetryPolicy, is_tls_failure

AUTH_ROUNDS = 3  # the first try, then two answers to challenges
# Larger bodies go out as a stream of slices: httpx keeps each request in a reference cycle
# (response <-> stream) until the garbage collector runs, and a body held there would pile up
# chunk after chunk of a large upload; a finished slice generator holds nothing.
STREAM_BODIES_ABOVE = 64 * 1024
SLICE = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    url: str  # a path under the registry, or an absolute URL (upload locations, links)
    scopes: tuple[Scope, ...]
    what: str  # for error messages: "GET manifest shop/web:1"
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Sequence[tuple[str, str]] = ()
    content: bytes | AsyncIterable[bytes] | None = None
    length: int | None = None  # of a streamed body (sent as Content-Length)
    # False when sending twice could do harm or be refused (chunk PATCH): no retry on a network
    # error, the caller resumes from what the registry says it holds.
    replayable: bool = True

    @property
    def one_shot(self) -> bool:
        """A streamed body can be sent only once: no retry, no second authorization round."""
        return self.content is not None and not isinstance(self.content, bytes)


class Transport:
    def __init__(
        self, http: httpx.AsyncClient, credentials: Credentials | None, retry: RetryPolicy
    ) -> None:
        self.http = http
        self.retry = retry
        self.auth = Authenticator(http, self._send_read, credentials)

    async def request(self, call: Call, ok: Collection[int]) -> httpx.Response:
        """Send, read the body, and check the status is one of `ok` (else raise its error)."""
        response = await self._authorized(call, stream=False)
        return expect(response, ok, call.what)

    @asynccontextmanager
    async def stream(self, call: Call, ok: Collection[int]) -> AsyncIterator[httpx.Response]:
        response = await self._authorized(call, stream=True)
        try:
            if response.status_code not in ok:
                await response.aread()
            yield expect(response, ok, call.what)
        finally:
            await response.aclose()

    async def _authorized(self, call: Call, *, stream: bool) -> httpx.Response:
        scopes = frozenset(call.scopes)
        for _ in range(1 if call.one_shot else AUTH_ROUNDS):
            sent = await self.auth.authorization(scopes)
            response = await self._with_retries(call, sent, stream)
            if response.status_code != 401:
                return response
            await response.aread()
            next_scopes = self.auth.unauthorized(response, scopes, sent)
            if next_scopes is None:
                break
            scopes = next_scopes
        code, message = registry_error(response)
        raise AuthError(f"{call.what}: 401 {code or 'UNAUTHORIZED'} {message}".strip(), status=401)

    async def _with_retries(
        self, call: Call, authorization: str | None, stream: bool
    ) -> httpx.Response:
        headers = dict(call.headers)
        if authorization:
            headers["Authorization"] = authorization

        # httpx replaces a URL's query with `params`; upload locations carry state in theirs.
        url = httpx.URL(call.url)
        if call.params:
            url = url.copy_merge_params(tuple(call.params))

        def build() -> httpx.Request:
            return self.http.build_request(call.method, url, **_body(call, headers))

        retry = RetryPolicy(attempts=1) if call.one_shot else self.retry
        return await self._send(build, call.what, call.replayable, stream, retry)

    async def _send_read(self, request: httpx.Request) -> httpx.Response:
        """A prepared request (the token fetch) with the same retries; body read."""
        what = f"{request.method} {request.url}"
        return await self._send(lambda: request, what, True, False, self.retry)

    async def _send(
        self,
        build: Callable[[], httpx.Request],
        what: str,
        replayable: bool,
        stream: bool,
        retry: RetryPolicy,
    ) -> httpx.Response:
        for attempt in itertools.count():
            last = not retry.allows(attempt)
            response: httpx.Response | None = None
            try:
                response = await self.http.send(build(), stream=True)
                if response.status_code in RETRY_STATUSES and not last:
                    await response.aclose()
                    await anyio.sleep(retry.delay(attempt, response.headers.get("retry-after")))
                    continue
                if not stream:
                    await response.aread()
                return response
            except httpx.TransportError as exc:
                if response is not None:
                    await response.aclose()
                if last or not replayable or is_tls_failure(exc):
                    raise NetworkError(f"{what}: {type(exc).__name__}: {exc}") from exc
                await anyio.sleep(retry.backoff(attempt))
        raise AssertionError("unreachable")


def _body(call: Call, headers: dict[str, str]) -> dict[str, Any]:
    """`content` and `headers` for httpx: large and streamed bodies go with a Content-Length."""
    content = call.content
    if content is None or (isinstance(content, bytes) and len(content) <= STREAM_BODIES_ABOVE):
        return {"content": content, "headers": headers}
    if isinstance(content, bytes):
        sized = {**headers, "Content-Length": str(len(content))}
        return {"content": _slices(content), "headers": sized}
    if call.length is None:
        return {"content": content, "headers": headers}
    return {"content": content, "headers": {**headers, "Content-Length": str(call.length)}}


async def _slices(content: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(content), SLICE):
        yield content[start : start + SLICE]
