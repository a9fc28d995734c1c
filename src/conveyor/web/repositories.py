"""/api/v1/repositories: what the caller may pull, with tags."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import select

from conveyor.db.models import Manifest, Tag
from conveyor.oci.reference import split_namespace
from conveyor.registry.repositories import find_repository, list_repositories
from conveyor.web.deps import caller, services
from conveyor.web.errors import ApiError

router = APIRouter(prefix="/api/v1/repositories", tags=["repositories"])


class RepositoryOut(BaseModel):
    name: str
    namespace: str
    tagCount: int
    createdAt: datetime


class TagOut(BaseModel):
    name: str
    digest: str
    mediaType: str
    size: int
    updatedAt: datetime


class RepositoryDetail(RepositoryOut):
    tags: list[TagOut]


@router.get("", response_model=list[RepositoryOut])
async def list_all(request: Request, namespace: str | None = None) -> list[RepositoryOut]:
    who = await caller(request)
    gate = services(request).gate
    async with services(request).ctx.db.read() as session:
        rows = await list_repositories(session, namespace)
    result = []
    for repo, count in rows:
        if "pull" in await gate.actions(who, repo.name):
            result.append(_out(repo.name, count, repo.created_at))
    return result


@router.get("/{name:path}", response_model=RepositoryDetail)
async def show(name: str, request: Request) -> RepositoryDetail:
    who = await caller(request)
    if "pull" not in await services(request).gate.actions(who, name):
        raise ApiError(404, "NOT_FOUND", f"no repository {name!r}")
    async with services(request).ctx.db.read() as session:
        repo = await find_repository(session, name)
        if repo is None:
            raise ApiError(404, "NOT_FOUND", f"no repository {name!r}")
        rows = (
            await session.execute(
                select(Tag, Manifest)
                .join(
                    Manifest,
                    (Manifest.repository_id == Tag.repository_id) & (Manifest.digest == Tag.digest),
                )
                .where(Tag.repository_id == repo.id)
                .order_by(Tag.name)
            )
        ).all()
    tags = [
        TagOut(
            name=t.name,
            digest=t.digest,
            mediaType=m.media_type,
            size=m.size,
            updatedAt=t.updated_at,
        )
        for t, m in rows
    ]
    base = _out(repo.name, len(tags), repo.created_at)
    return RepositoryDetail(**base.model_dump(), tags=tags)


def _out(name: str, count: int, created: datetime) -> RepositoryOut:
    return RepositoryOut(
        name=name, namespace=split_namespace(name)[0], tagCount=count, createdAt=created
    )
