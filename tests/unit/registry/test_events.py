"""Registry events: an outbox row per change, in its transaction, and the in-process bus."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from conveyor.auth.identity import Identity
from conveyor.db.database import Database
from conveyor.db.migrate import upgrade
from conveyor.db.models import Event
from conveyor.oci.digest import Digest
from conveyor.registry import events, manifests, uploads
from conveyor.registry.context import RegistryContext
from conveyor.registry.errors import RegistryError
from conveyor.storage.filesystem import FilesystemStore

ADMIN = Identity("admin", 1, True)
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def ctx(tmp_path: Path) -> AsyncIterator[RegistryContext]:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade(url)
    db = Database(url)
    yield RegistryContext(db, FilesystemStore(tmp_path / "blobs"))
    await db.close()


async def push_config(ctx: RegistryContext, repository: str) -> tuple[Digest, int]:
    data = b'{"architecture":"amd64","os":"linux"}'
    digest = Digest.of(data)
    session = await uploads.start_upload(ctx, repository, ADMIN.name)

    async def body() -> AsyncIterator[bytes]:
        yield data

    session = await uploads.append(ctx, session, body())
    await uploads.finish(ctx, session, digest, ADMIN)
    return digest, len(data)


def manifest_for(config: Digest, size: int) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": str(config),
                "size": size,
            },
            "layers": [],
        }
    ).encode()


async def outbox(ctx: RegistryContext) -> list[tuple[str, str | None]]:
    async with ctx.db.read() as session:
        rows = (await session.execute(select(Event).order_by(Event.id))).scalars().all()
    return [(row.action, row.tag) for row in rows]


@pytest.mark.anyio
async def test_push_by_tag_records_push_and_tag_events_and_wakes_subscribers(
    ctx: RegistryContext,
) -> None:
    seen: list[events.RegistryEvent] = []

    async def subscriber(event: events.RegistryEvent) -> None:
        seen.append(event)

    ctx.events.subscribe(subscriber)
    config, size = await push_config(ctx, "shop/web")
    result = await manifests.push(
        ctx, "shop/web", "v1", manifest_for(config, size), OCI_MANIFEST, ["stable"], ADMIN
    )
    assert await outbox(ctx) == [("push", None), ("tag", "v1"), ("tag", "stable")]
    await asyncio.sleep(0.05)
    assert [(e.action, e.tag, e.digest) for e in seen] == [
        ("push", None, str(result.digest)),
        ("tag", "v1", str(result.digest)),
        ("tag", "stable", str(result.digest)),
    ]
    assert all(e.actor == "admin" and e.repository == "shop/web" for e in seen)


@pytest.mark.anyio
async def test_deletes_record_their_events(ctx: RegistryContext) -> None:
    config, size = await push_config(ctx, "shop/web")
    result = await manifests.push(
        ctx, "shop/web", "v1", manifest_for(config, size), OCI_MANIFEST, [], ADMIN
    )
    await manifests.delete_reference(ctx, "shop/web", "v1", ADMIN)
    await manifests.delete_reference(ctx, "shop/web", result.digest, ADMIN)
    assert (await outbox(ctx))[-2:] == [("delete_tag", "v1"), ("delete_manifest", None)]


@pytest.mark.anyio
async def test_a_refused_push_records_no_event(ctx: RegistryContext) -> None:
    missing = Digest.of(b"never pushed")
    with pytest.raises(RegistryError) as refused:
        await manifests.push(
            ctx, "shop/web", "v1", manifest_for(missing, 12), OCI_MANIFEST, [], ADMIN
        )
    assert refused.value.code == "MANIFEST_BLOB_UNKNOWN"
    assert await outbox(ctx) == []


@pytest.mark.anyio
async def test_a_failing_subscriber_does_not_fail_the_push(ctx: RegistryContext) -> None:
    async def broken(event: events.RegistryEvent) -> None:
        raise RuntimeError("subscriber bug")

    ctx.events.subscribe(broken)
    config, size = await push_config(ctx, "shop/web")
    await manifests.push(ctx, "shop/web", "v1", manifest_for(config, size), OCI_MANIFEST, [], ADMIN)
    await asyncio.sleep(0.05)
    assert ("tag", "v1") in await outbox(ctx)
