"""What a viewer can see: namespaces, repositories, chains and records, by the API's rules
(namespace roles for chains and records; pull rights for repositories)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from fastapi import Request
from sqlalchemy import Select, func, select

from conveyor.chains.store import list_chains
from conveyor.db.chain_models import Chain, Record
from conveyor.db.models import Member, Namespace, Repository
from conveyor.registry.repositories import list_repositories
from conveyor.web.console.access import Viewer
from conveyor.web.deps import services

Q = TypeVar("Q", bound=Select[Any])


@dataclass(frozen=True, slots=True)
class NamespaceRow:
    name: str
    public: bool
    role: str | None
    repositories: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RepositoryRow:
    name: str
    namespace: str
    tags: int
    created_at: datetime


async def roles(request: Request, who: Viewer) -> dict[str, str]:
    """The viewer's role in each namespace they belong to."""
    if who.identity.user_id is None:
        return {}
    async with services(request).ctx.db.read() as db:
        rows = await db.execute(
            select(Namespace.name, Member.role)
            .join(Member, Member.namespace_id == Namespace.id)
            .where(Member.user_id == who.identity.user_id)
        )
        return {name: role for name, role in rows.all()}


async def namespaces(request: Request, who: Viewer) -> list[NamespaceRow]:
    """Every namespace for an administrator; else the public ones and the viewer's own."""
    mine = await roles(request, who)
    async with services(request).ctx.db.read() as db:
        rows = await db.execute(
            select(Namespace, func.count(Repository.id))
            .outerjoin(Repository, Repository.namespace_id == Namespace.id)
            .group_by(Namespace.id)
            .order_by(Namespace.name)
        )
        found = []
        for namespace, count in rows.all():
            role = "admin" if who.is_admin else mine.get(namespace.name)
            if role or namespace.public:
                found.append(
                    NamespaceRow(
                        namespace.name, namespace.public, role, count, namespace.created_at
                    )
                )
    return found


async def repositories(
    request: Request, who: Viewer, namespace: str | None = None
) -> list[RepositoryRow]:
    """Repositories the viewer may pull, with their tag counts."""
    visible = {row.name for row in await namespaces(request, who)}
    async with services(request).ctx.db.read() as db:
        rows = await list_repositories(db, namespace)
    result = []
    for repo, count in rows:
        ns = repo.name.split("/", 1)[0]
        if ns in visible:
            result.append(RepositoryRow(repo.name, ns, count, repo.created_at))
    return result


async def readable_namespaces(request: Request, who: Viewer) -> set[str] | None:
    """Namespaces whose chains and records the viewer may read; None: all (administrator)."""
    if who.is_admin:
        return None
    return set(await roles(request, who))


async def chains(request: Request, who: Viewer) -> list[Chain]:
    allowed = await readable_namespaces(request, who)
    async with services(request).ctx.db.read() as db:
        found = await list_chains(db)
    return [c for c in found if allowed is None or c.namespace in allowed]


def limit_to(query: Q, allowed: set[str] | None) -> Q:
    """Records of existing chains in the allowed namespaces only (as the API lists them)."""
    query = query.join(Chain, Chain.name == Record.chain_name)
    if allowed is None:
        return query
    return query.where(Chain.namespace.in_(sorted(allowed)))
