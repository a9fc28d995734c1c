"""User accounts: creation, sign-in, and the first admin."""

from __future__ import annotations

import secrets

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from conveyor.auth.identity import Identity
from conveyor.auth.passwords import hash_password, verify_password
from conveyor.db.database import Database
from conveyor.db.models import User
from conveyor.oci.reference import NAME_PATTERN

MIN_PASSWORD_LENGTH = 8


class UserError(ValueError):
    def __init__(self, message: str, code: str = "INVALID", field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.field = field


def validate_user_name(name: str) -> None:
    if not (1 <= len(name) <= 64) or "/" in name or not NAME_PATTERN.fullmatch(name):
        raise UserError("user names are 1-64 of a-z 0-9 and . _ - between them", field="name")


async def create_user(
    session: AsyncSession, name: str, password: str, *, is_admin: bool = False
) -> User:
    validate_user_name(name)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(
            f"passwords need at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )
    if await find_user(session, name) is not None:
        raise UserError(f"user {name!r} exists", code="CONFLICT", field="name")
    user = User(name=name, password_hash=hash_password(password), is_admin=is_admin)
    session.add(user)
    await session.flush()
    return user


async def find_user(session: AsyncSession, name: str) -> User | None:
    return (await session.execute(select(User).where(User.name == name))).scalar_one_or_none()


async def delete_user(session: AsyncSession, name: str) -> bool:
    result = await session.execute(delete(User).where(User.name == name))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def authenticate(db: Database, name: str, password: str) -> Identity | None:
    async with db.read() as session:
        user = await find_user(session, name)
    if user is None or not verify_password(user.password_hash, password):
        return None
    return Identity(user.name, user.id, user.is_admin)


async def ensure_admin(db: Database, password: str | None) -> str | None:
    """Create `admin` when no user exists; returns the generated password, if one was made."""
    async with db.write() as session:
        if (await session.execute(select(User.id).limit(1))).first() is not None:
            return None
        generated = None if password else secrets.token_urlsafe(18)
        await create_user(session, "admin", password or generated or "", is_admin=True)
    return generated
