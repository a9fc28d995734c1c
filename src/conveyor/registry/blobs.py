"""Blobs as a repository sees them: linked, readable, mountable, unlinkable."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from conveyor.auth.identity import Identity
from conveyor.db.models import Blob, Repository, RepositoryBlob
from conveyor.db.upsert import insert_ignore
from conveyor.oci.digest import Digest, DigestError
from conveyor.registry.context import RegistryContext
from conveyor.registry.errors import RegistryError
from conveyor.registry.repositories import ensure_repository


@dataclass(frozen=True, slots=True)
class BlobInfo:
    digest: Digest
    size: int


def parse_digest(text: str) -> Digest:
    try:
        return Digest.parse(text)
    except DigestError as exc:
        raise RegistryError("DIGEST_INVALID", str(exc), detail={"digest": text[:200]}) from None


async def linked_blob(ctx: RegistryContext, repository: str, digest: Digest) -> BlobInfo:
    """The blob as readable through this repository, or BLOB_UNKNOWN."""
    async with ctx.db.read() as session:
        size = await _linked_size(session, repository, digest)
    if size is None:
        raise RegistryError("BLOB_UNKNOWN", detail={"digest": str(digest)})
    return BlobInfo(digest, size)


async def _linked_size(session: AsyncSession, repository: str, digest: Digest) -> int | None:
    size: int | None = (
        await session.execute(
            select(Blob.size)
            .join(RepositoryBlob, RepositoryBlob.digest == Blob.digest)
            .join(Repository, Repository.id == RepositoryBlob.repository_id)
            .where(Repository.name == repository, Blob.digest == str(digest))
        )
    ).scalar_one_or_none()
    return size


async def link_blob(
    session: AsyncSession, repository: str, digest: Digest, size: int, actor: Identity
) -> None:
    """Record a verified blob and make it readable through the repository."""
    repo = await ensure_repository(session, repository, actor)
    await insert_ignore(session, Blob, digest=str(digest), size=size)
    await insert_ignore(session, RepositoryBlob, repository_id=repo.id, digest=str(digest))


async def repositories_holding(session: AsyncSession, digest: Digest) -> list[str]:
    rows = await session.execute(
        select(Repository.name)
        .join(RepositoryBlob, RepositoryBlob.repository_id == Repository.id)
        .where(RepositoryBlob.digest == str(digest))
        .order_by(Repository.name)
        .limit(50)
    )
    return list(rows.scalars())


async def mount_blob(
    ctx: RegistryContext, target: str, digest: Digest, sources: list[str], actor: Identity
) -> BlobInfo | None:
    """Link a blob that one of `sources` (repositories the caller may pull) already holds."""
    async with ctx.db.write() as session:
        for source in sources:
            size = await _linked_size(session, source, digest)
            if size is not None:
                await link_blob(session, target, digest, size, actor)
                return BlobInfo(digest, size)
    return None


async def unlink_blob(ctx: RegistryContext, repository: str, digest: Digest) -> None:
    async with ctx.db.write() as session:
        repo_id = (
            await session.execute(select(Repository.id).where(Repository.name == repository))
        ).scalar_one_or_none()
        if repo_id is None:
            raise RegistryError("NAME_UNKNOWN", detail={"name": repository})
        result = await session.execute(
            delete(RepositoryBlob).where(
                RepositoryBlob.repository_id == repo_id, RepositoryBlob.digest == str(digest)
            )
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise RegistryError("BLOB_UNKNOWN", detail={"digest": str(digest)})
