"""`conveyor serve`: migrate, then run the embedded server."""

from __future__ import annotations

import os
from pathlib import Path

import uvicorn

from conveyor.app import Conveyor, build_asgi
from conveyor.cli.client import CliError
from conveyor.cli.observe import observe
from conveyor.config import load_settings
from conveyor.db.migrate import upgrade

ROLE = "serve"


def serve(data: Path | None, listen: str | None, config: Path | None) -> None:
    overrides: dict[str, object] = {}
    if data is not None:
        overrides["data_dir"] = str(data)
    if listen is not None:
        overrides["server.listen"] = listen
    settings = load_settings(config, overrides)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    host, _, port = settings.server.listen.rpartition(":")
    if not host or not port.isdigit():
        raise CliError(f"--listen wants HOST:PORT, got {settings.server.listen!r}")
    observe(settings, ROLE)
    upgrade(settings.database_url)
    conveyor = Conveyor.build(settings)
    asgi = build_asgi(conveyor, os.environ.get("CONVEYOR_ADMIN_PASSWORD"))
    print(
        f"conveyor: serving on http://{settings.server.listen} (data in {settings.data_dir})",
        flush=True,
    )
    uvicorn.run(
        asgi,
        host=host.strip("[]"),
        port=int(port),
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_keep_alive=30,
    )
