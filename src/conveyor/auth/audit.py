"""The audit log: who did what, when, from where, and whether it worked.

`record()` adds a row to the caller's transaction, so the entry commits (or rolls back) with the
change it reports. Values of secrets and tokens never go in: only names and ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from conveyor.auth.origin import client_address
from conveyor.db.identity_models import AuditEvent

SUCCESS: Final = "success"
FAILURE: Final = "failure"

# The actions written, by area (a filter may name a whole area: `action=robot`).
LOGIN: Final = "auth.login"  # console sign-in (success), any failed sign-in (failure)
LOCKOUT: Final = "auth.lockout"  # too many failed sign-ins: a user name or address is locked
TOKEN_ISSUED: Final = "auth.token"  # a registry token for a signed-in caller (/auth/token)
PERSONAL_TOKEN_CREATED: Final = "token.create"
PERSONAL_TOKEN_REVOKED: Final = "token.revoke"
ROBOT_CREATED: Final = "robot.create"
ROBOT_REVOKED: Final = "robot.revoke"
PUSH: Final = "registry.push"
DELETE: Final = "registry.delete"
CHAIN_APPLIED: Final = "chain.apply"
CHAIN_DELETED: Final = "chain.delete"
MEMBER_SET: Final = "member.set"
MEMBER_REMOVED: Final = "member.remove"
SECRET_SET: Final = "secret.set"
SECRET_REMOVED: Final = "secret.remove"
SECRETS_REKEYED: Final = "secret.rotate-key"
ENDPOINT_ADDED: Final = "endpoint.add"
ENDPOINT_REMOVED: Final = "endpoint.remove"
USER_CREATED: Final = "user.create"
USER_DELETED: Final = "user.delete"
NAMESPACE_CREATED: Final = "namespace.create"
NAMESPACE_DELETED: Final = "namespace.delete"


def record(
    session: AsyncSession,
    action: str,
    *,
    actor: str,
    target: str = "",
    outcome: str = SUCCESS,
    detail: dict[str, Any] | None = None,
    client_ip: str | None = None,
) -> None:
    session.add(
        AuditEvent(
            actor=actor[:128],
            action=action,
            target=target[:512],
            outcome=outcome,
            client_ip=(client_address() if client_ip is None else client_ip)[:64],
            detail=detail or {},
        )
    )


@dataclass(frozen=True, slots=True)
class AuditQuery:
    actor: str | None = None
    action: str | None = None  # exact (`robot.create`) or an area (`robot`)
    since: datetime | None = None
    until: datetime | None = None
    outcome: str | None = None
    before_id: int | None = None  # paging: entries older than this one
    limit: int = 100


async def search(session: AsyncSession, query: AuditQuery) -> list[AuditEvent]:
    """Newest first."""
    statement = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(query.limit)
    if query.actor is not None:
        statement = statement.where(AuditEvent.actor == query.actor)
    if query.action is not None:
        statement = statement.where(
            (AuditEvent.action == query.action)
            | AuditEvent.action.startswith(query.action + ".", autoescape=True)
        )
    if query.since is not None:
        statement = statement.where(AuditEvent.at >= query.since)
    if query.until is not None:
        statement = statement.where(AuditEvent.at < query.until)
    if query.outcome is not None:
        statement = statement.where(AuditEvent.outcome == query.outcome)
    if query.before_id is not None:
        statement = statement.where(AuditEvent.id < query.before_id)
    return list((await session.execute(statement)).scalars())
