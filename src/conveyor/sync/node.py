"""The SYNC node: copy the image that reached the chain to every passive rule's destination, or,
run by hand, every existing tag a rule selects (a backfill). Each copy is a task on the record."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import select

from conveyor.auth.scopes import Access
from conveyor.auth.secrets import SecretBox
from conveyor.auth.tokens import TokenService
from conveyor.chains.nodes import NodeOutcome, StepContext
from conveyor.chains.patterns import PatternError, full_match
from conveyor.chains.schema import SyncRule
from conveyor.client.errors import ErrorCode
from conveyor.client.options import Credentials, TlsOptions
from conveyor.client.registry import RegistryClient
from conveyor.db.chain_models import Endpoint
from conveyor.db.database import Database
from conveyor.db.models import Repository
from conveyor.oci.reference import split_namespace
from conveyor.sync.backfill import backfill
from conveyor.sync.copy import copy_image
from conveyor.sync.result import CopyProgress, CopyResult

# Worth another attempt of the step; the others need a person (credentials, a tag, a name).
TRANSIENT = {ErrorCode.NETWORK_ERROR, ErrorCode.INTERNAL_ERROR}
SYNC_IDENTITY = "conveyor:sync"


class SyncNode:
    kind = "SYNC"

    def __init__(
        self, db: Database, box: SecretBox, tokens: TokenService, registry_url: str
    ) -> None:
        self.db = db
        self.box = box
        self.tokens = tokens
        self.registry_url = registry_url
        self._keys_loaded = False

    async def run(self, step: StepContext) -> NodeOutcome:
        manual = step.trigger.get("type") == "sync"
        rules = [r for r in step.chain.spec.sync if _selected(r, step.trigger, manual)]
        tasks: list[dict[str, Any]] = []
        for rule in rules:
            results = await (self._backfill(step, rule) if manual else self._passive(step, rule))
            tasks.extend({"rule": rule.name, **r.to_json()} for r in results)
        return _outcome(tasks)

    async def _passive(self, step: StepContext, rule: SyncRule) -> list[CopyResult]:
        tag = step.tag or ""
        destination = _destination(rule, step.repository)
        if destination is None or not _matches(rule.tagFilter, tag):
            await step.log("SYNC", f"{rule.name}: {step.repository}:{tag} not selected")
            return []
        await step.log(
            "SYNC",
            f"{rule.name}: {step.repository}:{tag} → {rule.destination.endpoint}/{destination}",
        )
        async with (
            await self._source([step.repository]) as source,
            await self._endpoint(rule) as target,
        ):
            result = await copy_image(
                source,
                step.repository,
                step.digest or tag,
                target,
                destination,
                tag,
                overwrite=rule.overwrite,
            )
        await step.log("SYNC", _describe(rule, result))
        return [result]

    async def _backfill(self, step: StepContext, rule: SyncRule) -> list[CopyResult]:
        repositories = await self._scope_repositories(step, rule)
        results: list[CopyResult] = []
        tracker = _Progress(step)
        saver = asyncio.create_task(tracker.keep_saving())
        try:
            return await self._backfill_all(rule, repositories, tracker, results, step)
        finally:
            saver.cancel()

    async def _backfill_all(
        self,
        rule: SyncRule,
        repositories: list[str],
        tracker: _Progress,
        results: list[CopyResult],
        step: StepContext,
    ) -> list[CopyResult]:
        async with await self._source(repositories) as source, await self._endpoint(rule) as target:
            for repository in repositories:
                destination = _destination(rule, repository)
                if destination is None:
                    continue
                report = await backfill(
                    source,
                    repository,
                    target,
                    destination,
                    rule.tagFilter,
                    overwrite=rule.overwrite,
                    progress=tracker.update,
                )
                for result in report.results:
                    await step.log("SYNC", _describe(rule, result))
                results.extend(report.results)
                await tracker.flush(force=True)
        return results

    async def _scope_repositories(self, step: StepContext, rule: SyncRule) -> list[str]:
        scope = step.chain.spec.scope
        if scope.repository is not None:
            return [f"{scope.namespace}/{scope.repository}"]
        async with self.db.read() as session:
            names = (
                await session.execute(
                    select(Repository.name).where(Repository.name.like(f"{scope.namespace}/%"))
                )
            ).scalars()
            return sorted(n for n in names if split_namespace(n)[1] not in scope.exclude)

    async def _source(self, repositories: list[str]) -> RegistryClient:
        """This instance's own registry, with a short-lived token that can only pull these."""
        if not self._keys_loaded:
            await self.tokens.load_keys(self.db)
            self._keys_loaded = True
        access = [Access("repository", name, ("pull",)) for name in repositories]
        token, _, _ = self.tokens.issue(SYNC_IDENTITY, access)
        return RegistryClient(self.registry_url, credentials=Credentials.bearer(token))

    async def _endpoint(self, rule: SyncRule) -> RegistryClient:
        async with self.db.read() as session:
            endpoint = await session.get(Endpoint, rule.destination.endpoint)
        if endpoint is None:
            raise LookupError(f"endpoint {rule.destination.endpoint!r} was removed")
        credentials = None
        if endpoint.username:
            password = ""
            if endpoint.password_nonce and endpoint.password_ciphertext:
                password = self.box.open(
                    f"endpoint:{endpoint.name}",
                    endpoint.password_nonce,
                    endpoint.password_ciphertext,
                )
            credentials = Credentials(endpoint.username, password)
        return RegistryClient(
            endpoint.url, credentials=credentials, tls=TlsOptions(insecure=endpoint.insecure)
        )


def _selected(rule: SyncRule, trigger: dict[str, Any], manual: bool) -> bool:
    if manual:
        return rule.name == trigger.get("rule")
    return rule.trigger == "passive"


def _destination(rule: SyncRule, repository: str) -> str | None:
    """Same repository name under the destination namespace (namespace scope), or the given
    repository (repository scope); None when the repository filter leaves it out."""
    name = split_namespace(repository)[1]
    if rule.scope == "namespace":
        if not _matches(rule.repoFilter, name):
            return None
        return f"{rule.destination.namespace}/{name}"
    return f"{rule.destination.namespace}/{rule.destination.repository or name}"


def _matches(pattern: str, text: str) -> bool:
    try:
        return full_match(pattern, text) is not None
    except PatternError:
        return False


def _describe(rule: SyncRule, result: CopyResult) -> str:
    if not result.ok:
        return f"{rule.name}: {result.destination}: {result.error_code}: {result.error}"
    return (
        f"{rule.name}: {result.destination} {result.digest}: {result.blobs_copied} blob(s) copied "
        f"({result.bytes_copied} bytes), {result.blobs_skipped} skipped, "
        f"{result.blobs_mounted} mounted"
    )


def _outcome(tasks: list[dict[str, Any]]) -> NodeOutcome:
    result = {"tasks": tasks}
    failed = [t for t in tasks if t.get("errorCode")]
    if not failed:
        return NodeOutcome.success(result)
    retry = all(ErrorCode(t["errorCode"]) in TRANSIENT for t in failed)
    first = failed[0]
    message = (
        f"{len(failed)} sync task(s) failed; first: {first['destination']}: {first['errorCode']}"
    )
    return NodeOutcome.failed(message, result, retry=retry)


class _Progress:
    """Copy progress on the step, at most once a second (the CLI draws its bar from it)."""

    def __init__(self, step: StepContext) -> None:
        self.step = step
        self.bytes_done = self.blobs_done = 0
        self.saved_at = 0.0
        self.pending = False

    def update(self, progress: CopyProgress) -> None:
        self.bytes_done, self.blobs_done = progress.bytes_done, progress.blobs_done
        self.pending = True

    async def keep_saving(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            await self.flush()

    async def flush(self, force: bool = False) -> None:
        if self.step.save_progress is None or not (force or self.pending):
            return
        if force or time.monotonic() - self.saved_at > 1.0:
            await self.step.save_progress(
                {"progress": {"bytes": self.bytes_done, "blobs": self.blobs_done}}
            )
            self.saved_at, self.pending = time.monotonic(), False
