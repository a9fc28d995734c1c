"""How to reach a registry: credentials, TLS settings, and the httpx client made from them."""

from __future__ import annotations

import functools
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

USER_AGENT = "conveyor-registry-client/0.1"


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str = field(repr=False)
    # A token issued beforehand (e.g. by this instance for its own runners): sent as Bearer on
    # every request, without the challenge round trip.
    token: str | None = field(default=None, repr=False)

    @classmethod
    def bearer(cls, token: str) -> Credentials:
        return cls("", "", token)


@dataclass(frozen=True, slots=True)
class TlsOptions:
    """`ca_file`: trust these certificates (PEM) besides nothing else; `insecure`: skip
    verification altogether, meant for a registry on the loopback interface or a lab."""

    ca_file: Path | None = None
    insecure: bool = False

    def context(self) -> ssl.SSLContext:
        return _context(str(self.ca_file) if self.ca_file else None, self.insecure)


@functools.lru_cache(maxsize=32)
def _context(ca_file: str | None, insecure: bool) -> ssl.SSLContext:
    """Made once per setting: loading a CA bundle costs ~20 ms, and contexts are shareable."""
    if insecure:
        return httpx.create_ssl_context(verify=False)
    if ca_file is not None:
        return ssl.create_default_context(cafile=ca_file)
    return httpx.create_ssl_context()


def normalize_url(url: str) -> str:
    """`scheme://host:port` with the default port made explicit: the identity of a registry."""
    parts = urlsplit(url if "://" in url else f"https://{url}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not a registry URL: {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}:{port}"


def build_http(base_url: str, tls: TlsOptions, timeout: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        verify=tls.context(),
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        follow_redirects=True,
        headers={"User-Agent": USER_AGENT},
    )
