"""A small HTTP/1.1 proxy in front of a real registry, that misbehaves on demand.

It relays each request to the upstream registry (keep-alive on both sides, bodies framed by
`Content-Length` or chunked encoding) and records it, and can:

* `throttle(n)`: answer the next `n` requests (optionally only those `match` selects) with
  `429 Too Many Requests` and `Retry-After: 1` (or another status/value), then close;
* `refuse_for(seconds)`: stop listening and drop every open connection, so new connections are
  refused (ECONNREFUSED), then listen again on the same port;
* `retarget(url)`: relay to another registry from now on (a token from the first one is then
  refused by the second: an invalid-token challenge);
* `cut(n, after)`: for the next `n` requests `match` selects, relay the request, then send the
  response head and `after` bytes of its body and drop the connection (Range resume); with
  `after=None`, drop it before sending any of the response (the request did land upstream).

It runs its own asyncio loop in a daemon thread, so both sync and async tests can use it; every
public method is thread-safe and bounded in time. Only 127.0.0.1 is used.

    proxy = FlakyProxy("http://127.0.0.1:5000").start()
    proxy.throttle(3)
    ... client at proxy.url ...
    assert [r.status for r in proxy.requests[:3]] == [429, 429, 429]
    proxy.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

Match = Callable[[str, str], bool]  # (method, path) -> bool
CALL_TIMEOUT = 10.0
HEAD_LIMIT = 64 * 1024
PIECE = 256 * 1024
IDLE_TIMEOUT = 60.0


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    status: int | None  # None when the connection broke before a response


@dataclass
class _Rule:
    count: int
    match: Match | None

    def take(self, method: str, path: str) -> bool:
        if self.count <= 0 or (self.match is not None and not self.match(method, path)):
            return False
        self.count -= 1
        return True


class FlakyProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._lock = threading.Lock()
        self._seen: list[Seen] = []
        self._throttle = _Rule(0, None)
        self._throttle_status = 429
        self._retry_after: str | None = "1"
        self._cut = _Rule(0, None)
        self._cut_after: int | None = 0

    # ------------------------------------------------------------------ public, thread-safe

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[Seen]:
        with self._lock:
            return list(self._seen)

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()

    def start(self) -> FlakyProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def throttle(
        self,
        count: int,
        *,
        retry_after: str | None = "1",
        status: int = 429,
        match: Match | None = None,
    ) -> None:
        with self._lock:
            self._throttle = _Rule(count, match)
            self._throttle_status = status
            self._retry_after = retry_after

    def cut(self, count: int, after: int | None, match: Match | None = None) -> None:
        with self._lock:
            self._cut = _Rule(count, match)
            self._cut_after = after

    def refuse_for(self, seconds: float) -> None:
        """Go down now (refuse connections, drop open ones); listen again after `seconds`."""
        self._call(self._down())
        self._loop.call_soon_threadsafe(
            lambda: self._loop.call_later(seconds, lambda: self._loop.create_task(self._listen()))
        )

    def retarget(self, upstream: str) -> None:
        """Relay to another upstream from now on (open connections are dropped)."""
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self._call(self._drop_connections())

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        with contextlib.suppress(Exception):
            self._call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(CALL_TIMEOUT)

    # ------------------------------------------------------------------ loop side

    def _call(self, coro: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(CALL_TIMEOUT)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", self.port, reuse_address=True, limit=HEAD_LIMIT
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        await self._down()
        current = asyncio.current_task()
        for task in asyncio.all_tasks():
            if task is not current:
                task.cancel()

    async def _down(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        await self._drop_connections()

    async def _drop_connections(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def _record(self, method: str, path: str, status: int | None) -> None:
        with self._lock:
            self._seen.append(Seen(method, path, status))

    def _take(self, rule_name: str, method: str, path: str) -> bool:
        with self._lock:
            rule: _Rule = getattr(self, rule_name)
            return rule.take(method, path)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while True:
                head = await _read_head(reader)
                if head is None:
                    return
                method, path, headers = _parse_head(head)
                if self._take("_throttle", method, path):
                    await _relay_body(reader, None, headers)
                    await self._refuse(writer, method, path)
                    return
                if upstream is None:
                    upstream = await asyncio.open_connection(
                        self.upstream_host, self.upstream_port, limit=HEAD_LIMIT
                    )
                    self._writers.add(upstream[1])
                keep = await self._exchange(reader, writer, upstream, head, method, path, headers)
                if not keep:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            return
        finally:
            for w in (writer, upstream[1] if upstream else None):
                if w is not None:
                    self._writers.discard(w)
                    w.transport.abort()

    async def _refuse(self, writer: asyncio.StreamWriter, method: str, path: str) -> None:
        status = self._throttle_status
        lines = [f"HTTP/1.1 {status} Refused", "Content-Length: 0", "Connection: close"]
        if self._retry_after is not None:
            lines.append(f"Retry-After: {self._retry_after}")
        self._record(method, path, status)
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await writer.drain()

    async def _exchange(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        head: bytes,
        method: str,
        path: str,
        headers: dict[str, str],
    ) -> bool:
        """Relay one request and its response; whether the connection may carry another."""
        up_reader, up_writer = upstream
        up_writer.write(head)
        await _relay_body(reader, up_writer, headers)
        response_head = await _read_head(up_reader)
        if response_head is None:
            self._record(method, path, None)
            return False
        status, response_headers = _parse_status(response_head)
        if self._take("_cut", method, path):
            if self._cut_after is not None:
                writer.write(response_head)
                await _relay_body(up_reader, writer, response_headers, limit=self._cut_after)
            self._record(method, path, None)
            return False
        self._record(method, path, status)  # before the client can see the answer
        writer.write(response_head)
        if method != "HEAD" and status >= 200 and status not in (204, 304):
            await _relay_body(up_reader, writer, response_headers, until_eof=True)
        await writer.drain()
        connection = headers.get("connection", "") + response_headers.get("connection", "")
        if "close" in connection.lower():
            return False
        if method == "HEAD" or status in (204, 304):
            return True
        # A body that ran to the end of the stream ended the connection with it.
        return "content-length" in response_headers or _chunked(response_headers)


# ---------------------------------------------------------------------- HTTP framing helpers


async def _read_head(reader: asyncio.StreamReader) -> bytes | None:
    """The next message head; None at the end of the stream, on a TLS handshake (clients that
    try https first get a closed connection at once) or after an idle minute."""
    try:
        first = await asyncio.wait_for(reader.readexactly(1), IDLE_TIMEOUT)
        if first == b"\x16":
            return None
        return first + await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_TIMEOUT)
    except TimeoutError:
        return None
    except asyncio.IncompleteReadError as error:
        if error.partial.strip():
            raise
        return None


def _parse_headers(lines: list[bytes]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in lines:
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    lines = head.rstrip(b"\r\n").split(b"\r\n")
    method, target, _ = lines[0].decode("latin-1").split(" ", 2)
    return method, target, _parse_headers(lines[1:])


def _parse_status(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.rstrip(b"\r\n").split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    return status, _parse_headers(lines[1:])


def _chunked(headers: dict[str, str]) -> bool:
    return "chunked" in headers.get("transfer-encoding", "").lower()


async def _relay_body(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter | None,
    headers: dict[str, str],
    *,
    limit: int | None = None,
    until_eof: bool = False,
) -> None:
    """Copy one message body (or drop it when `writer` is None); stop after `limit` bytes."""
    budget = [limit if limit is not None else -1]
    if _chunked(headers):
        await _relay_chunked(reader, writer, budget)
    elif "content-length" in headers:
        await _relay_exact(reader, writer, int(headers["content-length"]), budget)
    elif until_eof:
        while piece := await reader.read(PIECE):
            if not await _write(writer, piece, budget):
                return


async def _relay_exact(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter | None,
    length: int,
    budget: list[int],
) -> None:
    while length > 0:
        piece = await reader.read(min(PIECE, length))
        if not piece:
            raise asyncio.IncompleteReadError(b"", length)
        length -= len(piece)
        if not await _write(writer, piece, budget):
            return


async def _relay_chunked(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter | None, budget: list[int]
) -> None:
    while True:
        size_line = await reader.readuntil(b"\r\n")
        if not await _write(writer, size_line, budget):
            return
        size = int(size_line.split(b";")[0].strip(), 16)
        if size == 0:
            while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
                await _write(writer, line, budget)
            await _write(writer, b"\r\n", budget)
            return
        await _relay_exact(reader, writer, size + 2, budget)


async def _write(writer: asyncio.StreamWriter | None, data: bytes, budget: list[int]) -> bool:
    """Write (within the budget, when one is set); False once the budget is spent."""
    if writer is None:
        return True
    if budget[0] >= 0:
        data = data[: budget[0]]
        budget[0] -= len(data)
    writer.write(data)
    await writer.drain()
    return budget[0] != 0


# ---------------------------------------------------------------------- fixtures


@contextlib.contextmanager
def proxy_pool() -> Iterator[Callable[[str], FlakyProxy]]:
    """`make(upstream_url)` starts a proxy; all are closed when the block ends."""
    proxies: list[FlakyProxy] = []

    def make(upstream: str) -> FlakyProxy:
        proxy = FlakyProxy(upstream).start()
        proxies.append(proxy)
        return proxy

    try:
        yield make
    finally:
        for proxy in proxies:
            proxy.close()


@pytest.fixture
def flaky_proxy() -> Iterator[Callable[[str], FlakyProxy]]:
    """`proxy = flaky_proxy(registry.url)`: a started proxy, closed at the end of the test."""
    with proxy_pool() as make:
        yield make


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.02)
