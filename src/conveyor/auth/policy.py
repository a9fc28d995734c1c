"""What an identity may do to a repository: admin, namespace roles, and public pull."""

from __future__ import annotations

from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from conveyor.auth.identity import Identity
from conveyor.db.models import Member, Namespace
from conveyor.oci.reference import split_namespace

PULL: Final = "pull"
PUSH: Final = "push"
DELETE: Final = "delete"
ALL_ACTIONS: Final = frozenset({PULL, PUSH, DELETE})
ROLES: Final = ("owner", "developer", "guest")
ROLE_ACTIONS: Final = {
    "owner": ALL_ACTIONS,
    "developer": ALL_ACTIONS,
    "guest": frozenset({PULL}),
}


async def repository_actions(
    session: AsyncSession, identity: Identity, repository: str, *, create_on_push: bool
) -> frozenset[str]:
    if identity.is_admin:
        return ALL_ACTIONS
    namespace_name = split_namespace(repository)[0]
    namespace = (
        await session.execute(select(Namespace).where(Namespace.name == namespace_name))
    ).scalar_one_or_none()
    if namespace is None:
        # Pushing creates the namespace, owned by whoever pushed first (never by a robot).
        if create_on_push and identity.user_id is not None:
            return frozenset({PULL, PUSH})
        return frozenset()
    actions: set[str] = {PULL} if namespace.public else set()
    if identity.robot is not None:
        # Its own namespace as its access says; elsewhere only what anybody has (public pull).
        if identity.robot.namespace == namespace_name:
            actions |= identity.robot.actions
        return frozenset(actions)
    if identity.user_id is not None:
        role = (
            await session.execute(
                select(Member.role).where(
                    Member.namespace_id == namespace.id, Member.user_id == identity.user_id
                )
            )
        ).scalar_one_or_none()
        if role is not None:
            actions |= ROLE_ACTIONS[role]
    return frozenset(actions)


async def namespace_role(session: AsyncSession, identity: Identity, namespace: str) -> str | None:
    """The caller's role in a namespace: "admin" for administrators, else owner/developer/guest."""
    if identity.is_admin:
        return "admin"
    if identity.user_id is None:
        return None
    role = (
        await session.execute(
            select(Member.role)
            .join(Namespace, Namespace.id == Member.namespace_id)
            .where(Namespace.name == namespace, Member.user_id == identity.user_id)
        )
    ).scalar_one_or_none()
    return str(role) if role is not None else None
