"""A webhook receiver on 127.0.0.1 for distribute tests: records what arrives, and can refuse
connections, fail, or answer slowly for a while first."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.support.conveyor_server import free_port


@dataclass
class Received:
    at: float
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    port: int = field(default_factory=free_port)
    refuse_until: float = 0.0  # monotonic: connections refused before this
    fail_until: float = 0.0  # answer 500 before this
    delay_seconds: float = 0.0  # answer each request this late
    received: list[Received] = field(default_factory=list)
    in_flight: dict[str, int] = field(default_factory=dict)
    max_in_flight: dict[str, int] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while time.monotonic() < self.refuse_until:
            time.sleep(0.05)  # nothing listens on the port yet: connections are refused
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        self._server.daemon_threads = True
        self._server.serve_forever(poll_interval=0.1)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def wait_for(self, count: int, timeout: float) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        raise AssertionError(f"{len(self.received)} of {count} webhooks arrived in {timeout}s")

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> int:
        delivery = headers.get("X-Conveyor-Delivery", "")
        with self._lock:
            self.in_flight[delivery] = self.in_flight.get(delivery, 0) + 1
            self.max_in_flight[delivery] = max(
                self.max_in_flight.get(delivery, 0), self.in_flight[delivery]
            )
        try:
            if self.delay_seconds:
                time.sleep(self.delay_seconds)
            if time.monotonic() < self.fail_until:
                return 500
            with self._lock:
                self.received.append(Received(time.monotonic(), path, headers, body))
            return 200
        finally:
            with self._lock:
                self.in_flight[delivery] -= 1


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = receiver.handle(self.path, dict(self.headers.items()), body)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_args: object) -> None:
            return None

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    made.start()
    yield made
    made.stop()
