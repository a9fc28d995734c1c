"""POST /api/v1/secrets/rotate-key (administrators): seal every secret and endpoint password
again with the current `[secrets] key` (older keys stay readable from `previous_keys`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from conveyor.auth import audit
from conveyor.auth.identity import Identity
from conveyor.auth.rekey import rotate_key
from conveyor.auth.secrets import SecretError
from conveyor.web.deps import admin, services
from conveyor.web.errors import ApiError

router = APIRouter(prefix="/api/v1/secrets", tags=["secrets"])


class RekeyOut(BaseModel):
    keyId: str
    secrets: int
    endpointPasswords: int


@router.post("/rotate-key", response_model=RekeyOut)
async def rotate(request: Request, identity: Identity = Depends(admin)) -> RekeyOut:
    svc = services(request)
    try:
        async with svc.ctx.db.write() as session:
            report = await rotate_key(session, svc.box)
            audit.record(
                session,
                audit.SECRETS_REKEYED,
                actor=identity.name,
                target=f"key:{report.key_id}",
                detail={"secrets": report.secrets, "endpointPasswords": report.endpoint_passwords},
            )
    except SecretError as exc:
        raise ApiError(409, "CONFLICT", f"{exc}; nothing was changed") from None
    return RekeyOut(
        keyId=report.key_id, secrets=report.secrets, endpointPasswords=report.endpoint_passwords
    )
