"""Where a request comes from: the client address, for the audit log and sign-in throttling.

`ClientOrigin` (ASGI middleware around the whole server) puts the address of each HTTP request
in a context variable, so code deep below (a registry transaction hook, the throttle) reads it
without every signature carrying it. `X-Forwarded-For` is believed only when the direct peer is
a configured trusted proxy (`[server] trusted_proxies`); then the nearest untrusted address in
the header is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from contextvars import ContextVar
from typing import Any

# Plain ASGI shapes: this layer knows no web framework.
Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

_address: ContextVar[str] = ContextVar("conveyor_client_address", default="")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_address() -> str:
    """The address of the request being served; "" outside a request (runners, CLI)."""
    return _address.get()


def parse_networks(items: Iterable[str]) -> list[Network]:
    return [ipaddress.ip_network(item.strip(), strict=False) for item in items if item.strip()]


def resolve(peer: str, forwarded_for: str | None, trusted: list[Network]) -> str:
    """The client's address: the peer, or (behind trusted proxies) who the proxies name."""
    if not trusted or not forwarded_for or not _within(peer, trusted):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _within(hop, trusted):
            return hop[:64]
    return hops[0][:64] if hops else peer


def _within(address: str, networks: list[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


class ClientOrigin:
    def __init__(self, app: ASGIApp, trusted_proxies: Iterable[str] = ()) -> None:
        self.app = app
        self.trusted = parse_networks(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        peer = str(client[0]) if client else ""
        forwarded = None
        for name, value in scope.get("headers", []):
            if name == b"x-forwarded-for":
                forwarded = value.decode("latin-1")
        token = _address.set(resolve(peer, forwarded, self.trusted))
        try:
            await self.app(scope, receive, send)
        finally:
            _address.reset(token)
