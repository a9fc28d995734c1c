"""`conveyor runner`: claim and run steps from the shared database, outside the server."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from conveyor.app import build_runner
from conveyor.auth.secrets import SecretBox
from conveyor.cli.observe import observe
from conveyor.config import Settings, load_settings
from conveyor.db.database import Database
from conveyor.db.migrate import upgrade
from conveyor.registry.context import RegistryContext
from conveyor.storage.url import open_store

ROLE = "runner"


def run_runner(config: Path | None, data: Path | None) -> None:
    overrides: dict[str, object] = {"data_dir": str(data)} if data else {}
    settings = load_settings(config, overrides)
    observe(settings, ROLE)
    upgrade(settings.database_url)
    asyncio.run(_serve(settings))


async def _serve(settings: Settings) -> None:
    db = Database(settings.database_url)
    box = SecretBox.from_settings(settings.secrets.key, settings.data_dir)
    ctx = RegistryContext(db, open_store(settings.storage_url))
    runner = build_runner(settings, ctx, box)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runner.start()
    print(
        f"conveyor runner {runner.name}: {len(runner.nodes)} node kinds, waiting for steps",
        flush=True,
    )
    await stop.wait()
    # Graceful: steps in flight are cancelled and their leases lapse for another runner.
    await runner.stop()
    await ctx.store.close()
    await db.close()
