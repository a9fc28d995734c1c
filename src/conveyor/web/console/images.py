"""What the console shows of a tag: its manifest, platforms, layers and stored scan results.

Content is read through the registry's own functions (`resolve`, `read_content`) and the OCI
parser; scan results are the reports the scanner stored per manifest digest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from conveyor.db.models import Manifest as ManifestRow
from conveyor.db.models import Tag
from conveyor.db.vulndb_models import ScanResult
from conveyor.oci.digest import Digest
from conveyor.oci.manifest import Descriptor, Manifest, ManifestError, parse_manifest
from conveyor.registry.context import RegistryContext
from conveyor.registry.errors import RegistryError
from conveyor.registry.manifests import read_content, resolve
from conveyor.registry.paths import blob_path
from conveyor.registry.repositories import find_repository
from conveyor.scan.vulndb.records import SEVERITIES

MAX_CONFIG_BYTES = 1024 * 1024


@dataclass
class ScanState:
    """The stored scan results of a tag's image(s): complete, partial or absent."""

    scanned: int = 0
    targets: int = 0
    summary: dict[str, int] = field(default_factory=dict)
    scanned_at: datetime | None = None
    reports: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        if not self.targets or not self.scanned:
            return "not scanned"
        return "scanned" if self.scanned == self.targets else "partly scanned"

    @property
    def total(self) -> int:
        return sum(self.summary.values())


@dataclass
class PlatformImage:
    platform: str
    digest: str
    size: int
    layers: list[Descriptor]
    config: dict[str, Any]


@dataclass
class TagInfo:
    repository: str
    name: str
    digest: str
    media_type: str
    manifest_size: int
    pushed_at: datetime
    kind: str = "image"  # image | index | artifact
    images: list[PlatformImage] = field(default_factory=list)
    scan: ScanState = field(default_factory=ScanState)
    problem: str | None = None

    @property
    def platforms(self) -> list[str]:
        return [i.platform for i in self.images if i.platform]

    @property
    def size(self) -> int:
        return sum(i.size for i in self.images) or self.manifest_size


async def list_tags(ctx: RegistryContext, repository: str, limit: int = 500) -> list[TagInfo]:
    """The repository's tags, newest push first, each described and with its scan state."""
    return await _tags(ctx, repository, None, limit)


async def tag_info(ctx: RegistryContext, repository: str, tag: str) -> TagInfo | None:
    found = await _tags(ctx, repository, tag, 1)
    return found[0] if found else None


async def _tags(
    ctx: RegistryContext, repository: str, only: str | None, limit: int
) -> list[TagInfo]:
    async with ctx.db.read() as db:
        repo = await find_repository(db, repository)
        if repo is None:
            return []
        query = (
            select(Tag, ManifestRow)
            .join(
                ManifestRow,
                (ManifestRow.repository_id == Tag.repository_id)
                & (ManifestRow.digest == Tag.digest),
            )
            .where(Tag.repository_id == repo.id)
            .order_by(Tag.updated_at.desc(), Tag.name)
            .limit(limit)
        )
        if only is not None:
            query = query.where(Tag.name == only)
        rows = (await db.execute(query)).all()
    found = []
    for tag, manifest in rows:
        info = TagInfo(
            repository, tag.name, tag.digest, manifest.media_type, manifest.size, tag.updated_at
        )
        await _describe(ctx, info)
        found.append(info)
    await _attach_scans(ctx, found)
    return found


async def _describe(ctx: RegistryContext, info: TagInfo) -> None:
    try:
        top = await _manifest(ctx, info.repository, info.digest)
        if top.is_index:
            info.kind = "index"
            for child in top.children:
                if child.platform and child.platform.get("os") not in (None, "unknown"):
                    image = await _image(ctx, info.repository, str(child.digest))
                    image.platform = _platform(child.platform)
                    info.images.append(image)
        else:
            image = await _image(ctx, info.repository, info.digest, top)
            info.kind = "image" if image.config or not top.artifact_type else "artifact"
            info.images.append(image)
    except (RegistryError, ManifestError, ValueError) as exc:
        info.problem = str(exc) or type(exc).__name__


async def _manifest(ctx: RegistryContext, repository: str, digest: str) -> Manifest:
    stored = await resolve(ctx, repository, Digest.parse(digest))
    return parse_manifest(await read_content(ctx, stored), stored.media_type)


async def _image(
    ctx: RegistryContext, repository: str, digest: str, manifest: Manifest | None = None
) -> PlatformImage:
    manifest = manifest or await _manifest(ctx, repository, digest)
    config = await _config(ctx, manifest)
    size = sum(layer.size for layer in manifest.layers) + (
        manifest.config.size if manifest.config else 0
    )
    platform = ""
    if config.get("os"):
        platform = _platform(config)
    return PlatformImage(platform, digest, size, list(manifest.layers), config)


async def _config(ctx: RegistryContext, manifest: Manifest) -> dict[str, Any]:
    descriptor = manifest.config
    if (
        descriptor is None
        or descriptor.size > MAX_CONFIG_BYTES
        or not descriptor.media_type.endswith("json")
    ):
        return {}
    chunks = [c async for c in ctx.store.read(blob_path(descriptor.digest))]
    try:
        doc = json.loads(b"".join(chunks))
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _platform(doc: dict[str, Any]) -> str:
    parts = [str(doc.get("os", "")), str(doc.get("architecture", ""))]
    if doc.get("variant"):
        parts.append(str(doc["variant"]))
    return "/".join(p for p in parts if p)


async def _attach_scans(ctx: RegistryContext, tags: list[TagInfo]) -> None:
    digests = {image.digest for info in tags for image in info.images}
    if not digests:
        return
    async with ctx.db.read() as db:
        rows = (
            await db.execute(select(ScanResult).where(ScanResult.digest.in_(sorted(digests))))
        ).scalars()
        stored = {row.digest: row for row in rows if row.report}
    for info in tags:
        state = ScanState(targets=len(info.images), summary=dict.fromkeys(SEVERITIES, 0))
        for image in info.images:
            row = stored.get(image.digest)
            if row is None or row.report is None:
                continue
            state.scanned += 1
            state.reports.append({**row.report, "platform": image.platform})
            for severity, count in row.report.get("summary", {}).items():
                state.summary[severity] = state.summary.get(severity, 0) + int(count)
            moment = row.updated_at or row.created_at
            if state.scanned_at is None or (moment and moment > state.scanned_at):
                state.scanned_at = moment
        info.scan = state
