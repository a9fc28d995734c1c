"""Fixtures of the client tests: the flaky proxy, and the registries as client targets."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from conveyor.client import Credentials
from tests.support.conveyor_server import ConveyorServer
from tests.support.distribution import DistributionRegistry
from tests.support.flaky_proxy import flaky_proxy  # noqa: F401 - a fixture for this package


@dataclass(frozen=True)
class Target:
    """A registry under test: its URL, and the credentials for both the client and httpx."""

    name: str
    url: str
    host: str
    auth: tuple[str, str] | None

    @property
    def credentials(self) -> Credentials | None:
        return Credentials(*self.auth) if self.auth else None


@pytest.fixture(scope="module", params=["distribution", "conveyor"])
def target(request: pytest.FixtureRequest) -> Target:
    """Each test runs against CNCF distribution (no auth) and Conveyor (token auth)."""
    if request.param == "distribution":
        registry: DistributionRegistry = request.getfixturevalue("distribution_registry")
        return Target("distribution", registry.url, registry.host, None)
    server: ConveyorServer = request.getfixturevalue("conveyor_server")
    return Target("conveyor", server.url, server.host, (server.admin_user, server.admin_password))
