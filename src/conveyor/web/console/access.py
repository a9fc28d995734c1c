"""Who is looking at the console, and what they may do: the same rules as the REST API
(`conveyor.auth.policy`), applied to the identity of the session cookie."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from conveyor.auth.identity import Identity
from conveyor.auth.policy import namespace_role
from conveyor.auth.users import find_user
from conveyor.registry.http.access import Caller
from conveyor.web.console.errors import ConsoleError, LoginRequired
from conveyor.web.console.session import (
    COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    tokens_match,
    unseal,
)
from conveyor.web.deps import services

READERS = ("owner", "developer", "guest")
WRITERS = ("owner", "developer")
OWNERS = ("owner",)


@dataclass(frozen=True, slots=True)
class Viewer:
    identity: Identity
    csrf: str

    @property
    def name(self) -> str:
        return self.identity.name

    @property
    def is_admin(self) -> bool:
        return self.identity.is_admin


async def viewer(request: Request) -> Viewer:
    """The signed-in user of a page (a FastAPI dependency); the account must still exist."""
    svc = services(request)
    session = unseal(svc.box, request.cookies.get(COOKIE))
    if session is None:
        raise LoginRequired()
    async with svc.ctx.db.read() as db:
        user = await find_user(db, session.user)
    if user is None or user.id != session.user_id:
        raise LoginRequired()
    return Viewer(Identity(user.name, user.id, user.is_admin), session.csrf)


async def acting_viewer(request: Request) -> Viewer:
    """The signed-in user of a state-changing request, which must carry the CSRF token."""
    who = await viewer(request)
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not tokens_match(who.csrf, given):
        raise ConsoleError(
            403,
            "The form has expired or did not come from this console. "
            "Reload the page and try again.",
        )
    return who


async def role_in(request: Request, who: Viewer, namespace: str) -> str | None:
    async with services(request).ctx.db.read() as db:
        return await namespace_role(db, who.identity, namespace)


async def has_role(request: Request, who: Viewer, namespace: str, roles: tuple[str, ...]) -> bool:
    role = await role_in(request, who, namespace)
    return role == "admin" or role in roles


async def require_role(
    request: Request, who: Viewer, namespace: str, roles: tuple[str, ...]
) -> None:
    if not await has_role(request, who, namespace, roles):
        raise ConsoleError(403, f"This needs the role {' or '.join(roles)} in {namespace!r}.")


def require_admin(who: Viewer) -> None:
    if not who.is_admin:
        raise ConsoleError(403, "Only an administrator may do this.")


async def may_pull(request: Request, who: Viewer, repository: str) -> bool:
    actions = await services(request).gate.account_actions(Caller(who.identity), repository)
    return "pull" in actions
