"""The BUILD node: one commit of a source-bound repository -> one OCI index under every tag.

GIT_CLONE: shallow fetch of the exact commit into a private directory. BUILD: `buildah build`
per platform (foreign ones through qemu-user-static) into one manifest list. PUSH: the list and
its images as an OCI layout, uploaded to this instance's registry under every composed tag. The
step's result is what later nodes (scan, sync, distribute) of the same record run on.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from conveyor.auth.secrets import SecretBox, SecretError
from conveyor.auth.tokens import TokenService
from conveyor.build.account import BuildAccount
from conveyor.build.buildah import (
    Storage,
    build_command,
    buildah_env,
    push_to_layout_command,
    remove_containers_command,
    remove_manifest_command,
)
from conveyor.build.cachelock import storage_lock
from conveyor.build.checkout import CheckoutError, build_paths, fetch_commit
from conveyor.build.gitenv import GitCredentials, git_env
from conveyor.build.logsink import BuildLog
from conveyor.build.options import BuildOptions
from conveyor.build.process import run_captured, run_streaming
from conveyor.build.refs import GitRef, RefError, check_commit, parse_ref
from conveyor.build.rules import match_rule
from conveyor.build.sources import SourceError, find_source, load_credentials
from conveyor.build.tagging import TagError, compose_tags
from conveyor.build.upload import Pushed, Uploader, UploadError
from conveyor.chains.nodes import NodeOutcome, StepContext
from conveyor.chains.patterns import PatternError
from conveyor.chains.schema import BuildRule
from conveyor.db.database import Database


class BuildFailed(Exception):
    def __init__(self, reason: str, *, transient: bool = False) -> None:
        super().__init__(reason)
        self.transient = transient


@dataclass(frozen=True, slots=True)
class Plan:
    rule_number: int
    rule: BuildRule
    ref: GitRef
    commit: str
    tags: list[str]
    url: str
    credentials: GitCredentials | None


class BuildNode:
    kind = "BUILD"

    def __init__(
        self, db: Database, box: SecretBox, options: BuildOptions, tokens: TokenService
    ) -> None:
        self.db = db
        self.box = box
        self.options = options
        self.account = BuildAccount(db, tokens)
        self._slots = asyncio.Semaphore(options.max_concurrent)
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(600.0, connect=10.0))

    async def run(self, step: StepContext) -> NodeOutcome:
        try:
            plan = await self._plan(step)
        except BuildFailed as exc:
            await step.log("BUILD", f"FAILED: {exc}")
            return NodeOutcome.failed(str(exc))
        log = BuildLog(
            self.db,
            step.step_id,
            max_lines=self.options.log_max_lines,
            max_chars=self.options.log_max_line_chars,
            redact=plan.credentials.secrets() if plan.credentials else (),
        )
        async with log:
            try:
                async with self._slots:
                    return await self._timed(step, plan, log)
            except BuildFailed as exc:
                log.add("BUILD", f"FAILED: {exc}")
                return NodeOutcome.failed(str(exc), retry=exc.transient)

    async def _timed(self, step: StepContext, plan: Plan, log: BuildLog) -> NodeOutcome:
        limit = self.options.timeout_seconds
        try:
            async with asyncio.timeout(limit) as deadline:
                result = await self._build(step, plan, log)
        except FileNotFoundError as exc:
            raise BuildFailed(f"{exc.filename} is not installed on this runner") from None
        except TimeoutError:
            if not deadline.expired():
                raise BuildFailed("a git or buildah command gave no answer in time") from None
            reason = f"the build ran longer than its timeout ({limit:g} s) and was stopped"
            log.add("BUILD", f"FAILED: {reason}")
            return NodeOutcome.failed(reason)
        return NodeOutcome.success(result)

    async def _plan(self, step: StepContext) -> Plan:
        trigger = step.trigger
        build = step.chain.spec.build
        if trigger.get("type") != "git" or build is None:
            raise BuildFailed("a BUILD step runs on a git push of a chain with a build node")
        number = int(trigger.get("rule") or 0)
        if not 1 <= number <= len(build.rules):
            raise BuildFailed(f"chain version {step.chain_version} has no build rule {number}")
        rule = build.rules[number - 1]
        try:
            ref = parse_ref(str(trigger.get("ref", "")))
            commit = check_commit(str(trigger.get("commit", "")))
            groups = match_rule(rule, ref)
            if groups is None:
                raise BuildFailed(f"rule {number} does not build {ref.full}")
            pushed_at = datetime.fromisoformat(str(trigger["pushedAt"]))
            tags = compose_tags(rule, groups, pushed_at, commit, self.options.utc_offset_hours)
        except (RefError, TagError, PatternError, KeyError, ValueError) as exc:
            raise BuildFailed(str(exc)) from None
        async with self.db.read() as session:
            source = await find_source(session, step.repository)
            if source is None:
                raise BuildFailed(f"{step.repository} is no longer bound to a git source")
            try:
                credentials = await load_credentials(session, source, self.box)
            except (SourceError, SecretError) as exc:
                raise BuildFailed(str(exc)) from None
        return Plan(number, rule, ref, commit, tags, source.git_url, credentials)

    async def _build(self, step: StepContext, plan: Plan, log: BuildLog) -> dict[str, Any]:
        self.options.work_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f"build-{step.record_id}-", dir=self.options.work_dir))
        try:
            head, context, dockerfile = await self._checkout(plan, log, work)
            layout = await self._images_in_storage(step, plan, log, work, context, dockerfile)
            pushed = await self._upload(step, plan, log, layout)
        finally:
            await asyncio.shield(asyncio.to_thread(shutil.rmtree, work, ignore_errors=True))
        return {
            "digest": pushed.digest,
            "tags": plan.tags,
            "platforms": pushed.platforms,
            "commit": head,
            "ref": plan.ref.full,
            "blobsUploaded": pushed.uploaded,
            "blobsSkipped": pushed.skipped,
        }

    async def _checkout(self, plan: Plan, log: BuildLog, work: Path) -> tuple[str, Path, Path]:
        """(commit, context directory, Dockerfile) of the fetched commit."""
        log.add("GIT_CLONE", f"{plan.url} {plan.ref.full} at {plan.commit}")
        env = git_env(work / "git-home", plan.url, plan.credentials)
        try:
            head = await fetch_commit(
                plan.url,
                plan.ref,
                plan.commit,
                work / "src",
                env,
                log.writer("GIT_CLONE"),
                self.options.log_max_line_chars,
            )
            return (head, *build_paths(work / "src", plan.rule.dockerfile))
        except CheckoutError as exc:
            raise BuildFailed(str(exc)) from None

    async def _images_in_storage(
        self,
        step: StepContext,
        plan: Plan,
        log: BuildLog,
        work: Path,
        context: Path,
        dockerfile: Path,
    ) -> Path:
        if not plan.rule.cache:  # thrown away with the working directory
            storage = Storage.under(work / "storage")
            return await self._images(step, plan, log, work, storage, context, dockerfile)
        # Kept per chain rule, so `--layers` finds what the previous build of the rule made;
        # builds of one rule take turns in it.
        base = self.options.cache_dir / step.chain.metadata.name / f"rule-{plan.rule_number}"
        async with storage_lock(base):
            storage = Storage.under(base)
            await self._clear_leftovers(storage, work)
            return await self._images(step, plan, log, work, storage, context, dockerfile)

    async def _clear_leftovers(self, storage: Storage, work: Path) -> None:
        """Working containers a killed build left in the kept storage (its layers stay)."""
        env = buildah_env(work, storage, self.options.registry_url)
        await run_captured(remove_containers_command(storage), env=env, timeout=300)

    async def _images(
        self,
        step: StepContext,
        plan: Plan,
        log: BuildLog,
        work: Path,
        storage: Storage,
        context: Path,
        dockerfile: Path,
    ) -> Path:
        """Build every platform into one manifest list; return it as an OCI layout."""
        env = buildah_env(work, storage, self.options.registry_url)
        manifest = f"localhost/conveyor-build/r{step.record_id}-{uuid.uuid4().hex[:12]}"
        shown = dockerfile.relative_to(work / "src")
        try:
            for platform in plan.rule.platforms:
                log.add("BUILD", f"building {platform} from {shown}")
                command = build_command(
                    storage,
                    platform=platform,
                    dockerfile=dockerfile,
                    context=context,
                    manifest=manifest,
                    args=plan.rule.args,
                    cache=plan.rule.cache,
                )
                status = await self._stream(command, env, log, "BUILD", work)
                if status != 0:
                    raise BuildFailed(f"buildah build for {platform} exited {status} (see the log)")
            layout = work / "layout"
            log.add("PUSH", "assembling the index of " + ", ".join(plan.rule.platforms))
            status = await self._stream(
                push_to_layout_command(storage, manifest, layout), env, log, "PUSH", work
            )
            if status != 0:
                raise BuildFailed(f"buildah manifest push exited {status} (see the log)")
            return layout
        finally:
            if plan.rule.cache:
                with contextlib.suppress(Exception):
                    await asyncio.shield(
                        run_captured(
                            remove_manifest_command(storage, manifest), env=env, timeout=60
                        )
                    )

    async def _stream(
        self, command: list[str], env: dict[str, str], log: BuildLog, stage: str, cwd: Path
    ) -> int:
        return await run_streaming(
            command,
            env=env,
            cwd=cwd,
            on_line=log.writer(stage),
            max_line_chars=self.options.log_max_line_chars,
        )

    async def _upload(self, step: StepContext, plan: Plan, log: BuildLog, layout: Path) -> Pushed:
        repository = step.repository
        log.add("PUSH", f"pushing to {repository}: {', '.join(plan.tags)}")

        async def token() -> str:
            return await self.account.token(repository)

        uploader = Uploader(
            self.http, self.options.registry_url, repository, token, log.writer("PUSH")
        )
        try:
            return await uploader.push(layout, plan.tags)
        except UploadError as exc:
            raise BuildFailed(str(exc), transient=exc.transient) from None

    async def close(self) -> None:
        await self.http.aclose()
