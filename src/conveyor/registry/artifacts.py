"""Attach an artifact (an SBOM, a signature...) to an image as a referrer: an OCI manifest with
the empty config, one layer holding the content, and `subject` pointing at the image."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from conveyor.auth.identity import Identity
from conveyor.oci import mediatypes
from conveyor.oci.digest import Digest
from conveyor.registry import manifests, uploads
from conveyor.registry.context import RegistryContext

EMPTY_CONFIG = b"{}"


async def attach(
    ctx: RegistryContext,
    repository: str,
    subject: Digest,
    artifact_type: str,
    content: bytes,
    annotations: dict[str, str],
    actor: Identity,
) -> Digest:
    """Push the artifact by digest (no tag, so no chain starts) and return its digest."""
    stored = await manifests.resolve(ctx, repository, subject)
    config = await _blob(ctx, repository, EMPTY_CONFIG, actor)
    layer = await _blob(ctx, repository, content, actor)
    document = {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": {"mediaType": mediatypes.OCI_EMPTY, "digest": str(config), "size": 2},
        "layers": [{"mediaType": artifact_type, "digest": str(layer), "size": len(content)}],
        "subject": {"mediaType": stored.media_type, "digest": stored.digest, "size": stored.size},
        "annotations": annotations,
    }
    body = json.dumps(document, separators=(",", ":")).encode()
    result = await manifests.push(
        ctx, repository, Digest.of(body), body, mediatypes.OCI_MANIFEST, [], actor
    )
    return result.digest


async def _blob(ctx: RegistryContext, repository: str, data: bytes, actor: Identity) -> Digest:
    session = await uploads.start_upload(ctx, repository, actor.name)

    async def chunks() -> AsyncIterator[bytes]:
        yield data

    session = await uploads.append(ctx, session, chunks())
    info = await uploads.finish(ctx, session, Digest.of(data), actor)
    return info.digest
