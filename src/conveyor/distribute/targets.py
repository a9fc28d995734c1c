"""Which webhook targets fire for a tag, and whether a URL may be called at all."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from conveyor.chains.patterns import PatternError, full_match
from conveyor.chains.schema import Trigger


class TargetRefused(ValueError):
    """The URL points somewhere webhooks may not go."""


def triggered(trigger: Trigger, tag: str) -> bool:
    if trigger.type == "all":
        return True
    if trigger.type == "tags":
        return tag in trigger.tags
    try:
        return full_match(trigger.regexp or "", tag) is not None
    except PatternError:
        return False


async def check_url(url: str, deny_networks: list[str]) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("only http:// and https:// URLs are called")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname, port, type=socket.SOCK_STREAM
        )
    except socket.gaierror as exc:
        raise TargetRefused(f"cannot resolve {parts.hostname}: {exc.strerror}") from None
    networks = [ipaddress.ip_network(n, strict=False) for n in deny_networks]
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        for network in networks:
            if address.version == network.version and address in network:
                raise TargetRefused(f"{parts.hostname} resolves to {address}, in denied {network}")


def redact(url: str) -> str:
    """The URL without its query and credentials: tokens in hook URLs stay out of records."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    suffix = "?…" if parts.query else ""
    return f"{parts.scheme}://{host}{port}{parts.path}{suffix}"
