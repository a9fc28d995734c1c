"""Authorization against real registries: Conveyor's token realm, distribution's htpasswd Basic,
and an open registry. The proxy in front counts what went over the wire."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable

import pytest

from conveyor.client import AuthError, Credentials, RegistryClient
from conveyor.oci.digest import Digest
from tests.support.conveyor_server import ConveyorServer
from tests.support.distribution import DistributionRegistry
from tests.support.flaky_proxy import FlakyProxy
from tests.support.sync_content import RandomImage, push_image

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]
ProxyMaker = Callable[[str], FlakyProxy]


def admin(server: ConveyorServer) -> Credentials:
    return Credentials(server.admin_user, server.admin_password)


def token_requests(proxy: FlakyProxy) -> list[str]:
    return [r.path for r in proxy.requests if r.path.startswith("/auth/token")]


async def one_piece(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_conveyor_tokens_are_fetched_once_per_scope_and_reused(
    conveyor_server: ConveyorServer, flaky_proxy: ProxyMaker
) -> None:
    image = RandomImage.make(500)
    auth = (conveyor_server.admin_user, conveyor_server.admin_password)
    push_image(conveyor_server.url, auth, "auth/reuse", "v1", image)
    proxy = flaky_proxy(conveyor_server.url)
    async with RegistryClient(proxy.url, credentials=admin(conveyor_server)) as registry:
        for _ in range(5):
            await registry.get_manifest("auth/reuse", "v1")
            for digest in image.blobs:
                assert await registry.blob_exists("auth/reuse", Digest.parse(digest))
        fetched = token_requests(proxy)
        assert len(fetched) == 1, fetched
        assert "scope=repository%3Aauth%2Freuse%3Apull" in fetched[0]
        assert "service=conveyor" in fetched[0]

        # Push needs more: one new token (pull,push), which then also serves pulls.
        data = os.urandom(100)
        await registry.upload_blob("auth/reuse", Digest.of(data), len(data), one_piece(data))
        await registry.get_manifest("auth/reuse", "v1")
        assert len(token_requests(proxy)) == 2
    unauthorized = [r for r in proxy.requests if r.status == 401]
    assert len(unauthorized) == 1, "only the very first request goes without credentials"


async def test_conveyor_refused_push_is_an_auth_error_without_a_loop(
    conveyor_server: ConveyorServer, flaky_proxy: ProxyMaker
) -> None:
    """A guest gets a token without push; the 401 insufficient_scope names only what the token
    was asked for, so the token server gave all it would: AUTH_ERROR at once (no loop)."""
    conveyor_server.cli("namespace", "create", "authz")
    conveyor_server.cli("user", "create", "guest1", "--password-stdin", input="guest-Pass-1\n")
    conveyor_server.cli("namespace", "member", "add", "authz", "guest1", "--role", "guest")
    auth = (conveyor_server.admin_user, conveyor_server.admin_password)
    push_image(conveyor_server.url, auth, "authz/app", "v1", RandomImage.make(100))
    proxy = flaky_proxy(conveyor_server.url)
    guest = Credentials("guest1", "guest-Pass-1")
    async with RegistryClient(proxy.url, credentials=guest) as registry:
        await registry.get_manifest("authz/app", "v1")
        proxy.clear()
        data = os.urandom(100)
        with pytest.raises(AuthError) as caught:
            await registry.upload_blob("authz/app", Digest.of(data), len(data), one_piece(data))
    assert caught.value.code == "AUTH_ERROR"
    assert len(token_requests(proxy)) == 1, "one token asked with push, granted without"
    assert [r.status for r in proxy.requests if r.method == "POST"] == [401]


async def test_conveyor_wrong_password_is_an_auth_error(conveyor_server: ConveyorServer) -> None:
    wrong = Credentials(conveyor_server.admin_user, "not-the-password")
    async with RegistryClient(conveyor_server.url, credentials=wrong) as registry:
        with pytest.raises(AuthError):
            await registry.get_manifest("auth/reuse", "v1")


async def test_conveyor_anonymous_pull_of_a_private_repository_is_refused(
    conveyor_server: ConveyorServer,
) -> None:
    async with RegistryClient(conveyor_server.url) as registry:
        with pytest.raises(AuthError):
            await registry.get_manifest("auth/reuse", "v1")


async def test_distribution_htpasswd_basic(
    distribution_registry_htpasswd: DistributionRegistry, flaky_proxy: ProxyMaker
) -> None:
    peer = distribution_registry_htpasswd
    assert peer.auth is not None
    image = RandomImage.make(300)
    push_image(peer.url, peer.auth, "basic/app", "v1", image)
    proxy = flaky_proxy(peer.url)
    async with RegistryClient(proxy.url, credentials=Credentials(*peer.auth)) as registry:
        await registry.ping()
        for _ in range(3):
            fetched = await registry.get_manifest("basic/app", "v1")
            assert str(fetched.digest) == image.digest
    assert [r.status for r in proxy.requests] == [401, 200, 200, 200, 200]
    assert registry.transport.auth.tokens_fetched == 0

    wrong = Credentials(peer.auth[0], "wrong")
    async with RegistryClient(peer.url, credentials=wrong) as registry:
        with pytest.raises(AuthError):
            await registry.ping()
    async with RegistryClient(peer.url) as registry:
        with pytest.raises(AuthError):
            await registry.get_manifest("basic/app", "v1")


async def test_open_registry_needs_no_credentials(
    distribution_registry: DistributionRegistry, flaky_proxy: ProxyMaker
) -> None:
    push_image(distribution_registry.url, None, "open/app", "v1", RandomImage.make(100))
    proxy = flaky_proxy(distribution_registry.url)
    async with RegistryClient(proxy.url) as registry:
        await registry.ping()
        await registry.get_manifest("open/app", "v1")
    assert [r.status for r in proxy.requests] == [200, 200]


async def test_a_rejected_token_is_dropped_and_fetched_again(
    conveyor_factory: Callable[[], ConveyorServer], flaky_proxy: ProxyMaker
) -> None:
    """The registry behind the same address changes (another signing key): the cached token is
    refused with invalid_token, and the client gets a new one and goes on."""
    first, second = conveyor_factory(), conveyor_factory()
    image = RandomImage.make(100)
    for server in (first, second):
        push_image(
            server.url, (server.admin_user, server.admin_password), "auth/moved", "v1", image
        )
    proxy = flaky_proxy(first.url)
    async with RegistryClient(proxy.url, credentials=admin(first)) as registry:
        await registry.get_manifest("auth/moved", "v1")
        proxy.retarget(second.url)
        proxy.clear()
        fetched = await registry.get_manifest("auth/moved", "v1")
    assert str(fetched.digest) == image.digest
    assert [r.status for r in proxy.requests] == [401, 200, 200]
    assert proxy.requests[1].path.startswith("/auth/token")
