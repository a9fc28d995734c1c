"""Manifests and indexes: validated on push, stored byte for byte, tagged atomically."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from conveyor.auth.identity import Identity
from conveyor.db.models import Blob, Manifest, ManifestReference, Repository, RepositoryBlob, Tag
from conveyor.db.upsert import insert_ignore, upsert
from conveyor.oci.digest import Digest, DigestError
from conveyor.oci.manifest import Manifest as ParsedManifest
from conveyor.oci.manifest import ManifestError, parse_manifest
from conveyor.oci.reference import is_valid_tag
from conveyor.registry import events
from conveyor.registry.context import RegistryContext
from conveyor.registry.errors import RegistryError
from conveyor.registry.paths import blob_path
from conveyor.registry.repositories import ensure_repository, find_repository


@dataclass(frozen=True, slots=True)
class StoredManifest:
    digest: str
    media_type: str
    size: int


@dataclass(frozen=True, slots=True)
class PushResult:
    digest: Digest
    subject: str | None
    tags: tuple[str, ...]


def parse_reference(reference: str, *, for_write: bool = False) -> Digest | str:
    """A manifest reference is a digest (has a colon) or a tag. A read of a reference that
    cannot exist is simply unknown (404); a write of one is invalid (400)."""
    try:
        if ":" in reference:
            try:
                return Digest.parse(reference)
            except DigestError as exc:
                raise RegistryError("DIGEST_INVALID", str(exc)) from None
        if not is_valid_tag(reference):
            raise RegistryError("TAG_INVALID", detail={"tag": reference[:200]})
    except RegistryError:
        if for_write:
            raise
        raise RegistryError("MANIFEST_UNKNOWN", detail={"reference": reference[:200]}) from None
    return reference


async def resolve(ctx: RegistryContext, repository: str, reference: Digest | str) -> StoredManifest:
    async with ctx.db.read() as session:
        query = select(Manifest.digest, Manifest.media_type, Manifest.size).join(
            Repository, Repository.id == Manifest.repository_id
        )
        if isinstance(reference, Digest):
            query = query.where(Repository.name == repository, Manifest.digest == str(reference))
        else:
            query = query.join(
                Tag, (Tag.repository_id == Repository.id) & (Tag.digest == Manifest.digest)
            ).where(Repository.name == repository, Tag.name == reference)
        row = (await session.execute(query)).first()
    if row is None:
        raise RegistryError("MANIFEST_UNKNOWN", detail={"reference": str(reference)[:200]})
    return StoredManifest(row.digest, row.media_type, row.size)


async def read_content(ctx: RegistryContext, manifest: StoredManifest) -> bytes:
    cached = ctx.manifest_bytes.get(manifest.digest)
    if cached is not None:
        return cached
    chunks = [c async for c in ctx.store.read(blob_path(Digest.parse(manifest.digest)))]
    content = b"".join(chunks)
    ctx.manifest_bytes.put(manifest.digest, content)
    return content


async def push(
    ctx: RegistryContext,
    repository: str,
    reference: Digest | str,
    body: bytes,
    content_type: str | None,
    extra_tags: list[str],
    actor: Identity,
) -> PushResult:
    digest = _digest_for(reference, body)
    tags = _tags_for(reference, extra_tags)
    try:
        parsed = parse_manifest(body, content_type)
    except ManifestError as exc:
        raise RegistryError("MANIFEST_INVALID", str(exc)) from None
    await _check_references(ctx, repository, parsed)
    path = blob_path(digest)
    if await ctx.store.stat(path) is None:
        await ctx.store.write(path, _one(body))
    ctx.manifest_bytes.put(str(digest), body)
    published: list[events.RegistryEvent] = []
    async with ctx.db.write() as session:
        repo = await ensure_repository(session, repository, actor)
        await insert_ignore(session, Blob, digest=str(digest), size=len(body))
        await _save_manifest(session, repo.id, digest, parsed, len(body))
        published.append(
            events.record(
                session,
                events.RegistryEvent(
                    events.MANIFEST_PUSHED,
                    repository,
                    str(digest),
                    None,
                    parsed.media_type,
                    actor.name,
                ),
            )
        )
        for tag in tags:
            await upsert(
                session,
                Tag,
                ["repository_id", "name"],
                repository_id=repo.id,
                name=tag,
                digest=str(digest),
            )
            published.append(
                events.record(
                    session,
                    events.RegistryEvent(
                        events.TAG_SET,
                        repository,
                        str(digest),
                        tag,
                        parsed.media_type,
                        actor.name,
                    ),
                )
            )
        for hook in ctx.transaction_hooks:
            await hook(session, published)
    ctx.events.publish(published)
    subject = str(parsed.subject.digest) if parsed.subject else None
    return PushResult(digest, subject, tuple(tags))


async def delete_reference(
    ctx: RegistryContext, repository: str, reference: Digest | str, actor: Identity
) -> None:
    """A tag: remove the tag. A digest: remove the manifest and every tag pointing at it."""
    async with ctx.db.write() as session:
        repo = await find_repository(session, repository)
        if repo is None:
            raise RegistryError("NAME_UNKNOWN", detail={"name": repository})
        if isinstance(reference, str):
            event = await _delete_tag(session, repo.id, repository, reference, actor)
        else:
            event = await _delete_manifest(session, repo.id, repository, reference, actor)
        for hook in ctx.transaction_hooks:
            await hook(session, [event])
    ctx.events.publish([event])


async def _delete_tag(
    session: AsyncSession, repo_id: int, repository: str, tag: str, actor: Identity
) -> events.RegistryEvent:
    digest = (
        await session.execute(
            select(Tag.digest).where(Tag.repository_id == repo_id, Tag.name == tag)
        )
    ).scalar_one_or_none()
    if digest is None:
        raise RegistryError("MANIFEST_UNKNOWN", detail={"tag": tag})
    await session.execute(delete(Tag).where(Tag.repository_id == repo_id, Tag.name == tag))
    return events.record(
        session, events.RegistryEvent(events.TAG_DELETED, repository, digest, tag, None, actor.name)
    )


async def _delete_manifest(
    session: AsyncSession, repo_id: int, repository: str, digest: Digest, actor: Identity
) -> events.RegistryEvent:
    result = await session.execute(
        delete(Manifest).where(Manifest.repository_id == repo_id, Manifest.digest == str(digest))
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise RegistryError("MANIFEST_UNKNOWN", detail={"digest": str(digest)})
    await session.execute(
        delete(Tag).where(Tag.repository_id == repo_id, Tag.digest == str(digest))
    )
    await session.execute(
        delete(ManifestReference).where(
            ManifestReference.repository_id == repo_id,
            ManifestReference.parent_digest == str(digest),
        )
    )
    return events.record(
        session,
        events.RegistryEvent(
            events.MANIFEST_DELETED, repository, str(digest), None, None, actor.name
        ),
    )


def _digest_for(reference: Digest | str, body: bytes) -> Digest:
    algorithm = reference.algorithm if isinstance(reference, Digest) else "sha256"
    digest = Digest.of(body, algorithm)
    if isinstance(reference, Digest) and digest != reference:
        raise RegistryError(
            "DIGEST_INVALID",
            "manifest body does not match the digest in the URL",
            detail={"expected": str(reference), "actual": str(digest)},
        )
    return digest


def _tags_for(reference: Digest | str, extra_tags: list[str]) -> list[str]:
    tags = [] if isinstance(reference, Digest) else [reference]
    for tag in extra_tags:
        if not is_valid_tag(tag):
            raise RegistryError("TAG_INVALID", detail={"tag": tag[:200]})
        if tag not in tags:
            tags.append(tag)
    return tags


async def _check_references(ctx: RegistryContext, repository: str, parsed: ParsedManifest) -> None:
    """Every blob and child manifest must already be in the repository (the subject need not)."""
    blob_digests = {str(d.digest) for d in parsed.blob_references()}
    child_digests = {str(d.digest) for d in parsed.children}
    if not blob_digests and not child_digests:
        return
    async with ctx.db.read() as session:
        repo = await find_repository(session, repository)
        present: set[str] = set()
        if repo is not None and blob_digests:
            present |= set(
                (
                    await session.execute(
                        select(RepositoryBlob.digest).where(
                            RepositoryBlob.repository_id == repo.id,
                            RepositoryBlob.digest.in_(blob_digests),
                        )
                    )
                ).scalars()
            )
        if repo is not None and child_digests:
            present |= set(
                (
                    await session.execute(
                        select(Manifest.digest).where(
                            Manifest.repository_id == repo.id,
                            Manifest.digest.in_(child_digests),
                        )
                    )
                ).scalars()
            )
    missing = sorted((blob_digests | child_digests) - present)
    if missing:
        raise RegistryError("MANIFEST_BLOB_UNKNOWN", detail={"digests": missing[:20]})


async def _save_manifest(
    session: AsyncSession, repo_id: int, digest: Digest, parsed: ParsedManifest, size: int
) -> None:
    await upsert(
        session,
        Manifest,
        ["repository_id", "digest"],
        repository_id=repo_id,
        digest=str(digest),
        media_type=parsed.media_type,
        size=size,
        artifact_type=parsed.effective_artifact_type(),
        subject_digest=str(parsed.subject.digest) if parsed.subject else None,
        annotations=parsed.annotations or None,
    )
    references = [(str(d.digest), "blob") for d in parsed.blob_references()]
    references += [(str(d.digest), "manifest") for d in parsed.children]
    for child, kind in references:
        await insert_ignore(
            session,
            ManifestReference,
            repository_id=repo_id,
            parent_digest=str(digest),
            child_digest=child,
            kind=kind,
        )


async def _one(body: bytes) -> AsyncIterator[bytes]:
    yield body
