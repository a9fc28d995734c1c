"""A private PostgreSQL cluster (Debian's postgresql) for the session, and one database per test.

initdb refuses to run as root, so the cluster belongs to the `postgres` system user (through
`runuser`). It lives in a temporary directory, listens on 127.0.0.1 with a free port, keeps its
unix socket in that directory, requires a password over TCP, and runs with fsync off.
"""

from __future__ import annotations

import dataclasses
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

STARTUP_TIMEOUT = 60
SYSTEM_USER = "postgres"
SUPERUSER = "postgres"
ROLE = "conveyor"


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str  # a role that owns the test databases
    password: str
    superuser_password: str
    directory: Path
    startup_seconds: float

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{database}"

    def superuser_dsn(self, database: str = "postgres") -> str:
        return (
            f"host={self.host} port={self.port} user={SUPERUSER} "
            f"password={self.superuser_password} dbname={database}"
        )

    def create_database(self) -> str:
        """A fresh, empty database owned by `user`; returns its URL."""
        name = f"test_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.superuser_dsn(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}" OWNER "{self.user}"')
        return self.url(name)


def postgres_bin() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin that has initdb."""
    found = []
    for initdb in Path("/usr/lib/postgresql").glob("*/bin/initdb"):
        match = re.fullmatch(r"\d+(\.\d+)?", initdb.parent.parent.name)
        if match:
            found.append((float(initdb.parent.parent.name), initdb.parent))
    if not found:
        raise RuntimeError(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin; "
            "install them: apt-get install postgresql"
        )
    return max(found)[1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _as_postgres(*command: str | Path, check: bool = True) -> None:
    argv = ["runuser", "-u", SYSTEM_USER, "--", *map(str, command)]
    result = subprocess.run(
        argv, capture_output=True, text=True, timeout=STARTUP_TIMEOUT, check=False
    )
    if result.returncode and check:
        raise RuntimeError(
            f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )


def _configure(data: Path, sockets: Path, port: int) -> None:
    settings = {
        "listen_addresses": "'127.0.0.1'",
        "port": str(port),
        "unix_socket_directories": f"'{sockets}'",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "200",
        "shared_buffers": "128MB",
        "log_min_messages": "warning",
    }
    with (data / "postgresql.conf").open("a") as conf:
        conf.write("\n# conveyor tests\n")
        conf.writelines(f"{key} = {value}\n" for key, value in settings.items())


def _initdb(binaries: Path, root: Path, superuser_password: str) -> None:
    account = pwd.getpwnam(SYSTEM_USER)
    os.chown(root, account.pw_uid, account.pw_gid)
    password_file = root / "superuser.pw"
    password_file.write_text(superuser_password + "\n")
    os.chown(password_file, account.pw_uid, account.pw_gid)
    _as_postgres(
        binaries / "initdb",
        "--pgdata",
        root / "data",
        "--username",
        SUPERUSER,
        "--pwfile",
        password_file,
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        "--encoding=UTF8",
        "--locale=C.UTF-8",
        "--no-sync",
    )
    password_file.unlink()


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[PostgresServer]:
    binaries = postgres_bin()
    if shutil.which("runuser") is None:
        raise RuntimeError("runuser (util-linux) is needed to run PostgreSQL as its system user")
    root = Path(tempfile.mkdtemp(prefix="conveyor-postgres-"))
    started = time.monotonic()
    superuser_password, password = uuid.uuid4().hex, uuid.uuid4().hex
    port = free_port()
    data = root / "data"
    try:
        _initdb(binaries, root, superuser_password)
        _configure(data, root, port)
        pg_ctl = [binaries / "pg_ctl", "--pgdata", data, "--wait", "--timeout", "30"]
        try:
            _as_postgres(*pg_ctl, "--log", root / "server.log", "start")
            server = PostgresServer("127.0.0.1", port, ROLE, password, superuser_password, root, 0)
            with psycopg.connect(server.superuser_dsn(), autocommit=True) as connection:
                connection.execute(f"CREATE ROLE {ROLE} LOGIN CREATEDB PASSWORD '{password}'")
            yield dataclasses.replace(server, startup_seconds=time.monotonic() - started)
        finally:
            _as_postgres(*pg_ctl, "--mode", "immediate", "stop", check=False)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgresql_url(postgresql_server: PostgresServer) -> str:
    """A fresh database for this test: `postgresql://user:pass@127.0.0.1:PORT/dbname`."""
    return postgresql_server.create_database()
