"""The one place that wires concrete backends together into the server."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from conveyor.auth.origin import ClientOrigin
from conveyor.auth.secrets import SecretBox
from conveyor.auth.throttle import ThrottlePolicy
from conveyor.auth.tokens import TokenService
from conveyor.auth.users import ensure_admin
from conveyor.build.node import BuildNode
from conveyor.build.options import build_options
from conveyor.build.poller import SourcePoller
from conveyor.chains.nodes import Node
from conveyor.chains.records import start_for_events
from conveyor.chains.runner import Runner, RunnerSettings
from conveyor.config import Settings
from conveyor.db.database import Database
from conveyor.distribute.delivery import DeliveryPolicy
from conveyor.distribute.node import DistributeNode, InstanceInfo
from conveyor.observability.http_metrics import HttpMetrics
from conveyor.registry.audit import audit_registry_events
from conveyor.registry.context import Limits, RegistryContext
from conveyor.registry.http.access import Gatekeeper
from conveyor.registry.http.app import RegistryApp, route_template
from conveyor.scan.node import ScanNode
from conveyor.storage.url import open_store
from conveyor.sync.node import SyncNode
from conveyor.web.app import build_api
from conveyor.web.deps import Services

log = logging.getLogger("conveyor")


@dataclass
class Conveyor:
    """Every long-lived part of one server process."""

    settings: Settings
    db: Database
    ctx: RegistryContext
    tokens: TokenService
    gate: Gatekeeper
    box: SecretBox
    runner: Runner
    poller: SourcePoller

    @classmethod
    def build(cls, settings: Settings) -> Conveyor:
        db = Database(settings.database_url)
        limits = Limits(
            max_manifest_bytes=settings.registry.max_manifest_bytes,
            upload_expiry_seconds=settings.registry.upload_expiry_seconds,
            gc_grace_seconds=settings.registry.gc_grace_seconds,
            create_namespace_on_push=settings.auth.create_namespace_on_push,
        )
        ctx = RegistryContext(db, open_store(settings.storage_url), limits)
        tokens = TokenService(
            settings.auth.issuer, settings.auth.service, settings.auth.token_ttl_seconds
        )
        gate = Gatekeeper(
            db,
            tokens,
            external_url=settings.server.external_url,
            create_on_push=settings.auth.create_namespace_on_push,
            throttle=throttle_policy(settings),
        )
        secrets = settings.secrets
        box = SecretBox.from_settings(secrets.key, settings.data_dir, secrets.previous_keys)
        runner = build_runner(settings, ctx, box)
        # A tag set in a chain's scope starts its record in the tag's own transaction.
        ctx.transaction_hooks.append(start_for_events)
        ctx.transaction_hooks.append(audit_registry_events)  # pushes and deletes, audited
        poller = SourcePoller(db, box, build_options(settings), runner.wake)
        return cls(settings, db, ctx, tokens, gate, box, runner, poller)

    async def start(self, admin_password: str | None) -> None:
        await self.tokens.load_keys(self.db)
        self.ctx.events.subscribe(self._wake_runner)
        if self.settings.chains.runners:
            self.runner.start()
        self.poller.start()  # git sources that ask to be polled
        generated = await ensure_admin(self.db, admin_password)
        if generated:
            # Printed once, on the first start only; it is never stored in clear.
            print(f"conveyor: created user 'admin' with password: {generated}", flush=True)

    async def _wake_runner(self, _event: object) -> None:
        self.runner.wake()

    async def stop(self) -> None:
        await self.poller.stop()
        await self.runner.stop()
        await self.ctx.store.close()
        await self.db.close()


def throttle_policy(settings: Settings) -> ThrottlePolicy:
    auth = settings.auth
    return ThrottlePolicy(
        max_failures_per_user=auth.login_max_failures,
        max_failures_per_address=auth.login_max_failures_per_address,
        window_seconds=auth.login_window_seconds,
        lockout_seconds=auth.login_lockout_seconds,
    )


def build_runner(settings: Settings, ctx: RegistryContext, box: SecretBox) -> Runner:
    """The runner with every node this process can execute."""
    db = ctx.db
    delivery = DeliveryPolicy(
        timeout_seconds=settings.distribute.timeout_seconds,
        max_attempts=settings.distribute.max_attempts,
        retry_base_seconds=settings.distribute.retry_base_seconds,
        retry_max_seconds=settings.distribute.retry_max_seconds,
        deny_networks=settings.distribute.deny_networks,
    )
    instance = InstanceInfo(
        name=settings.server.instance_name,
        region=settings.server.region,
        host=settings.server.external_url.split("://")[-1] or settings.server.listen,
        utc_offset_hours=settings.distribute.utc_offset_hours,
    )
    nodes: dict[str, Node] = {
        "SCAN": ScanNode(ctx),
        "DISTRIBUTE": DistributeNode(db, box, delivery, instance),
    }
    auth = settings.auth
    tokens = TokenService(auth.issuer, auth.service, auth.token_ttl_seconds)
    nodes["BUILD"] = BuildNode(db, box, build_options(settings), tokens)
    nodes["SYNC"] = SyncNode(db, box, tokens, settings.local_registry_url)
    chain = settings.chains
    return Runner(
        db,
        nodes,
        RunnerSettings(
            concurrency=max(chain.runners, 1),
            lease_seconds=chain.lease_seconds,
            max_attempts=chain.max_attempts,
            retry_base_seconds=chain.retry_base_seconds,
            poll_seconds=chain.poll_seconds,
        ),
    )


def build_asgi(conveyor: Conveyor, admin_password: str | None) -> ASGIApp:
    # ClientOrigin: every request's client address, for the audit log and sign-in throttling.
    proxies = conveyor.settings.server.trusted_proxies
    return HttpMetrics(ClientOrigin(ConveyorASGI(conveyor, admin_password), proxies), route_of)


def route_of(path: str) -> str:
    """A bounded set of route labels for metrics: never raw paths."""
    if path.startswith("/v2"):
        return route_template(path)
    parts = path.split("/")
    if path.startswith("/api/v1/") and len(parts) > 3:
        return f"/api/v1/{parts[3]}"
    if path.startswith("/hooks/"):
        return "/hooks/git"
    if path in ("/healthz", "/readyz", "/metrics", "/auth/token"):
        return path
    return "/console"


class ConveyorASGI:
    """/v2 goes straight to the registry app (its hot path skips routing tables);
    everything else to the REST API."""

    def __init__(self, conveyor: Conveyor, admin_password: str | None) -> None:
        self.conveyor = conveyor
        self.registry = RegistryApp(conveyor.ctx, conveyor.gate)
        server = conveyor.settings.server
        self.api = build_api(
            Services(
                conveyor.ctx,
                conveyor.gate,
                conveyor.box,
                conveyor.runner.wake,
                instance_name=server.instance_name,
                region=server.region,
            )
        )
        self.api.router.lifespan_context = self._lifespan
        self.api.state.build_options = build_options(conveyor.settings)
        self._admin_password = admin_password

    @asynccontextmanager
    async def _lifespan(self, _app: object) -> AsyncIterator[None]:
        await self.conveyor.start(self._admin_password)
        try:
            yield
        finally:
            await self.conveyor.stop()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v2"):
            await self.registry(scope, receive, send)
        else:
            await self.api(scope, receive, send)
