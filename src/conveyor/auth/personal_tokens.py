"""Personal API tokens: `cvt_<id>_<secret>`, acting as their user, shown once, kept hashed.

The fixed prefix tells them apart from registry JWTs (which start with `eyJ`) and from
passwords; the id part finds the row, the hash of the whole text proves it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from conveyor.auth import opaque
from conveyor.auth.expiry import aware, is_expired
from conveyor.auth.identity import Identity
from conveyor.db.identity_models import PersonalToken
from conveyor.db.models import User

PREFIX: Final = opaque.PERSONAL_PREFIX
_SHAPE = re.compile(r"cvt_([0-9a-f]{12})_[A-Za-z0-9_-]{20,100}")
_NAME = re.compile(r"[\w .@:/+-]{1,64}")


class TokenNameError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class TokenView:
    id: str
    user: str
    name: str
    expires_at: datetime | None
    created_at: datetime


def is_personal_token(text: str) -> bool:
    return text.startswith(PREFIX)


async def create_token(
    session: AsyncSession, user: User, name: str, expires_at: datetime | None
) -> tuple[TokenView, str]:
    """The new token and its text, which is shown this once and never again."""
    if not _NAME.fullmatch(name):
        raise TokenNameError("token names are 1-64 letters, digits, spaces and . _ @ : / + -")
    token_id = secrets.token_hex(6)
    text = f"{PREFIX}{token_id}_{opaque.new_secret()}"
    row = PersonalToken(
        id=token_id,
        user_id=user.id,
        name=name,
        token_hash=opaque.digest(text),
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    return _view(row, user.name), text


async def list_tokens(session: AsyncSession, user_id: int | None) -> list[TokenView]:
    """One user's tokens; every user's for None."""
    query = (
        select(PersonalToken, User.name)
        .join(User, User.id == PersonalToken.user_id)
        .order_by(PersonalToken.created_at)
    )
    if user_id is not None:
        query = query.where(PersonalToken.user_id == user_id)
    return [_view(row, user) for row, user in (await session.execute(query)).all()]


async def revoke_token(session: AsyncSession, token_id: str, user_id: int | None) -> bool:
    """Delete a token (of `user_id`, or of anyone for None): it stops working at once."""
    statement = delete(PersonalToken).where(PersonalToken.id == token_id)
    if user_id is not None:
        statement = statement.where(PersonalToken.user_id == user_id)
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def token_sign_in(session: AsyncSession, text: str) -> Identity | None:
    found = _SHAPE.fullmatch(text)
    row = await _with_user(session, found.group(1)) if found else None
    if row is None or not opaque.matches(text, row[0].token_hash):
        return None
    return _live(*row)


async def token_by_id(session: AsyncSession, token_id: str) -> Identity | None:
    """The user a token acts for, while the token lives."""
    row = await _with_user(session, token_id)
    return None if row is None else _live(*row)


async def _with_user(session: AsyncSession, token_id: str) -> tuple[PersonalToken, User] | None:
    row = (
        await session.execute(
            select(PersonalToken, User)
            .join(User, User.id == PersonalToken.user_id)
            .where(PersonalToken.id == token_id)
        )
    ).first()
    return None if row is None else (row[0], row[1])


def _live(token: PersonalToken, user: User) -> Identity | None:
    if is_expired(token.expires_at):
        return None
    return Identity(user.name, user.id, user.is_admin, credential=f"token:{token.id}")


def _view(row: PersonalToken, user: str) -> TokenView:
    return TokenView(
        id=row.id,
        user=user,
        name=row.name,
        expires_at=aware(row.expires_at) if row.expires_at else None,
        created_at=aware(row.created_at),
    )
