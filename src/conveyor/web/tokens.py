"""/api/v1/tokens: personal API tokens (what `conveyor login` keeps instead of a password).

* POST {"name"?, "expiresIn"?: "90d"} -> the token, shown once. Needs the password (Basic):
  a token cannot mint tokens, so a stolen one cannot outlive its own expiry.
* GET [?user=NAME] -> the caller's tokens (administrators: anyone's), never their text
* DELETE /{id} -> revoked at once (administrators may revoke anyone's)
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from conveyor.auth import audit
from conveyor.auth.expiry import ExpiryError, expires_at
from conveyor.auth.identity import Identity
from conveyor.auth.personal_tokens import (
    TokenNameError,
    TokenView,
    create_token,
    list_tokens,
    revoke_token,
)
from conveyor.auth.users import find_user
from conveyor.web.deps import services, signed_in
from conveyor.web.errors import ApiError

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])


class TokenIn(BaseModel):
    name: str | None = Field(default=None, max_length=64)
    expiresIn: str | None = Field(default=None, max_length=16, description="e.g. 90d; none")


class TokenOut(BaseModel):
    id: str
    user: str
    name: str
    expiresAt: datetime | None
    createdAt: datetime


class CreatedTokenOut(TokenOut):
    token: str = Field(description="shown this once; send it as `Authorization: Bearer <token>`")


def _out(view: TokenView) -> TokenOut:
    return TokenOut(
        id=view.id,
        user=view.user,
        name=view.name,
        expiresAt=view.expires_at,
        createdAt=view.created_at,
    )


@router.post("", response_model=CreatedTokenOut, status_code=201)
async def add_token(
    body: TokenIn, request: Request, identity: Identity = Depends(signed_in)
) -> CreatedTokenOut:
    if not identity.by_password:
        raise ApiError(403, "DENIED", "make personal tokens with your password, not a token")
    try:
        until = expires_at(body.expiresIn)
    except ExpiryError as exc:
        raise ApiError(400, "INVALID", str(exc), "expiresIn") from None
    name = body.name or "api"
    async with services(request).ctx.db.write() as session:
        user = await find_user(session, identity.name)
        if user is None:
            raise ApiError(401, "UNAUTHORIZED", "sign in first")
        try:
            view, text = await create_token(session, user, name, until)
        except TokenNameError as exc:
            raise ApiError(400, "INVALID", str(exc), "name") from None
        audit.record(
            session,
            audit.PERSONAL_TOKEN_CREATED,
            actor=identity.name,
            target=f"token:{view.id}",
            detail={"name": name, "expiresAt": until.isoformat() if until else None},
        )
    return CreatedTokenOut(**_out(view).model_dump(), token=text)


@router.get("", response_model=list[TokenOut])
async def get_tokens(
    request: Request, user: str | None = None, identity: Identity = Depends(signed_in)
) -> list[TokenOut]:
    if user is not None and user != identity.name and not identity.is_admin:
        raise ApiError(403, "DENIED", "only an administrator may list another user's tokens")
    async with services(request).ctx.db.read() as session:
        owner = await find_user(session, user or identity.name)
        if owner is None:
            raise ApiError(404, "NOT_FOUND", f"no user {user!r}", "user")
        return [_out(view) for view in await list_tokens(session, owner.id)]


@router.delete("/{token_id}", status_code=204)
async def delete_token(
    token_id: str, request: Request, identity: Identity = Depends(signed_in)
) -> None:
    async with services(request).ctx.db.write() as session:
        scope = None if identity.is_admin else identity.user_id
        if not await revoke_token(session, token_id[:16], scope):
            raise ApiError(404, "NOT_FOUND", f"no token {token_id[:16]!r}")
        audit.record(
            session,
            audit.PERSONAL_TOKEN_REVOKED,
            actor=identity.name,
            target=f"token:{token_id[:16]}",
        )
