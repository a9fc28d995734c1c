"""Signing in with what a caller sends: a password, a robot's token, or a personal token.

Every surface (registry Basic, the token endpoint, the REST API, the console) comes through
here, so they share one set of rules: a locked user name or address is refused before anything
is checked, and every failure is counted (address always; user name for passwords) and audited.
"""

from __future__ import annotations

from conveyor.auth import audit, opaque, throttle
from conveyor.auth.identity import Identity
from conveyor.auth.origin import client_address
from conveyor.auth.personal_tokens import is_personal_token, token_by_id, token_sign_in
from conveyor.auth.robots import parse_full_name, robot_by_id, robot_sign_in
from conveyor.auth.throttle import Throttled, ThrottlePolicy
from conveyor.auth.users import UserError, authenticate, validate_user_name
from conveyor.db.database import Database


class SignInFailed(Exception):
    """Wrong user name, password or token (the message never says which)."""


class SignIn:
    def __init__(self, db: Database, policy: ThrottlePolicy) -> None:
        self.db = db
        self.policy = policy

    async def basic(self, user: str, secret: str, via: str, *, tokens: bool = True) -> Identity:
        """A user name with a password, a robot name with its token, or (when `tokens`) a user
        name with one of that user's personal tokens."""
        by_token = tokens and (parse_full_name(user) is not None or is_personal_token(secret))
        keys = throttle.limits(self.policy, None if by_token else user, client_address())
        counted = await self._check(keys)
        identity = await (self._token(user, secret) if by_token else self._password(user, secret))
        if identity is None:
            await self._failed(keys, user, via)
            raise SignInFailed("invalid username or password")
        if throttle.user_key(user) in counted:  # earlier typos of this user are forgiven
            async with self.db.write() as session:
                await throttle.forget(session, throttle.user_key(user))
        return identity

    async def recheck(self, user: str) -> None:
        """For a remembered right password: raise Throttled when the user name or the
        client's address is locked now; forgive the user's earlier typos."""
        keys = throttle.limits(self.policy, user, client_address())
        if throttle.user_key(user) in await self._check(keys):
            async with self.db.write() as session:
                await throttle.forget(session, throttle.user_key(user))

    async def bearer(self, text: str, via: str) -> Identity:
        """A personal token sent as `Authorization: Bearer cvt_...`."""
        keys = throttle.limits(self.policy, None, client_address())
        await self._check(keys)
        async with self.db.read() as session:
            identity = await token_sign_in(session, text)
        if identity is None:
            await self._failed(keys, "", via)
            raise SignInFailed("invalid or expired token")
        return identity

    async def credential(self, reference: str) -> Identity | None:
        """Who a registry token's `cred` claim (`robot:<id>`, `token:<id>`) stands for, while
        that robot or personal token lives; None once revoked or expired."""
        kind, _, value = reference.partition(":")
        async with self.db.read() as session:
            if kind == "robot" and value.isdigit():
                return await robot_by_id(session, int(value))
            if kind == "token":
                return await token_by_id(session, value)
        return None

    async def _check(self, keys: dict[str, int]) -> set[str]:
        async with self.db.read() as session:
            return await throttle.check(session, list(keys))

    async def _password(self, user: str, password: str) -> Identity | None:
        return await authenticate(self.db, user, password) if user and password else None

    async def _token(self, user: str, secret: str) -> Identity | None:
        async with self.db.read() as session:
            if parse_full_name(user) is not None:
                return await robot_sign_in(session, user, secret)
            identity = await token_sign_in(session, secret)
        return identity if identity is not None and identity.name == user else None

    async def _failed(self, keys: dict[str, int], user: str, via: str) -> None:
        actor = loggable_name(user)
        async with self.db.write() as session:
            locked = await throttle.note_failure(session, keys, self.policy)
            audit.record(
                session, audit.LOGIN, actor=actor, outcome=audit.FAILURE, detail={"via": via}
            )
            for key in locked:
                audit.record(
                    session,
                    audit.LOCKOUT,
                    actor=actor,
                    target=key if key.startswith("ip:") else throttle.user_key(actor),
                    outcome=audit.FAILURE,
                    detail={"via": via, "seconds": self.policy.lockout_seconds},
                )


def loggable_name(user: str) -> str:
    """A name tried at sign-in, as the audit log may keep it: a user's or a robot's name, else
    a placeholder (people type passwords and paste tokens into the user name field)."""
    if user.startswith((opaque.PERSONAL_PREFIX, opaque.ROBOT_PREFIX)):
        return "(not a name)"
    if parse_full_name(user) is not None:
        return user
    try:
        validate_user_name(user)
    except UserError:
        return "(not a name)" if user else ""
    return user


__all__ = ["SignIn", "SignInFailed", "Throttled"]
