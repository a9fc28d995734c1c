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
    """Basic (password, robot or personal token), a personal token as Bearer, or anonymous.
    Registry tokens (JWTs) are refused: their scope names repositories, not API resources."""
    try:
        who = await services(request).gate.caller(request)
    except AccessDenied as exc:
        raise api_denial(exc) from None
    if who.token is not None:
        raise ApiError(
            401,
            "UNAUTHORIZED",
            "registry tokens are for /v2 only; use a password or a personal token (conveyor login)",
        )
    if who.identity.robot is not None:
        raise ApiError(403, "DENIED", "robot accounts only pull and push, through /v2")
    return who


def api_denial(exc: AccessDenied) -> ApiError:
    if exc.status == 429:
        retry = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        return ApiError(429, "TOO_MANY_REQUESTS", exc.message, headers=retry)
    return ApiError(401, "UNAUTHORIZED", exc.message)


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


async def has_role(request: Request, namespace: str, roles: tuple[str, ...]) -> bool:
    """Like require_role, as a yes/no (for filtering lists)."""
    try:
        await require_role(request, namespace, roles)
    except ApiError:
        return False
    return True


READERS = ("owner", "developer", "guest")
WRITERS = ("owner", "developer")
OWNERS = ("owner",)
