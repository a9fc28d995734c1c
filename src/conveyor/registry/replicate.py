"""Copy an image between repositories of this registry: blobs are linked, not moved, and
manifests (an index's children first) are pushed again byte for byte, the tag last."""

from __future__ import annotations

from conveyor.auth.identity import Identity
from conveyor.oci.digest import Digest
from conveyor.oci.manifest import parse_manifest
from conveyor.registry import blobs, manifests
from conveyor.registry.context import RegistryContext
from conveyor.registry.errors import RegistryError


async def copy_within(
    ctx: RegistryContext,
    source: str,
    digest: Digest,
    destination: str,
    tag: str,
    actor: Identity,
) -> Digest:
    await _copy_manifest(ctx, source, digest, destination, actor, depth=0)
    stored = await manifests.resolve(ctx, source, digest)
    body = await manifests.read_content(ctx, stored)
    result = await manifests.push(ctx, destination, tag, body, stored.media_type, [], actor)
    return result.digest


async def _copy_manifest(
    ctx: RegistryContext, source: str, digest: Digest, destination: str, actor: Identity, depth: int
) -> None:
    if depth > 4:
        raise RegistryError("MANIFEST_INVALID", "indexes nested too deeply")
    stored = await manifests.resolve(ctx, source, digest)
    body = await manifests.read_content(ctx, stored)
    parsed = parse_manifest(body, stored.media_type)
    for child in parsed.children:
        await _copy_manifest(ctx, source, child.digest, destination, actor, depth + 1)
        child_stored = await manifests.resolve(ctx, source, child.digest)
        child_body = await manifests.read_content(ctx, child_stored)
        await manifests.push(
            ctx, destination, child.digest, child_body, child_stored.media_type, [], actor
        )
    for blob in parsed.blob_references():
        mounted = await blobs.mount_blob(ctx, destination, blob.digest, [source], actor)
        if mounted is None:
            raise RegistryError("BLOB_UNKNOWN", detail={"digest": str(blob.digest)})
