"""Request dependencies of the REST API: the services, and who is calling."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import Request

from conveyor.auth.identity import Identity
from conveyor.auth.policy import namespace_role
from conveyor.auth.secrets import SecretBox
from conveyor.registry.context import RegistryContext
from conveyor.registry.http.access import AccessDenied, Caller, Gatekeeper
from conveyor.web.errors import ApiError


@dataclass
class Services:
    ctx: RegistryContext
    gate: Gatekeeper
    box: SecretBox
    wake_runners: Callable[[], None] = field(default=lambda: None)
    instance_name: str = "conveyor"  # shown by the console; [server] instance_name
    region: str = "local"  # [server] region


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


async def caller(request: Request) -> Caller:
    try:
        return await services(request).gate.caller(request)
    except AccessDenied as exc:
        raise ApiError(401, "UNAUTHORIZED", exc.message) from None


async def signed_in(request: Request) -> Identity:
    who = await caller(request)
    if not who.signed_in:
        raise ApiError(401, "UNAUTHORIZED", "sign in first")
    return who.identity


async def admin(request: Request) -> Identity:
    identity = await signed_in(request)
    if not identity.is_admin:
        raise ApiError(403, "DENIED", "only an administrator may do this")
    return identity


async def require_role(request: Request, namespace: str, roles: tuple[str, ...]) -> Identity:
    """The caller, when their role in the namespace is one of `roles` (admins always pass)."""
    identity = await signed_in(request)
    async with services(request).ctx.db.read() as session:
        role = await namespace_role(session, identity, namespace)
    if role != "admin" and role not in roles:
        raise ApiError(403, "DENIED", f"needs the role {' or '.join(roles)} in {namespace!r}")
    return identity


READERS = ("owner", "developer", "guest")
WRITERS = ("owner", "developer")
OWNERS = ("owner",)
