"""Push intake against a real (SQLite) database: records per matching rule, the build's own push
starting no second record, source bindings, and the capped build log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from conveyor.build.events import PushEvent
from conveyor.build.intake import start_builds
from conveyor.build.logsink import BuildLog
from conveyor.build.poller import moved_refs
from conveyor.build.refs import GitRef
from conveyor.build.sources import SourceError, SourceSpec, bind, check_git_url, unbind
from conveyor.chains.records import BUILD_ACTOR, start_for_events
from conveyor.chains.store import ChainInvalid, parse_document, save_chain
from conveyor.db.chain_models import Record, Step, StepLog
from conveyor.db.database import Database
from conveyor.db.migrate import upgrade
from conveyor.registry.events import TAG_SET, RegistryEvent

SHA = "9b5c1a6e2d3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade(url)
    database = Database(url)
    yield database
    await database.close()


def chain(name: str, repository: str | None, rules: list[dict[str, Any]] | None) -> Any:
    spec: dict[str, Any] = {
        "scope": {"namespace": "shop", **({"repository": repository} if repository else {})},
        "distribute": [{"name": "hook", "url": "http://127.0.0.1:9/hook"}],
    }
    if rules is not None:
        spec["build"] = {"rules": rules}
    return parse_document(
        {"apiVersion": "conveyor/v1", "kind": "Chain", "metadata": {"name": name}, "spec": spec}
    )


RULES = [
    {"type": "branch", "ref": r"release-(?<imageTag>\w*)", "tags": [{"tag": "${imageTag}"}]},
    {"type": "branch", "ref": "main", "tags": [{"tag": "latest"}]},
    {"type": "branch", "ref": r"release-.*", "tags": [{"tag": "rc", "commitId": 8}]},
    {"type": "tag", "ref": r"v.*", "tags": [{"tag": "bad tag ${x}"}]},
]


async def _setup(db: Database) -> None:
    async with db.write() as session:
        with pytest.raises(ChainInvalid, match="source-bound"):
            await save_chain(session, chain("web", "web", RULES), "admin")
    async with db.write() as session:
        await bind(session, "shop/web", SourceSpec("file:///srv/git/web.git"), "admin")
        await save_chain(session, chain("web", "web", RULES), "admin")
        await save_chain(session, chain("all", None, None), "admin")  # no build node


def event(ref: GitRef) -> PushEvent:
    return PushEvent("shop/web", ref, SHA, datetime(2020, 10, 15, 8, 25, tzinfo=UTC), "cli")


@pytest.mark.anyio
async def test_one_record_per_matching_rule_in_one_go(db: Database) -> None:
    await _setup(db)
    async with db.write() as session:
        started = await start_builds(session, event(GitRef("branch", "release-v1")), 8)
    async with db.read() as session:
        rows = (await session.execute(select(Record).order_by(Record.id))).scalars().all()
        assert [r.id for r in rows] == started and len(started) == 2
        assert [(r.trigger["rule"], r.trigger["tag"]) for r in rows] == [
            (1, "v1"),
            (3, "rc-9b5c1a6e"),
        ]
        assert rows[0].trigger | {"pushedAt": ""} == {
            "type": "git",
            "repository": "shop/web",
            "ref": "refs/heads/release-v1",
            "commit": SHA,
            "rule": 1,
            "pushedAt": "",
            "via": "cli",
            "tag": "v1",
        }
        steps = (
            await session.execute(
                select(Step.node, Step.status).where(Step.record_id == started[0])
            )
        ).all()
        assert [tuple(s) for s in steps] == [("BUILD", "PENDING"), ("DISTRIBUTE", "PENDING")]
    async with db.write() as session:
        assert await start_builds(session, event(GitRef("branch", "feature-x")), 8) == []
        assert await start_builds(session, event(GitRef("tag", "release-v1")), 8) == []
        # A tag that cannot be composed still starts its record: the build fails with the reason.
        (bad,) = await start_builds(session, event(GitRef("tag", "v2")), 8)
        record = await session.get(Record, bad)
        assert record is not None and "tag" not in record.trigger


@pytest.mark.anyio
async def test_the_builds_own_push_starts_no_second_record(db: Database) -> None:
    await _setup(db)
    pushed = RegistryEvent(TAG_SET, "shop/web", "sha256:" + "a" * 64, "v1", None, BUILD_ACTOR)
    async with db.write() as session:
        started = await start_for_events(session, [pushed])
    async with db.read() as session:
        chains = [(await session.get(Record, i)).chain_name for i in started]  # type: ignore[union-attr]
    assert chains == ["all"]  # the chain without a build node still sees the new image
    by_person = RegistryEvent(TAG_SET, "shop/web", "sha256:" + "a" * 64, "v1", None, "admin")
    async with db.write() as session:
        assert len(await start_for_events(session, [by_person])) == 2


@pytest.mark.anyio
async def test_a_source_in_use_cannot_be_unbound(db: Database) -> None:
    await _setup(db)
    async with db.write() as session:
        with pytest.raises(SourceError, match="web build from this source"):
            await unbind(session, "shop/web")
    async with db.write() as session:
        source, created = await bind(
            session, "shop/web", SourceSpec("https://git.example.com/x.git"), "a"
        )
        assert not created and source.id.startswith("src_") and len(source.id) > 30
        with pytest.raises(SourceError, match="unknown secret"):
            await bind(session, "shop/web", SourceSpec("https://g.example.com/x", "nope"), "a")


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://github.com/shop/web.git", True),
        ("http://127.0.0.1:8080/web.git", True),
        ("ssh://git@example.com/shop/web.git", True),
        ("git@github.com:shop/web.git", True),
        ("file:///srv/git/web.git", True),
        ("https://user:password@github.com/shop/web.git", False),
        ("ext::sh -c touch% /tmp/pwned", False),
        ("-uhelp", False),
        ("file://relative/path", False),
        ("https://", False),
        ("/srv/git/web.git", False),
    ],
)
def test_git_urls(url: str, ok: bool) -> None:
    if ok:
        assert check_git_url(url) == url
    else:
        with pytest.raises(SourceError):
            check_git_url(url)


def test_polling_sees_new_and_moved_refs_not_deleted_ones() -> None:
    before = {"refs/heads/main": "a" * 40, "refs/heads/old": "b" * 40, "refs/tags/v1": "c" * 40}
    now = {"refs/heads/main": "d" * 40, "refs/tags/v1": "c" * 40, "refs/heads/new": "e" * 40}
    assert moved_refs(before, now) == {"refs/heads/main": "d" * 40, "refs/heads/new": "e" * 40}


@pytest.mark.anyio
async def test_the_build_log_is_capped_numbered_and_redacted(db: Database) -> None:
    await _setup(db)
    async with db.write() as session:
        (record_id,) = await start_builds(session, event(GitRef("branch", "main")), 8)
        step_id = (
            await session.execute(
                select(Step.id).where(Step.record_id == record_id, Step.node == "BUILD")
            )
        ).scalar_one()
    async with BuildLog(
        db, step_id, max_lines=50, max_chars=20, redact=["hunter2-password"]
    ) as log:
        log.add("GIT_CLONE", "using hunter2-password for the fetch")
        for n in range(100_000):
            log.add("BUILD", f"line {n}")
        log.add("BUILD", "x" * 100)
    async with BuildLog(db, step_id, max_lines=50, max_chars=200) as log:
        log.add("PUSH", "a second attempt goes on numbering")
    async with db.read() as session:
        rows = (
            (
                await session.execute(
                    select(StepLog).where(StepLog.step_id == step_id).order_by(StepLog.line)
                )
            )
            .scalars()
            .all()
        )
    assert [r.line for r in rows] == list(range(1, 52))
    assert rows[0].text == "using *** for the fe [line cut]"  # redacted, then cut
    assert "hunter2" not in " ".join(r.text for r in rows)
    assert rows[48].text == "line 47"
    assert rows[49].text == "... log capped at 50 lines: 99953 more not kept"
    assert (rows[50].stage, rows[50].text) == ("PUSH", "a second attempt goes on numbering")
