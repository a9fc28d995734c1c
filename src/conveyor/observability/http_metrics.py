"""ASGI middleware: request counts, latency and body bytes, labelled by route template (never
by raw path, so repository names and digests do not blow up the label set)."""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conveyor.observability.metrics import HTTP_BYTES, HTTP_REQUESTS, HTTP_SECONDS


class HttpMetrics:
    def __init__(self, app: ASGIApp, route_of: Callable[[str], str]) -> None:
        self.app = app
        self.route_of = route_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        sent = 0
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            return message

        async def counting_send(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counting_receive, counting_send)
        finally:
            route = self.route_of(scope["path"])
            HTTP_REQUESTS.labels(route, scope["method"], str(status)).inc()
            HTTP_SECONDS.labels(route).observe(time.perf_counter() - started)
            HTTP_BYTES.labels("in").inc(received)
            HTTP_BYTES.labels("out").inc(sent)
