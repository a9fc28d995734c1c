"""Polling: `git ls-remote` each source that asks for it, at its interval, and turn every ref that
moved into a push event.

A source is claimed for a round in a write transaction (its `last_polled_at` moves first), so
replicas sharing a database do not poll it twice. The comparison with the refs seen last time,
the records it starts and the new refs are committed together: a moved ref starts its builds
exactly once. The first round only notes the refs (binding a source builds nothing old).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from conveyor.auth.secrets import SecretBox, SecretError
from conveyor.build.events import PushEvent
from conveyor.build.gitremote import GitError, ls_remote
from conveyor.build.intake import start_builds
from conveyor.build.options import BuildOptions
from conveyor.build.refs import RefError, is_deletion, parse_ref
from conveyor.build.sources import SourceError, load_credentials
from conveyor.db.build_models import BuildSource
from conveyor.db.database import Database

log = logging.getLogger(__name__)


def moved_refs(before: dict[str, str], now: dict[str, str]) -> dict[str, str]:
    """Refs that are new or point elsewhere; deleted ones are not pushes to build."""
    return {ref: commit for ref, commit in now.items() if before.get(ref) != commit}


class SourcePoller:
    def __init__(
        self, db: Database, box: SecretBox, options: BuildOptions, wake: Callable[[], None]
    ) -> None:
        self.db = db
        self.box = box
        self.options = options
        self.wake = wake
        self.tick_seconds = min(max(options.poll_min_seconds / 2, 0.25), 5.0)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="source-poller")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            try:
                await self.poll_due()
            except Exception:
                log.exception("source polling failed")
            await asyncio.sleep(self.tick_seconds)

    async def poll_due(self) -> int:
        """One round: poll every source that is due; how many were polled."""
        due = await self._claim()
        await asyncio.gather(*(self._poll(source_id) for source_id in due))
        return len(due)

    async def _claim(self) -> list[str]:
        now = datetime.now(UTC)
        claimed = []
        async with self.db.write() as session:
            rows = await session.execute(
                select(BuildSource).where(BuildSource.poll_seconds.is_not(None))
            )
            for source in rows.scalars():
                last = source.last_polled_at
                if last is not None and last.tzinfo is None:
                    last = last.replace(tzinfo=UTC)
                interval = timedelta(seconds=source.poll_seconds or 0)
                if last is None or last + interval <= now:
                    source.last_polled_at = now
                    claimed.append(source.id)
        return claimed

    async def _poll(self, source_id: str) -> None:
        async with self.db.read() as session:
            source = await session.get(BuildSource, source_id)
            if source is None:
                return
            url, repository = source.git_url, source.repository
            try:
                credentials = await load_credentials(session, source, self.box)
            except (SourceError, SecretError) as exc:
                await self._note_error(source_id, str(exc))
                return
        try:
            refs = await ls_remote(url, credentials, self.options.work_dir)
        except GitError as exc:
            await self._note_error(source_id, str(exc))
            return
        started = await self._record(source_id, url, repository, refs)
        if started:
            self.wake()

    async def _record(
        self, source_id: str, url: str, repository: str, refs: dict[str, str]
    ) -> list[int]:
        started: list[int] = []
        async with self.db.write() as session:
            source = await session.get(BuildSource, source_id)
            if source is None or source.git_url != url:
                return []  # unbound or re-bound meanwhile: this answer is stale
            before = source.last_refs
            source.last_refs = refs
            source.poll_error = None
            if before is None:
                return []
            now = datetime.now(UTC)
            for ref_name, commit in sorted(moved_refs(before, refs).items()):
                try:
                    ref = parse_ref(ref_name)
                except RefError:
                    continue
                if is_deletion(commit):
                    continue
                event = PushEvent(repository, ref, commit, now, "poll")
                started += await start_builds(session, event, self.options.utc_offset_hours)
        return started

    async def _note_error(self, source_id: str, message: str) -> None:
        log.warning("polling source %s: %s", source_id, message)
        async with self.db.write() as session:
            source = await session.get(BuildSource, source_id)
            if source is not None:
                source.poll_error = message[:1000]
