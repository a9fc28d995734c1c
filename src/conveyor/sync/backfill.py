"""Backfill: copy every existing tag that a filter selects (the sync rule run by hand).

`backfill` does one repository; `backfill_namespace` every repository of a namespace that the
repository filter selects, into the same name under the destination namespace. Images are copied
several at once and share one `BlobLocations`, so a base layer crosses once and is mounted into
the other repositories. A second run copies nothing: each tag already points at the same digest,
so it is skipped without a PUT.

A name whose match runs past the time limit is not copied; it is listed in `timed_out`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import anyio

from conveyor.client.errors import ErrorCode, RegistryClientError
from conveyor.client.registry import RegistryClient
from conveyor.sync.copy import copy_image
from conveyor.sync.locations import BlobLocations
from conveyor.sync.result import CopyResult, ProgressCallback
from conveyor.sync.tagfilter import NameFilter
from conveyor.sync.tasks import run_bounded


@dataclass
class BackfillReport:
    source_repo: str
    dest_repo: str
    tags_listed: int = 0
    results: list[CopyResult] = field(default_factory=list)
    timed_out: list[str] = field(default_factory=list)
    error_code: ErrorCode | None = None  # the tags could not be listed
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_code is None and all(result.ok for result in self.results)

    @property
    def copied(self) -> list[CopyResult]:
        """The copies that moved something (blobs, manifests or the tag)."""
        return [result for result in self.results if not result.up_to_date]


@dataclass(frozen=True)
class Limits:
    blobs: int = 4  # blobs at once, per image
    images: int = 4  # images at once, per repository
    repositories: int = 4  # repositories at once, per namespace
    transfers: int = 8  # blobs moving at once in the whole run (the costly part)


async def backfill(
    source: RegistryClient,
    source_repo: str,
    destination: RegistryClient,
    dest_repo: str,
    tag_filter: str,
    *,
    overwrite: bool = False,
    limits: Limits | None = None,
    locations: BlobLocations | None = None,
    transfers: anyio.CapacityLimiter | None = None,
    progress: ProgressCallback | None = None,
) -> BackfillReport:
    limits = limits or Limits()
    locations = locations or BlobLocations()
    transfers = transfers or anyio.CapacityLimiter(limits.transfers)
    report = BackfillReport(source_repo, dest_repo)
    try:
        tags = await source.list_tags(source_repo)
    except RegistryClientError as exc:
        report.error_code, report.error = exc.code, str(exc)
        return report
    report.tags_listed = len(tags)
    selected = _select(NameFilter(tag_filter), tags, report.timed_out)

    async def one(tag: str) -> None:
        result = await copy_image(
            source,
            source_repo,
            tag,
            destination,
            dest_repo,
            tag,
            overwrite=overwrite,
            concurrency=limits.blobs,
            progress=progress,
            locations=locations,
            transfers=transfers,
        )
        report.results.append(result)

    await run_bounded(selected, one, limits.images)
    report.results.sort(key=lambda result: result.source)
    return report


async def backfill_namespace(
    source: RegistryClient,
    namespace: str,
    destination: RegistryClient,
    dest_namespace: str,
    repo_filter: str,
    tag_filter: str,
    *,
    overwrite: bool = False,
    limits: Limits | None = None,
    progress: ProgressCallback | None = None,
) -> list[BackfillReport]:
    limits = limits or Limits()
    locations = BlobLocations()
    transfers = anyio.CapacityLimiter(limits.transfers)
    names = [
        repo.removeprefix(f"{namespace}/")
        for repo in await source.list_repositories()
        if repo.startswith(f"{namespace}/")
    ]
    timed_out: list[str] = []
    selected = _select(NameFilter(repo_filter), names, timed_out)
    reports: list[BackfillReport] = []

    async def one(name: str) -> None:
        report = await backfill(
            source,
            f"{namespace}/{name}",
            destination,
            f"{dest_namespace}/{name}",
            tag_filter,
            overwrite=overwrite,
            limits=limits,
            locations=locations,
            transfers=transfers,
            progress=progress,
        )
        reports.append(report)

    await run_bounded(selected, one, limits.repositories)
    reports.sort(key=lambda report: report.source_repo)
    return reports


def _select(names_filter: NameFilter, names: list[str], timed_out: list[str]) -> list[str]:
    selected = []
    for name in names:
        try:
            if names_filter.matches(name):
                selected.append(name)
        except TimeoutError:
            timed_out.append(name)
    return selected
