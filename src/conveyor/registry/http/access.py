"""Who is calling /v2, what they may do, and the challenge that tells a client how to get in."""

from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass

from starlette.requests import Request

from conveyor.auth.credentials import SignIn, SignInFailed, Throttled
from conveyor.auth.identity import ANONYMOUS, Identity
from conveyor.auth.origin import client_address
from conveyor.auth.personal_tokens import is_personal_token
from conveyor.auth.policy import repository_actions
from conveyor.auth.robots import parse_full_name
from conveyor.auth.throttle import ThrottlePolicy
from conveyor.auth.tokens import TokenError, TokenService, VerifiedToken
from conveyor.auth.users import find_user
from conveyor.db.database import Database
from conveyor.registry.context import BoundedCache

SIGN_IN_CACHE_SECONDS = 5.0
# A remembered password is still refused within this time of its user name (or the client's
# address) being locked: a lock must never answer "right password" to a guesser.
LOCK_RECHECK_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Caller:
    identity: Identity
    token: VerifiedToken | None = None

    @property
    def signed_in(self) -> bool:
        return not self.identity.anonymous or self.token is not None


class AccessDenied(Exception):
    """Ends the request with 401 and a challenge, or 403 when the caller is known but refused."""

    def __init__(
        self,
        status: int,
        challenge: str | None,
        message: str,
        detail: object,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.challenge = challenge
        self.message = message
        self.detail = detail
        self.retry_after = retry_after  # with status 429: too many failed sign-ins


def throttled(exc: Throttled) -> AccessDenied:
    return AccessDenied(429, None, str(exc), None, exc.retry_after)


class Gatekeeper:
    def __init__(
        self,
        db: Database,
        tokens: TokenService,
        *,
        external_url: str,
        create_on_push: bool,
        throttle: ThrottlePolicy | None = None,
    ) -> None:
        self.db = db
        self.tokens = tokens
        self.sign_in = SignIn(db, throttle or ThrottlePolicy())
        self.external_url = external_url.rstrip("/")
        self.create_on_push = create_on_push
        # Clients send Basic credentials with every request; a verified header is trusted for
        # a few seconds, so a deleted user or changed password takes effect within that time.
        self._signed_in: BoundedCache[str, tuple[float, Identity]] = BoundedCache(4096)
        self._lock_checked: BoundedCache[str, float] = BoundedCache(4096)

    def realm(self, request: Request) -> str:
        return f"{self.external_url or base_url(request)}/auth/token"

    def challenge(
        self, request: Request, scope: str | None = None, error: str | None = None
    ) -> str:
        parts = [f'realm="{self.realm(request)}"', f'service="{self.tokens.service}"']
        if scope:
            parts.append(f'scope="{scope}"')
        if error:
            parts.append(f'error="{error}"')
        return "Bearer " + ",".join(parts)

    async def caller(self, request: Request) -> Caller:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        try:
            if scheme.lower() == "basic":
                return Caller(await self._basic(request, value.strip()))
            if scheme.lower() == "bearer" and is_personal_token(value.strip()):
                return Caller(await self.sign_in.bearer(value.strip(), surface(request)))
        except SignInFailed as exc:
            raise AccessDenied(401, self.challenge(request), str(exc), None) from None
        except Throttled as exc:
            raise throttled(exc) from None
        if scheme.lower() == "bearer":
            return await self._bearer(request, value.strip())
        return Caller(ANONYMOUS)

    async def _bearer(self, request: Request, value: str) -> Caller:
        try:
            token = self.tokens.verify(value)
        except TokenError as exc:
            raise AccessDenied(
                401, self.challenge(request, error="invalid_token"), str(exc), None
            ) from None
        if token.credential is not None:
            # Issued through a robot or a personal token: only while that credential lives
            # (looked up every time, so a revocation holds at once on every replica).
            identity = await self.sign_in.credential(token.credential)
            if identity is None or identity.name != token.subject:
                raise AccessDenied(
                    401,
                    self.challenge(request, error="invalid_token"),
                    "the credential this token was issued through is revoked or expired",
                    None,
                )
            return Caller(identity, token)
        if parse_full_name(token.subject) is not None:
            raise AccessDenied(
                401, self.challenge(request, error="invalid_token"), "malformed token", None
            )
        return Caller(await self._subject(token.subject), token)

    async def _subject(self, name: str) -> Identity:
        """The account a token was issued to; it may have been deleted since (then anonymous)."""
        if not name:
            return ANONYMOUS
        key = f"sub:{name}"
        cached = self._signed_in.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        async with self.db.read() as session:
            user = await find_user(session, name)
        identity = Identity(user.name, user.id, user.is_admin) if user else ANONYMOUS
        self._signed_in.put(key, (time.monotonic() + SIGN_IN_CACHE_SECONDS, identity))
        return identity

    async def _basic(self, request: Request, value: str) -> Identity:
        cached = self._signed_in.get(value)
        now = time.monotonic()
        # Rechecked per client address too: a guesser elsewhere is checked at once.
        checked_key = f"{client_address()}\0{value}"
        if cached is not None and cached[0] > now:
            checked = self._lock_checked.get(checked_key) or 0.0
            if now - checked >= LOCK_RECHECK_SECONDS:
                await self.sign_in.recheck(cached[1].name)
                self._lock_checked.put(checked_key, now)
            return cached[1]
        try:
            name, _, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            name, password = "", ""
        identity = await self.sign_in.basic(name, password, surface(request))
        if identity.credential is None:
            # Passwords only: robot and personal tokens are looked up on every request, so
            # revoking one holds at once.
            self._signed_in.put(value, (time.monotonic() + SIGN_IN_CACHE_SECONDS, identity))
            self._lock_checked.put(checked_key, time.monotonic())
        return identity

    async def actions(self, caller: Caller, repository: str) -> frozenset[str]:
        if caller.token is not None:
            return frozenset(caller.token.actions_for("repository", repository))
        return await self.account_actions(caller, repository)

    async def account_actions(self, caller: Caller, repository: str) -> frozenset[str]:
        """What the caller's account may do, whatever the scope of the token it came with."""
        async with self.db.read() as session:
            return await repository_actions(
                session, caller.identity, repository, create_on_push=self.create_on_push
            )

    async def require(
        self, request: Request, caller: Caller, repository: str, needed: frozenset[str]
    ) -> None:
        if needed <= await self.actions(caller, repository):
            return
        scope = f"repository:{repository}:{','.join(sorted(needed, key=_ACTION_ORDER.index))}"
        detail = [{"Type": "repository", "Name": repository, "Action": a} for a in sorted(needed)]
        if caller.token is not None:
            raise AccessDenied(
                401,
                self.challenge(request, scope, "insufficient_scope"),
                "access to the requested resource is not authorized",
                detail,
            )
        if caller.signed_in:
            raise AccessDenied(403, None, "requested access to the resource is denied", detail)
        raise AccessDenied(
            401,
            self.challenge(request, scope),
            "access to the requested resource is not authorized",
            detail,
        )


_ACTION_ORDER = ["pull", "push", "delete"]


def surface(request: Request) -> str:
    """Which door a sign-in came through, for the audit log."""
    path = request.url.path
    if path.startswith("/v2"):
        return "registry"
    if path.startswith("/auth/token"):
        return "token"
    return "api" if path.startswith("/api/") else "console"


def base_url(request: Request) -> str:
    scheme = request.headers.get("x-forwarded-proto", request.url.scheme)
    host = request.headers.get("x-forwarded-host") or request.headers.get("host") or "localhost"
    return f"{scheme}://{host}"
