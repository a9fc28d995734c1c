"""Namespaces and repositories: lookup, creation on first push, listing."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from conveyor.auth.identity import Identity
from conveyor.db.models import Member, Namespace, Repository, Tag
from conveyor.db.upsert import insert_ignore
from conveyor.oci.reference import is_valid_name, split_namespace
from conveyor.registry.errors import RegistryError


def check_name(name: str) -> None:
    if not is_valid_name(name):
        raise RegistryError("NAME_INVALID", detail={"name": name[:300]})


async def find_repository(session: AsyncSession, name: str) -> Repository | None:
    return (
        await session.execute(select(Repository).where(Repository.name == name))
    ).scalar_one_or_none()


async def require_repository(session: AsyncSession, name: str) -> Repository:
    repository = await find_repository(session, name)
    if repository is None:
        raise RegistryError("NAME_UNKNOWN", detail={"name": name})
    return repository


async def ensure_namespace(
    session: AsyncSession, name: str, creator: Identity, *, public: bool = False
) -> Namespace:
    namespace = (
        await session.execute(select(Namespace).where(Namespace.name == name))
    ).scalar_one_or_none()
    if namespace is not None:
        return namespace
    await insert_ignore(session, Namespace, name=name, public=public)
    namespace = (
        await session.execute(select(Namespace).where(Namespace.name == name))
    ).scalar_one()
    if creator.user_id is not None and not creator.is_admin:
        await insert_ignore(
            session, Member, namespace_id=namespace.id, user_id=creator.user_id, role="owner"
        )
    return namespace


async def ensure_repository(session: AsyncSession, name: str, creator: Identity) -> Repository:
    repository = await find_repository(session, name)
    if repository is not None:
        return repository
    namespace = await ensure_namespace(session, split_namespace(name)[0], creator)
    await insert_ignore(session, Repository, namespace_id=namespace.id, name=name)
    return (await session.execute(select(Repository).where(Repository.name == name))).scalar_one()


async def list_repositories(
    session: AsyncSession, namespace: str | None = None
) -> list[tuple[Repository, int]]:
    """Repositories (optionally of one namespace) with their tag counts, by name."""
    query = (
        select(Repository, func.count(Tag.name))
        .outerjoin(Tag, Tag.repository_id == Repository.id)
        .group_by(Repository.id)
        .order_by(Repository.name)
    )
    if namespace is not None:
        query = query.join(Namespace, Namespace.id == Repository.namespace_id).where(
            Namespace.name == namespace
        )
    return [(repo, count) for repo, count in (await session.execute(query)).all()]


async def delete_namespace(session: AsyncSession, name: str) -> bool:
    result = await session.execute(delete(Namespace).where(Namespace.name == name))
    return bool(result.rowcount)  # type: ignore[attr-defined]
