"""Fixtures shared by the whole suite. Each server the tests need has its own plugin module."""

pytest_plugins = [
    "tests.support.postgres",
    "tests.support.seaweedfs",
    "tests.support.distribution",
    "tests.support.conveyor_server",
    "tests.support.receiver",
]
