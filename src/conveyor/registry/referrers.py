"""The referrers API: manifests whose `subject` is a given digest, as an OCI image index."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from conveyor.db.models import Manifest, Repository
from conveyor.oci import mediatypes
from conveyor.oci.digest import Digest
from conveyor.registry.context import RegistryContext


async def referrers_index(
    ctx: RegistryContext, repository: str, subject: Digest, artifact_type: str | None
) -> dict[str, Any]:
    async with ctx.db.read() as session:
        query = (
            select(Manifest)
            .join(Repository, Repository.id == Manifest.repository_id)
            .where(Repository.name == repository, Manifest.subject_digest == str(subject))
            .order_by(Manifest.created_at, Manifest.digest)
        )
        if artifact_type:
            query = query.where(Manifest.artifact_type == artifact_type)
        rows = (await session.execute(query)).scalars().all()
    return {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_INDEX,
        "manifests": [_descriptor(row) for row in rows],
    }


def _descriptor(row: Manifest) -> dict[str, Any]:
    doc: dict[str, Any] = {"mediaType": row.media_type, "digest": row.digest, "size": row.size}
    if row.artifact_type:
        doc["artifactType"] = row.artifact_type
    if row.annotations:
        doc["annotations"] = row.annotations
    return doc
