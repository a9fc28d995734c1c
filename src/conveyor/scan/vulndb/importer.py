"""An import: files are parsed in a worker thread and written by the event loop, in batches,
inside one transaction (readers see the old data or the new, never half)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
from anyio.streams.memory import MemoryObjectSendStream

from conveyor.db.database import Database
from conveyor.scan.vulndb.files import DataFile
from conveyor.scan.vulndb.parse import Skipped, advisories
from conveyor.scan.vulndb.records import Advisory
from conveyor.scan.vulndb.store import Writer

BATCH = 500


@dataclass
class ImportReport:
    files: int = 0
    skipped: list[str] = field(default_factory=list)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    failure: Exception | None = None  # raised by the parser; re-raised, unwrapped, by the import

    def to_json(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "skippedFiles": len(self.skipped),
            "skipped": self.skipped[:50],
            "imported": [{"name": k, **v} for k, v in sorted(self.sources.items())],
        }


async def import_data(db: Database, files: Callable[[], Iterator[DataFile]]) -> ImportReport:
    report = ImportReport()
    send, receive = anyio.create_memory_object_stream[list[Advisory]](4)
    async with db.write() as session:
        writer = Writer(session)
        async with anyio.create_task_group() as group:
            group.start_soon(_produce, files, send, report)
            async with receive:
                async for batch in receive:
                    for advisory in batch:
                        await writer.add(advisory)
        if report.failure is not None:
            raise report.failure  # rolls the whole import back
        await writer.finish()
    report.sources = {
        name: {"kind": c.kind, "advisories": c.advisories, "affected": c.affected}
        for name, c in writer.sources.items()
    }
    return report


async def _produce(
    files: Callable[[], Iterator[DataFile]],
    send: MemoryObjectSendStream[list[Advisory]],
    report: ImportReport,
) -> None:
    async with send:
        try:
            await anyio.to_thread.run_sync(_parse_all, files, send, report)
        except Exception as exc:  # handed to the importer, not lost in an exception group
            report.failure = exc


def _parse_all(
    files: Callable[[], Iterator[DataFile]],
    send: MemoryObjectSendStream[list[Advisory]],
    report: ImportReport,
) -> None:
    batch: list[Advisory] = []
    for file in files():
        report.files += 1
        try:
            for advisory in advisories(file):
                batch.append(advisory)
                if len(batch) >= BATCH:
                    anyio.from_thread.run(send.send, batch)
                    batch = []
        except Skipped as exc:
            report.skipped.append(str(exc))
    if batch:
        anyio.from_thread.run(send.send, batch)
