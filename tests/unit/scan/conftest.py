"""A migrated SQLite database with the whole shared vulnerability data folder imported once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from conveyor.db.database import Database
from conveyor.db.migrate import upgrade
from conveyor.scan.vulndb.files import from_paths
from conveyor.scan.vulndb.importer import ImportReport, import_data
from tests.support.scan_images import VULNDB_DATA

DATA = VULNDB_DATA
T = TypeVar("T")


def with_db(url: str, work: Callable[[Database], Awaitable[T]]) -> T:
    async def main() -> T:
        db = Database(url)
        try:
            return await work(db)
        finally:
            await db.close()

    return asyncio.run(main())


def new_database(directory: Path) -> str:
    url = f"sqlite:///{directory / 'conveyor.db'}"
    upgrade(url)
    return url


def import_paths(url: str, paths: list[Path]) -> ImportReport:
    return with_db(url, lambda db: import_data(db, lambda: from_paths(paths)))


@pytest.fixture(scope="session")
def vulndb_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = new_database(tmp_path_factory.mktemp("vulndb"))
    import_paths(url, [DATA])
    return url
