"""The metadata database layer, run on SQLite (a file) and on a real PostgreSQL server."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import anyio.to_thread
import pytest
import sqlalchemy as sa
from sqlalchemy import func, select, update

from conveyor.db import migrate
from conveyor.db.database import Database
from conveyor.db.models import Base, Blob, Namespace, Repository, Tag
from conveyor.db.session import sync_url
from conveyor.db.upsert import insert_ignore, upsert

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

WRITERS = 20


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'conveyor.db'}"
    url: str = request.getfixturevalue("postgresql_url")
    return url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    await anyio.to_thread.run_sync(migrate.upgrade, database_url)
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.close()


class Failure(Exception):
    pass


def schema_of(url: str) -> dict[str, set[str]]:
    """Table name -> column names, as the database itself reports them."""
    engine = sa.create_engine(sync_url(url))
    try:
        inspector = sa.inspect(engine)
        return {
            table: {column["name"] for column in inspector.get_columns(table)}
            for table in inspector.get_table_names()
        }
    finally:
        engine.dispose()


def alembic_revision(url: str) -> list[str]:
    engine = sa.create_engine(sync_url(url))
    try:
        with engine.connect() as connection:
            return list(
                connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()
            )
    finally:
        engine.dispose()


# -- migrations ------------------------------------------------------------------------------


async def test_upgrade_creates_every_table_and_is_idempotent(database_url: str) -> None:
    await anyio.to_thread.run_sync(migrate.upgrade, database_url)
    first = await anyio.to_thread.run_sync(schema_of, database_url)
    expected = {
        table.name: {column.name for column in table.columns}
        for table in Base.metadata.sorted_tables
    }
    for name, columns in expected.items():
        assert name in first, f"table {name} not created by the migrations"
        assert first[name] == columns, f"columns of {name} differ from the models"
    assert "alembic_version" in first

    await anyio.to_thread.run_sync(migrate.upgrade, database_url)  # a second start: no-op
    assert await anyio.to_thread.run_sync(schema_of, database_url) == first
    assert len(await anyio.to_thread.run_sync(alembic_revision, database_url)) == 1


async def test_concurrent_upgrades(database_url: str) -> None:
    """Replicas starting together (separate processes) all bring the schema up, none fails."""
    code = "import sys; from conveyor.db import migrate; migrate.upgrade(sys.argv[1])"
    results: list[subprocess.CompletedProcess[bytes]] = []

    async def start_replica() -> None:
        results.append(
            await anyio.run_process([sys.executable, "-c", code, database_url], check=False)
        )

    async with anyio.create_task_group() as group:
        for _ in range(3):
            group.start_soon(start_replica)
    for result in results:
        assert result.returncode == 0, result.stderr.decode()
    assert "blobs" in await anyio.to_thread.run_sync(schema_of, database_url)
    assert len(await anyio.to_thread.run_sync(alembic_revision, database_url)) == 1


# -- transactions ----------------------------------------------------------------------------


async def test_write_commits(db: Database) -> None:
    async with db.write() as session:
        session.add(Namespace(name="shop", public=True))
    async with db.read() as session:
        found = (
            await session.execute(select(Namespace).where(Namespace.name == "shop"))
        ).scalar_one()
    assert found.public is True
    assert found.created_at is not None


async def test_write_rolls_back_on_exception(db: Database) -> None:
    with pytest.raises(Failure):
        async with db.write() as session:
            session.add(Namespace(name="doomed"))
            await session.flush()  # the row is in the transaction, not yet committed
            raise Failure
    async with db.read() as session:
        assert (await session.execute(select(Namespace.id))).first() is None


async def test_constraint_violation_rolls_back_the_whole_transaction(db: Database) -> None:
    async with db.write() as session:
        session.add(Namespace(name="taken"))
    with pytest.raises(sa.exc.IntegrityError):
        async with db.write() as session:
            session.add(Namespace(name="other"))
            await session.flush()
            session.add(Namespace(name="taken"))
    async with db.read() as session:
        names = (await session.execute(select(Namespace.name))).scalars().all()
    assert names == ["taken"]


async def test_reader_sees_only_committed_rows(db: Database) -> None:
    async with db.write() as session:
        session.add(Blob(digest="sha256:pending", size=1))
        await session.flush()
        async with db.read() as reader:
            assert await reader.get(Blob, "sha256:pending") is None
    async with db.read() as reader:
        assert await reader.get(Blob, "sha256:pending") is not None


# -- insert_ignore and upsert ----------------------------------------------------------------


async def test_insert_ignore(db: Database) -> None:
    async with db.write() as session:
        assert await insert_ignore(session, Blob, digest="sha256:aa", size=10) is True
    async with db.write() as session:
        assert await insert_ignore(session, Blob, digest="sha256:aa", size=99) is False
        assert await insert_ignore(session, Blob, digest="sha256:bb", size=20) is True
    async with db.read() as session:
        rows = dict((await session.execute(select(Blob.digest, Blob.size))).all())
    assert rows == {"sha256:aa": 10, "sha256:bb": 20}


async def test_upsert_updates_non_key_columns(db: Database) -> None:
    async with db.write() as session:
        namespace = Namespace(name="shop")
        session.add(namespace)
        await session.flush()
        repository = Repository(namespace_id=namespace.id, name="shop/web")
        session.add(repository)
        await session.flush()
        repository_id = repository.id
    for digest in ("sha256:one", "sha256:two"):
        async with db.write() as session:
            await upsert(
                session, Tag, ["repository_id", "name"],
                repository_id=repository_id, name="latest", digest=digest,
            )  # fmt: skip
    async with db.write() as session:
        await upsert(session, Tag, ["repository_id", "name"],
                     repository_id=repository_id, name="v1", digest="sha256:v1")  # fmt: skip
    async with db.read() as session:
        tags = dict((await session.execute(select(Tag.name, Tag.digest))).all())
    assert tags == {"latest": "sha256:two", "v1": "sha256:v1"}


# -- concurrent writers ----------------------------------------------------------------------


async def make_counter(db: Database) -> None:
    async with db.write() as session:
        session.add(Blob(digest="sha256:counter", size=0))


async def counter(db: Database) -> int:
    async with db.read() as session:
        value = await session.scalar(select(Blob.size).where(Blob.digest == "sha256:counter"))
    assert value is not None
    return value


async def run_writers(db: Database, writer: object) -> None:
    async with anyio.create_task_group() as group:
        for _ in range(WRITERS):
            group.start_soon(writer)  # type: ignore[arg-type]


async def test_concurrent_read_then_increment_loses_no_update(db: Database) -> None:
    """`write()` transactions are serialized: reading a row and writing it back is safe."""
    await make_counter(db)

    async def increment() -> None:
        async with db.write() as session:
            row = await session.get(Blob, "sha256:counter")
            assert row is not None
            await anyio.sleep(0.01)  # let the others interleave, if they can
            row.size += 1

    await run_writers(db, increment)
    assert await counter(db) == WRITERS


async def test_concurrent_locked_read_then_increment_loses_no_update(db: Database) -> None:
    """The portable idiom for a read-modify-write: SELECT ... FOR UPDATE."""
    await make_counter(db)

    async def increment() -> None:
        async with db.write() as session:
            query = select(Blob).where(Blob.digest == "sha256:counter").with_for_update()
            row = (await session.execute(query)).scalar_one()
            await anyio.sleep(0.01)
            row.size += 1

    await run_writers(db, increment)
    assert await counter(db) == WRITERS


async def test_concurrent_atomic_updates_and_inserts(db: Database) -> None:
    await make_counter(db)

    async def update_and_insert() -> None:
        async with db.write() as session:
            await session.execute(
                update(Blob).where(Blob.digest == "sha256:counter").values(size=Blob.size + 1)
            )
            await insert_ignore(session, Blob, digest="sha256:shared", size=1)

    await run_writers(db, update_and_insert)
    assert await counter(db) == WRITERS
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Blob)) == 2
