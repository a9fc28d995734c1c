"""`conveyor runner`: claim and run steps from the shared database, outside the server."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from conveyor.app import build_runner
from conveyor.auth.secrets import SecretBox
from conveyor.cli.observe import observe
from conveyor.config import Settings, load_settings
from conveyor.db.database import Database
from conveyor.db.migrate import upgrade
from conveyor.registry.context import RegistryContext
from conveyor.storage.url import open_store
from conveyor.web.probes import probe_app

ROLE = "runner"


def run_runner(config: Path | None, data: Path | None, listen: str | None) -> None:
    overrides: dict[str, object] = {"data_dir": str(data)} if data else {}
    settings = load_settings(config, overrides)
    observe(settings, ROLE)
    upgrade(settings.database_url)
    asyncio.run(_serve(settings, listen))


async def _serve(settings: Settings, listen: str | None) -> None:
    db = Database(settings.database_url)
    secrets = settings.secrets
    box = SecretBox.from_settings(secrets.key, settings.data_dir, secrets.previous_keys)
    ctx = RegistryContext(db, open_store(settings.storage_url))
    runner = build_runner(settings, ctx, box)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runner.start()
    probes = _probes(ctx, listen) if listen else None
    print(
        f"conveyor runner {runner.name}: {len(runner.nodes)} node kinds, waiting for steps",
        flush=True,
    )
    await stop.wait()
    # Graceful: steps in flight are stopped and handed back at once for another runner.
    await runner.stop()
    if probes is not None:
        probes[0].should_exit = True
        await probes[1]
    await ctx.store.close()
    await db.close()


def _probes(ctx: RegistryContext, listen: str) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    """/healthz, /readyz and /metrics on `listen`, for Kubernetes probes and Prometheus."""
    host, _, port = listen.rpartition(":")
    config = uvicorn.Config(
        probe_app(ctx),
        host=host or "127.0.0.1",
        port=int(port),
        log_level="warning",
        lifespan="off",
    )
    server = _QuietServer(config)
    return server, asyncio.create_task(server.serve())


class _QuietServer(uvicorn.Server):
    """The runner owns SIGTERM (to hand its steps back); the probe server must not take it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
