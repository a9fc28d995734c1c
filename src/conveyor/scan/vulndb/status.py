"""`conveyor vulndb status`: each source with its counts and import time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from conveyor.db.database import Database
from conveyor.db.vulndb_models import VulnSource


async def vulndb_status(db: Database) -> dict[str, Any]:
    async with db.read() as session:
        rows = (await session.execute(select(VulnSource).order_by(VulnSource.name))).scalars()
        sources = [
            {
                "name": s.name,
                "kind": s.kind,
                "advisories": s.advisories,
                "affected": s.affected,
                "importedAt": s.imported_at.isoformat(),
            }
            for s in rows
        ]
    return {
        "sources": sources,
        "advisories": sum(s["advisories"] for s in sources),
        "affected": sum(s["affected"] for s in sources),
    }
