"""The DISTRIBUTE node: tell every triggered webhook that the image is ready."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import Integer, cast, func, select

from conveyor.auth.secrets import SecretBox, read_secret
from conveyor.chains.nodes import NodeOutcome, StepContext
from conveyor.chains.schema import DistributeTarget
from conveyor.db.chain_models import Delivery
from conveyor.db.database import Database
from conveyor.db.models import Namespace, Repository
from conveyor.distribute.delivery import DeliveryPolicy, DeliveryReport, Webhook, deliver
from conveyor.distribute.payloads import ImagePushed, render
from conveyor.distribute.targets import redact, triggered
from conveyor.oci.reference import split_namespace


@dataclass
class InstanceInfo:
    name: str
    region: str
    host: str
    utc_offset_hours: float


class DistributeNode:
    kind = "DISTRIBUTE"

    def __init__(
        self, db: Database, box: SecretBox, policy: DeliveryPolicy, instance: InstanceInfo
    ) -> None:
        self.db = db
        self.box = box
        self.policy = policy
        self.instance = instance
        self.http = httpx.AsyncClient(follow_redirects=False)

    async def run(self, step: StepContext) -> NodeOutcome:
        tag = step.tag or ""
        targets = step.chain.spec.distribute
        fired = [t for t in targets if triggered(t.trigger, tag)]
        untriggered = [t.name for t in targets if t not in fired]
        for name in untriggered:
            await step.log("DISTRIBUTE", f"{name}: untriggered by tag {tag!r}")
        reports = await asyncio.gather(*(self._send(step, target, tag) for target in fired))
        result: dict[str, Any] = {
            "deliveries": [r.to_json() for r in reports],
            "untriggered": untriggered,
        }
        failed = [r for r in reports if not r.delivered]
        if failed:
            names = ", ".join(f"{r.target} ({r.error})" for r in failed)
            return NodeOutcome.failed(f"webhook not delivered: {names}", result)
        return NodeOutcome.success(result)

    async def _send(self, step: StepContext, target: DistributeTarget, tag: str) -> DeliveryReport:
        delivery_id = str(
            uuid.uuid5(uuid.NAMESPACE_URL, f"conveyor/{step.record_id}/{target.name}")
        )
        done, attempts = await self._earlier_attempts(step.step_id, target.name)
        if done:
            return DeliveryReport(target.name, redact(target.url), True, attempts, None, None)
        event = await self._event(step, tag, delivery_id)
        body, content_type = render(target.format, event, self.instance.utc_offset_hours)
        secret = await self._secret(target.secret)
        hook = Webhook(
            step.step_id, target.name, target.url, body, content_type, delivery_id, secret
        )
        await step.log("DISTRIBUTE", f"{target.name}: POST {redact(target.url)} ({target.format})")
        report = await deliver(self.db, self.http, hook, self.policy, attempts + 1)
        outcome = "delivered" if report.delivered else f"gave up: {report.error}"
        await step.log("DISTRIBUTE", f"{target.name}: {outcome} after {report.attempts} attempt(s)")
        return report

    async def _earlier_attempts(self, step_id: int, target: str) -> tuple[bool, int]:
        """A re-claimed step resumes: delivered targets are not called again."""
        async with self.db.read() as session:
            row = (
                await session.execute(
                    select(func.count(Delivery.id), func.max(cast(Delivery.ok, Integer))).where(
                        Delivery.step_id == step_id, Delivery.target == target
                    )
                )
            ).one()
        return bool(row[1]), int(row[0])

    async def _secret(self, name: str | None) -> str | None:
        if name is None:
            return None
        async with self.db.read() as session:
            return await read_secret(session, self.box, name)

    async def _event(self, step: StepContext, tag: str, delivery_id: str) -> ImagePushed:
        namespace, name = split_namespace(step.repository)
        async with self.db.read() as session:
            row = (
                await session.execute(
                    select(Repository.created_at, Namespace.public)
                    .join(Namespace, Namespace.id == Repository.namespace_id)
                    .where(Repository.name == step.repository)
                )
            ).first()
        created, public = (row[0], bool(row[1])) if row else (datetime.now(UTC), False)
        pushed_at = step.trigger.get("pushedAt")
        return ImagePushed(
            instance=self.instance.name,
            region=self.instance.region,
            host=self.instance.host,
            namespace=namespace,
            name=name,
            tag=tag,
            digest=step.digest or "",
            pusher=str(step.trigger.get("pusher", "")),
            public=public,
            pushed_at=datetime.fromisoformat(pushed_at) if pushed_at else datetime.now(UTC),
            repository_created_at=created,
            delivery_id=delivery_id,
        )
