"""Scanning an image of the registry: the entry point for the API and the chain's scan node.

The inventory of a manifest never changes, so it is kept per digest and only the matching is
redone when the vulnerability database changed since the stored report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from sqlalchemy import select

from conveyor.db.upsert import upsert
from conveyor.db.vulndb_models import ScanResult
from conveyor.oci import mediatypes
from conveyor.oci.digest import Digest
from conveyor.oci.manifest import Manifest, ManifestError, parse_manifest
from conveyor.registry.context import RegistryContext
from conveyor.registry.manifests import parse_reference, read_content, resolve
from conveyor.scan.errors import ScanError
from conveyor.scan.inventory.collect import take_inventory
from conveyor.scan.limits import ScanLimits
from conveyor.scan.match.matcher import find_vulnerabilities
from conveyor.scan.model import Inventory
from conveyor.scan.report import build_report
from conveyor.scan.sbom import cyclonedx
from conveyor.scan.unpack.image import read_image
from conveyor.scan.vulndb.store import stamp

IMAGE_CONFIGS = (
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
)


@dataclass(frozen=True, slots=True)
class Target:
    digest: str
    platform: str
    manifest: Manifest


async def scan_image(
    ctx: RegistryContext,
    repository: str,
    reference: str | Digest,
    *,
    limits: ScanLimits | None = None,
    refresh: bool = False,
) -> dict[str, Any]:
    """The report of `repository:tag` or `repository@digest`; for an index, one report per
    platform under `manifests` and their findings together."""
    image, digest, targets = await _targets(ctx, repository, reference)
    reports = []
    for target in targets:
        report = await _report(ctx, image, target, limits, refresh)
        reports.append({**report, "platform": target.platform} if target.platform else report)
    if len(targets) == 1 and not targets[0].platform:
        return reports[0]
    return _combined(image, digest, reports)


async def image_sbom(
    ctx: RegistryContext, repository: str, reference: str | Digest
) -> dict[str, Any]:
    image, digest, targets = await _targets(ctx, repository, reference)
    merged = Inventory()
    for target in targets:
        inventory = await _inventory(ctx, target, None, refresh=False)
        merged.distro = merged.distro or inventory.distro
        merged.packages += inventory.packages
    return cyclonedx(merged, image, digest)


async def _targets(
    ctx: RegistryContext, repository: str, reference: str | Digest
) -> tuple[str, str, list[Target]]:
    ref = parse_reference(reference) if isinstance(reference, str) else reference
    top = await _manifest(ctx, repository, ref)
    image = f"{repository}@{ref}" if isinstance(ref, Digest) else f"{repository}:{ref}"
    if not top[1].is_index:
        return image, top[0], [Target(top[0], "", top[1])]
    targets = []
    for child in top[1].children:
        platform = _platform(child.platform)
        if platform is None or child.media_type not in mediatypes.MANIFEST_TYPES:
            continue
        digest, manifest = await _manifest(ctx, repository, child.digest)
        if not manifest.is_index:
            targets.append(Target(digest, platform, manifest))
    if not targets:
        raise ScanError(f"{image}: the index lists no image for a platform")
    return image, top[0], targets


async def _manifest(
    ctx: RegistryContext, repository: str, reference: Digest | str
) -> tuple[str, Manifest]:
    stored = await resolve(ctx, repository, reference)
    try:
        return stored.digest, parse_manifest(await read_content(ctx, stored), stored.media_type)
    except ManifestError as exc:
        raise ScanError(f"{stored.digest}: {exc}") from None


def _platform(platform: dict[str, Any] | None) -> str | None:
    if not platform or platform.get("os") in (None, "unknown"):
        return None
    parts = [str(platform.get("os")), str(platform.get("architecture", ""))]
    if platform.get("variant"):
        parts.append(str(platform["variant"]))
    return "/".join(parts)


async def _report(
    ctx: RegistryContext, image: str, target: Target, limits: ScanLimits | None, refresh: bool
) -> dict[str, Any]:
    async with ctx.db.read() as session:
        row = await session.get(ScanResult, target.digest)
        current = await stamp(session)
        if row is not None and row.report and row.vulndb_stamp == current and not refresh:
            return {**row.report, "image": image}
    inventory = await _inventory(ctx, target, limits, refresh=refresh)
    async with ctx.db.read() as session:
        findings = await find_vulnerabilities(session, inventory)
    report = build_report(image, target.digest, inventory, findings)
    async with ctx.db.write() as session:
        await upsert(
            session,
            ScanResult,
            ["digest"],
            digest=target.digest,
            inventory=inventory.to_json(),
            report=report,
            vulndb_stamp=current,
        )
    return report


async def _inventory(
    ctx: RegistryContext, target: Target, limits: ScanLimits | None, *, refresh: bool
) -> Inventory:
    if not refresh:
        async with ctx.db.read() as session:
            stored = (
                await session.execute(
                    select(ScanResult.inventory).where(ScanResult.digest == target.digest)
                )
            ).scalar_one_or_none()
        if stored is not None:
            return Inventory.from_json(stored)
    config = target.manifest.config
    if config is None or config.media_type not in IMAGE_CONFIGS:
        raise ScanError(f"{target.digest} is not a container image")
    limits = limits or ScanLimits()
    tree = await read_image(ctx.store, target.manifest.layers, limits)
    try:
        return await anyio.to_thread.run_sync(take_inventory, tree, limits)
    finally:
        tree.close()


def _combined(image: str, digest: str, reports: list[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, int] = {}
    findings: list[dict[str, Any]] = []
    packages: list[dict[str, Any]] = []
    for report in reports:
        for severity, count in report["summary"].items():
            summary[severity] = summary.get(severity, 0) + count
        findings += [{**f, "platform": report.get("platform", "")} for f in report["findings"]]
        packages += report["packages"]
    return {
        "image": image,
        "digest": digest,
        "summary": summary,
        "findings": findings,
        "packages": list({(p["name"], p["version"], p["type"]): p for p in packages}.values()),
        "manifests": [
            {"platform": r.get("platform", ""), "digest": r["digest"], "summary": r["summary"]}
            for r in reports
        ],
    }
