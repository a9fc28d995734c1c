"""Copy one image between registries, by digest: `copy_image`.

Order, so that nothing is referenced before it exists at the destination:

1. the source manifest (tag or digest) is read, and with it every child of an index;
2. every config and layer: skipped when the destination repository has it (HEAD), mounted when
   it can be (same registry as the source, or a repository this run already gave it to), else
   streamed from the source's GET to the destination's upload; several blobs at once;
3. the child manifests, each by digest (skipped when there), children before their index;
4. last, the root manifest under the tag (by digest when no tag is given).

The manifests are sent as the exact bytes read, so every digest is the same on both sides.

**A destination tag that already exists** decides the run before anything moves:

* it points at the same digest: the image is there (a registry accepts a manifest only once what
  it references exists), so nothing is copied and the tag is not written again (every blob and
  manifest counted skipped);
* it points at another digest: `TAG_CONFLICT`, and the destination is left as it was, unless
  `overwrite` is true, in which case the image is copied and the tag moved to the new digest.
  The check and the final PUT are not atomic (registries offer no compare-and-swap on tags):
  a push to the same tag between them is overwritten by the copy.

Failures end the copy with the error's code on the result (NETWORK_ERROR, AUTH_ERROR,
TAG_CONFLICT, NOT_FOUND, DESTINATION_REJECTED, INTERNAL_ERROR); transient ones were already
retried by the client.
"""

from __future__ import annotations

import time

import anyio

from conveyor.client.errors import ErrorCode, RegistryClientError, TagConflictError
from conveyor.client.manifests import ManifestBlob, ManifestInfo
from conveyor.client.registry import RegistryClient
from conveyor.sync.blobs import copy_blobs
from conveyor.sync.job import CopyJob
from conveyor.sync.locations import BlobLocations
from conveyor.sync.plan import ImagePlan, plan_image
from conveyor.sync.result import CopyResult, ProgressCallback
from conveyor.sync.tasks import both, run_bounded


async def copy_image(
    source: RegistryClient,
    source_repo: str,
    reference: str,
    destination: RegistryClient,
    dest_repo: str,
    dest_tag: str | None,
    *,
    overwrite: bool,
    concurrency: int = 4,
    progress: ProgressCallback | None = None,
    locations: BlobLocations | None = None,
    transfers: anyio.CapacityLimiter | None = None,
) -> CopyResult:
    """Copy `source_repo:reference` to `dest_repo:dest_tag`; never raises a registry error.

    `concurrency`: blobs of this image at once. `locations` and `transfers` are shared by the
    copies of one run: where blobs went, and how many blobs may move at once in the whole run.
    """
    result = CopyResult(
        _name(source, source_repo, reference), _name(destination, dest_repo, dest_tag)
    )
    job = CopyJob(
        source,
        source_repo,
        destination,
        dest_repo,
        result,
        concurrency,
        locations or BlobLocations(),
        progress,
        transfers,
    )
    started = time.monotonic()
    try:
        await _copy(job, reference, dest_tag, overwrite)
    except RegistryClientError as exc:
        result.fail(exc.code, str(exc))
    except Exception as exc:  # a bug must not lose the task's record
        result.fail(ErrorCode.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")
    result.seconds = time.monotonic() - started
    return result


async def _copy(job: CopyJob, reference: str, dest_tag: str | None, overwrite: bool) -> None:
    root, current = await _root_and_current(job, reference, dest_tag)
    job.result.digest = str(root.digest)
    target = dest_tag or str(root.digest)
    if current is not None and current.digest != root.digest and not overwrite:
        raise TagConflictError(
            f"{job.result.destination} points at {current.digest}, not {root.digest}"
        )
    plan = await plan_image(job.source, job.source_repo, root, job.concurrency)
    job.planned(plan)
    if current is not None and current.digest == root.digest:
        _all_skipped(job, plan)
        return
    await copy_blobs(job, plan.blobs)
    await _copy_children(job, plan.children)
    await job.destination.put_manifest(job.dest_repo, target, root)
    job.result.manifests_copied += 1
    job.result.tag_written = dest_tag is not None


async def _root_and_current(
    job: CopyJob, reference: str, dest_tag: str | None
) -> tuple[ManifestBlob, ManifestInfo | None]:
    """The source manifest, and what the destination has under the tag (both asked at once)."""
    get_root = job.source.get_manifest(job.source_repo, reference)
    if dest_tag is None:
        root = await get_root
        return root, await job.destination.head_manifest(job.dest_repo, str(root.digest))
    return await both(get_root, job.destination.head_manifest(job.dest_repo, dest_tag))


async def _copy_children(job: CopyJob, children: tuple[ManifestBlob, ...]) -> None:
    """HEAD them all at once, then PUT the missing ones in order (children before parents)."""
    present: set[int] = set()

    async def check(position: int) -> None:
        digest = children[position].digest
        if await job.destination.head_manifest(job.dest_repo, str(digest)) is not None:
            present.add(position)

    await run_bounded(range(len(children)), check, job.concurrency)
    for position, child in enumerate(children):
        if position in present:
            job.result.manifests_skipped += 1
            continue
        await job.destination.put_manifest(job.dest_repo, str(child.digest), child)
        job.result.manifests_copied += 1


def _all_skipped(job: CopyJob, plan: ImagePlan) -> None:
    for blob in plan.blobs:
        job.result.skipped(blob)
        job.blob_done(blob, 0)
    job.result.manifests_skipped += len(plan.manifests)


def _name(client: RegistryClient, repository: str, reference: str | None) -> str:
    host = client.base_url.split("://", 1)[1]
    if reference is None:
        return f"{host}/{repository}"
    separator = "@" if ":" in reference else ":"
    return f"{host}/{repository}{separator}{reference}"
