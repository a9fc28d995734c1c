"""Garbage collection: mark what manifests reference, sweep the rest and abandoned uploads.

Safe while pushes go on: nothing younger than the grace period is touched, and each blob is
deleted in a transaction that checks again that nothing references it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, exists, select

from conveyor.db.models import Blob, Manifest, ManifestReference, RepositoryBlob, Upload
from conveyor.oci.digest import Digest
from conveyor.registry.context import RegistryContext
from conveyor.registry.paths import blob_path, digest_from_blob_path
from conveyor.storage.base import ObjectNotFound


@dataclass
class GcReport:
    dry_run: bool
    blobs_deleted: int = 0
    bytes_freed: int = 0
    uploads_deleted: int = 0
    orphans_deleted: int = 0

    def to_json(self) -> dict[str, object]:
        return {
            "dryRun": self.dry_run,
            "blobsDeleted": self.blobs_deleted,
            "bytesFreed": self.bytes_freed,
            "uploadsDeleted": self.uploads_deleted,
            "orphansDeleted": self.orphans_deleted,
        }


def _unreferenced(cutoff: datetime) -> ColumnElement[bool]:
    """No manifest points at the blob, it is no manifest, and nobody linked it recently."""
    referenced_by_manifest = exists().where(
        and_(ManifestReference.child_digest == Blob.digest, ManifestReference.kind == "blob")
    )
    is_manifest = exists().where(Manifest.digest == Blob.digest)
    linked_recently = exists().where(
        and_(RepositoryBlob.digest == Blob.digest, RepositoryBlob.created_at >= cutoff)
    )
    return and_(~referenced_by_manifest, ~is_manifest, ~linked_recently, Blob.created_at < cutoff)


async def collect(ctx: RegistryContext, *, dry_run: bool) -> GcReport:
    report = GcReport(dry_run)
    now = datetime.now(UTC)
    await _sweep_blobs(ctx, report, now - timedelta(seconds=ctx.limits.gc_grace_seconds))
    await _sweep_uploads(ctx, report, now - timedelta(seconds=ctx.limits.upload_expiry_seconds))
    await _sweep_orphans(ctx, report, now - timedelta(seconds=ctx.limits.gc_grace_seconds))
    return report


async def _sweep_blobs(ctx: RegistryContext, report: GcReport, cutoff: datetime) -> None:
    async with ctx.db.read() as session:
        rows = (
            await session.execute(select(Blob.digest, Blob.size).where(_unreferenced(cutoff)))
        ).all()
    for digest, size in rows:
        if not report.dry_run and not await _delete_blob(ctx, digest, cutoff):
            continue
        report.blobs_deleted += 1
        report.bytes_freed += size


async def _delete_blob(ctx: RegistryContext, digest: str, cutoff: datetime) -> bool:
    """Move the content aside, delete the rows if still unreferenced, then drop or restore it.
    An upload of the same digest meanwhile puts its own copy in place, so nothing is lost."""
    path = blob_path(Digest.parse(digest))
    trash = f"trash/{digest.replace(':', '-')}"
    try:
        await ctx.store.move(path, trash)
    except ObjectNotFound:
        trash = ""
    async with ctx.db.write() as session:
        still_unreferenced = (
            await session.execute(
                select(Blob.digest).where(Blob.digest == digest, _unreferenced(cutoff))
            )
        ).first()
        if still_unreferenced is not None:
            await session.execute(delete(RepositoryBlob).where(RepositoryBlob.digest == digest))
            await session.execute(delete(Blob).where(Blob.digest == digest))
    if still_unreferenced is None and trash:
        if await ctx.store.stat(path) is None:
            await ctx.store.move(trash, path)
        return False
    if trash:
        await ctx.store.delete(trash)
    ctx.manifest_bytes.pop(digest)
    return still_unreferenced is not None


async def _sweep_uploads(ctx: RegistryContext, report: GcReport, cutoff: datetime) -> None:
    async with ctx.db.read() as session:
        stale = list(
            (await session.execute(select(Upload.id).where(Upload.updated_at < cutoff))).scalars()
        )
    for upload_id in stale:
        report.uploads_deleted += 1
        if report.dry_run:
            continue
        async with ctx.db.write() as session:
            await session.execute(delete(Upload).where(Upload.id == upload_id))
        async for item in ctx.store.list(f"uploads/{upload_id}/"):
            await ctx.store.delete(item.path)


async def _sweep_orphans(ctx: RegistryContext, report: GcReport, cutoff: datetime) -> None:
    """Store objects no row knows of: left by a crash between writing content and committing."""
    async with ctx.db.read() as session:
        known_blobs = set((await session.execute(select(Blob.digest))).scalars())
        live_uploads = set((await session.execute(select(Upload.id))).scalars())
    limit = cutoff.timestamp()
    async for item in ctx.store.list("blobs/"):
        digest = digest_from_blob_path(item.path)
        if item.modified < limit and (digest is None or str(digest) not in known_blobs):
            await _remove_orphan(ctx, report, item.path)
    async for item in ctx.store.list("uploads/"):
        upload_id = item.path.split("/")[1] if item.path.count("/") >= 2 else ""
        if item.modified < limit and upload_id not in live_uploads:
            await _remove_orphan(ctx, report, item.path)


async def _remove_orphan(ctx: RegistryContext, report: GcReport, path: str) -> None:
    report.orphans_deleted += 1
    if not report.dry_run:
        await ctx.store.delete(path)
