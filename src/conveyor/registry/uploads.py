"""Blob upload sessions: monolithic, chunked and streamed, resumable across requests and replicas.

Each accepted chunk is a separate object in the store; the session row lists them and its size
moves forward only through a conditional UPDATE, so two writers racing on one session can never
both succeed and a crashed request leaves nothing that counts.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update

from conveyor.auth.identity import Identity
from conveyor.db.models import Blob, Upload
from conveyor.oci.digest import Digest
from conveyor.registry.blobs import BlobInfo, link_blob
from conveyor.registry.context import RegistryContext
from conveyor.registry.errors import RegistryError
from conveyor.registry.paths import blob_path, upload_dir, upload_joined, upload_part

COALESCE_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class UploadSession:
    id: str
    repository: str
    size: int
    parts: tuple[str, ...]

    @property
    def range_header(self) -> str:
        return f"0-{max(self.size - 1, 0)}"


async def start_upload(ctx: RegistryContext, repository: str, owner: str) -> UploadSession:
    upload_id = str(uuid.uuid4())
    async with ctx.db.write() as session:
        session.add(Upload(id=upload_id, repository=repository, owner=owner, size=0, parts=[]))
    return UploadSession(upload_id, repository, 0, ())


async def get_upload(
    ctx: RegistryContext, repository: str, upload_id: str, owner: str
) -> UploadSession:
    """The session, when it exists, belongs to this repository and caller, and has not expired."""
    unknown = RegistryError("BLOB_UPLOAD_UNKNOWN", detail={"uuid": upload_id[:64]})
    try:
        uuid.UUID(upload_id)
    except ValueError:
        raise unknown from None
    async with ctx.db.read() as session:
        row = await session.get(Upload, upload_id)
    if row is None or row.repository != repository or row.owner != owner:
        raise unknown
    expiry = timedelta(seconds=ctx.limits.upload_expiry_seconds)
    if _aware(row.updated_at) + expiry < datetime.now(UTC):
        raise unknown
    return UploadSession(row.id, row.repository, row.size, tuple(row.parts or ()))


async def append(
    ctx: RegistryContext,
    upload: UploadSession,
    chunks: AsyncIterable[bytes],
    start: int | None = None,
    end: int | None = None,
) -> UploadSession:
    """Add a chunk at the end of the session. `start`/`end` come from Content-Range when sent."""
    if start is not None and start != upload.size:
        raise RegistryError("RANGE_INVALID", f"chunk starts at {start}, expected {upload.size}")
    hasher = _running_hash(ctx, upload)
    key = f"{upload_part(upload.id, upload.size)}-{uuid.uuid4().hex[:8]}"
    written = await ctx.store.write(key, _hashed(_coalesced(chunks), hasher))
    if written == 0:
        await ctx.store.delete(key)
        return upload
    if end is not None and start is not None and end - start + 1 != written:
        await ctx.store.delete(key)
        raise RegistryError("RANGE_INVALID", "Content-Range does not match the body length")
    advanced = await _advance(ctx, upload, key, written)
    if advanced is None:
        await ctx.store.delete(key)
        raise RegistryError("RANGE_INVALID", "the upload moved on while this chunk was sent")
    if hasher is not None:
        ctx.upload_hashes.put(upload.id, (advanced.size, hasher))
    return advanced


async def finish(
    ctx: RegistryContext, upload: UploadSession, digest: Digest, actor: Identity
) -> BlobInfo:
    """Verify the whole upload against `digest`, then publish it as a blob of the repository."""
    actual = await _digest_of(ctx, upload, digest.algorithm)
    if actual != digest.encoded:
        await cancel(ctx, upload)
        raise RegistryError("DIGEST_INVALID", detail={"expected": str(digest), "size": upload.size})
    await _place_blob(ctx, upload, digest)
    async with ctx.db.write() as session:
        await link_blob(session, upload.repository, digest, upload.size, actor)
        await session.execute(delete(Upload).where(Upload.id == upload.id))
    await _remove_parts(ctx, upload)
    return BlobInfo(digest, upload.size)


async def cancel(ctx: RegistryContext, upload: UploadSession) -> None:
    async with ctx.db.write() as session:
        await session.execute(delete(Upload).where(Upload.id == upload.id))
    await _remove_parts(ctx, upload)


async def _advance(
    ctx: RegistryContext, upload: UploadSession, key: str, written: int
) -> UploadSession | None:
    parts = [*upload.parts, key]
    async with ctx.db.write() as session:
        result = await session.execute(
            update(Upload)
            .where(Upload.id == upload.id, Upload.size == upload.size)
            .values(size=upload.size + written, parts=parts, updated_at=datetime.now(UTC))
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            return None
    return UploadSession(upload.id, upload.repository, upload.size + written, tuple(parts))


def _running_hash(ctx: RegistryContext, upload: UploadSession) -> hashlib._Hash | None:
    if upload.size == 0:
        return hashlib.sha256()
    cached = ctx.upload_hashes.get(upload.id)
    if cached is not None and cached[0] == upload.size:
        return cached[1].copy()
    return None  # another process took the earlier chunks: the digest is computed at the end


async def _digest_of(ctx: RegistryContext, upload: UploadSession, algorithm: str) -> str:
    cached = ctx.upload_hashes.pop(upload.id)
    if algorithm == "sha256" and cached is not None and cached[0] == upload.size:
        return cached[1].hexdigest()
    hasher = hashlib.new(algorithm)
    async for chunk in _read_parts(ctx, upload):
        hasher.update(chunk)
    return hasher.hexdigest()


async def _place_blob(ctx: RegistryContext, upload: UploadSession, digest: Digest) -> None:
    target = blob_path(digest)
    async with ctx.db.read() as session:
        known = await session.get(Blob, str(digest))
    if known is not None and await ctx.store.stat(target) is not None:
        return
    if len(upload.parts) == 1:
        await ctx.store.move(upload.parts[0], target)
        return
    # Join into the session's own folder first: the blob path only ever holds whole content.
    joined = upload_joined(upload.id)
    await ctx.store.write(joined, _read_parts(ctx, upload))
    await ctx.store.move(joined, target)


async def _read_parts(ctx: RegistryContext, upload: UploadSession) -> AsyncIterator[bytes]:
    for key in upload.parts:
        async for chunk in ctx.store.read(key):
            yield chunk


async def _remove_parts(ctx: RegistryContext, upload: UploadSession) -> None:
    ctx.upload_hashes.pop(upload.id)
    async for item in ctx.store.list(upload_dir(upload.id)):
        await ctx.store.delete(item.path)


async def _coalesced(chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """Batch small network reads into ~1 MiB writes: fewer thread hops and syscalls."""
    pending: list[bytes] = []
    size = 0
    async for chunk in chunks:
        if not chunk:
            continue
        pending.append(chunk)
        size += len(chunk)
        if size >= COALESCE_BYTES:
            yield b"".join(pending)
            pending, size = [], 0
    if pending:
        yield b"".join(pending)


async def _hashed(
    chunks: AsyncIterable[bytes], hasher: hashlib._Hash | None
) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        if hasher is not None:
            hasher.update(chunk)
        yield chunk


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def pending_upload_ids(ctx: RegistryContext) -> set[str]:
    async with ctx.db.read() as session:
        return set((await session.execute(select(Upload.id))).scalars())
