"""Contract suites run every backend through the same tests, on the asyncio backend of anyio."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"
