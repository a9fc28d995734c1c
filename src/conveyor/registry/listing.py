"""Paginated listings: tags of a repository and the catalog, with `n`, `last` and `Link`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from conveyor.db.models import Repository, Tag
from conveyor.registry.context import RegistryContext
from conveyor.registry.errors import RegistryError
from conveyor.registry.repositories import require_repository

MAX_PAGE = 10_000


@dataclass(frozen=True, slots=True)
class Page:
    items: list[str]
    more: bool  # another page follows: send a Link header


def page_size(text: str | None) -> int | None:
    if text is None or text == "":
        return None
    if not text.isdigit():
        raise RegistryError("PAGINATION_NUMBER_INVALID", detail={"n": text[:20]})
    return min(int(text), MAX_PAGE)


async def list_tags(ctx: RegistryContext, repository: str, n: int | None, last: str | None) -> Page:
    async with ctx.db.read() as session:
        repo = await require_repository(session, repository)
        query = select(Tag.name).where(Tag.repository_id == repo.id).order_by(Tag.name)
        if last:
            query = query.where(Tag.name > last)
        return await _page(session, query, n)


async def list_catalog(
    ctx: RegistryContext, n: int | None, last: str | None, visible: set[str] | None
) -> Page:
    """Repository names; `visible` limits them to what the caller may pull (None: all)."""
    async with ctx.db.read() as session:
        query = select(Repository.name).order_by(Repository.name)
        if last:
            query = query.where(Repository.name > last)
        if visible is not None:
            query = query.where(Repository.name.in_(visible))
        return await _page(session, query, n)


async def _page(session, query, n: int | None) -> Page:  # type: ignore[no-untyped-def]
    if n == 0:
        return Page([], False)
    limit = n if n is not None else MAX_PAGE
    names = list((await session.execute(query.limit(limit + 1))).scalars())
    return Page(names[:limit], len(names) > limit)
