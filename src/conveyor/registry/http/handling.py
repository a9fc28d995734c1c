"""What every /v2 handler receives: the request, the caller, and the registry it works on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from starlette.requests import Request

from conveyor.registry.context import RegistryContext
from conveyor.registry.errors import RegistryError
from conveyor.registry.http.access import Caller, Gatekeeper


@dataclass
class Handling:
    request: Request
    ctx: RegistryContext
    gate: Gatekeeper
    caller: Caller
    name: str  # repository name ("" for /v2/ and the catalog)

    async def require(self, *actions: str) -> None:
        await self.gate.require(self.request, self.caller, self.name, frozenset(actions))

    def body(self) -> AsyncIterator[bytes]:
        return self.request.stream()

    async def read_limited(self, limit: int, code: str = "MANIFEST_TOO_LARGE") -> bytes:
        """The whole body, refused with `code` once it passes `limit` bytes."""
        declared = self.request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise RegistryError(code, f"body larger than {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        async for chunk in self.request.stream():
            size += len(chunk)
            if size > limit:
                raise RegistryError(code, f"body larger than {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
