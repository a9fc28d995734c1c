"""Saving chains: validation against what exists, and a new version for every change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from conveyor.chains.schema import ChainDocument
from conveyor.db.build_models import BuildSource
from conveyor.db.chain_models import Chain, ChainVersion, Endpoint, Secret


class ChainInvalid(ValueError):
    """A chain document that cannot be saved; `field` names the offending field."""

    def __init__(self, message: str, field: str | None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class SavedChain:
    name: str
    version: int
    document: ChainDocument
    created: bool
    changed: bool


def parse_document(raw: Any) -> ChainDocument:
    try:
        return ChainDocument.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        message = first["msg"].removeprefix("Value error, ")
        raise ChainInvalid(f"{field}: {message}" if field else message, field) from None


async def check_references(session: AsyncSession, doc: ChainDocument) -> None:
    """Endpoints, secrets and source bindings the document names must exist."""
    spec = doc.spec
    if spec.build is not None:
        await _check_source_bound(session, doc)
    endpoints = set((await session.execute(select(Endpoint.name))).scalars())
    for i, rule in enumerate(spec.sync):
        if rule.destination.endpoint not in endpoints:
            raise ChainInvalid(
                f"unknown endpoint {rule.destination.endpoint!r}",
                f"spec.sync.{i}.destination.endpoint",
            )
    secrets = set((await session.execute(select(Secret.name))).scalars())
    for i, target in enumerate(spec.distribute):
        if target.secret is not None and target.secret not in secrets:
            raise ChainInvalid(f"unknown secret {target.secret!r}", f"spec.distribute.{i}.secret")


async def _check_source_bound(session: AsyncSession, doc: ChainDocument) -> None:
    """Only a single repository bound to a git source can have a build node."""
    scope = doc.spec.scope
    if scope.repository is None:
        raise ChainInvalid(
            f"a build node needs a single source-bound repository, "
            f"not the whole namespace {scope.namespace!r}",
            "spec.build",
        )
    repository = f"{scope.namespace}/{scope.repository}"
    bound = await session.execute(
        select(BuildSource.id).where(BuildSource.repository == repository)
    )
    if bound.first() is None:
        raise ChainInvalid(
            f"a build node needs a source-bound repository; {repository} is a local repository "
            f"(bind it first: conveyor repo bind-source {repository} --git URL)",
            "spec.build",
        )


async def save_chain(session: AsyncSession, doc: ChainDocument, actor: str) -> SavedChain:
    await check_references(session, doc)
    body = doc.model_dump(mode="json", exclude_none=True)
    chain = (
        await session.execute(select(Chain).where(Chain.name == doc.metadata.name))
    ).scalar_one_or_none()
    if chain is None:
        chain = Chain(name=doc.metadata.name, namespace=doc.spec.scope.namespace, version=1)
        session.add(chain)
        await session.flush()
        session.add(ChainVersion(chain_id=chain.id, version=1, document=body, created_by=actor))
        return SavedChain(chain.name, 1, doc, created=True, changed=True)
    current = await current_document(session, chain)
    if current == body:
        return SavedChain(chain.name, chain.version, doc, created=False, changed=False)
    chain.version += 1
    chain.namespace = doc.spec.scope.namespace
    chain.updated_at = datetime.now(UTC)
    session.add(
        ChainVersion(chain_id=chain.id, version=chain.version, document=body, created_by=actor)
    )
    return SavedChain(chain.name, chain.version, doc, created=False, changed=True)


async def current_document(session: AsyncSession, chain: Chain) -> dict[str, Any]:
    row = await session.get(ChainVersion, (chain.id, chain.version))
    assert row is not None, "every chain has its current version"
    return row.document


async def find_chain(session: AsyncSession, name: str) -> Chain | None:
    return (await session.execute(select(Chain).where(Chain.name == name))).scalar_one_or_none()


async def list_chains(session: AsyncSession) -> list[Chain]:
    return list((await session.execute(select(Chain).order_by(Chain.name))).scalars())


async def delete_chain(session: AsyncSession, name: str) -> bool:
    result = await session.execute(delete(Chain).where(Chain.name == name))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def chains_in_namespace(
    session: AsyncSession, namespace: str
) -> list[tuple[Chain, ChainDocument]]:
    """Chains scoped to a namespace, with their current documents (parsed)."""
    rows = await session.execute(
        select(Chain, ChainVersion.document)
        .join(
            ChainVersion,
            (ChainVersion.chain_id == Chain.id) & (ChainVersion.version == Chain.version),
        )
        .where(Chain.namespace == namespace)
    )
    return [(chain, ChainDocument.model_validate(document)) for chain, document in rows.all()]
