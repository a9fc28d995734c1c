"""Start real `conveyor serve` processes for end-to-end tests."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

ADMIN_PASSWORD = "admin-Secret-1"
CONVEYOR = str(Path(sys.executable).parent / "conveyor")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ConveyorServer:
    """One `conveyor serve` process; it can be SIGKILLed and started again on the same data."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    admin_user: str = "admin"
    admin_password: str = ADMIN_PASSWORD

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}-serve.log"

    def cli_env(self) -> dict[str, str]:
        """Environment for running the `conveyor` CLI against this server as admin."""
        return {
            **os.environ,
            "CONVEYOR_SERVER": self.url,
            "CONVEYOR_USER": self.admin_user,
            "CONVEYOR_PASSWORD": self.admin_password,
        }

    def start(self, timeout: float = 30.0) -> None:
        env = {**os.environ, "CONVEYOR_ADMIN_PASSWORD": self.admin_password, **self.env}
        log = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(
            [CONVEYOR, "serve", "--data", str(self.data_dir), "--listen", self.host],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"conveyor serve exited:\n{self.log_path.read_text()[-4000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"conveyor serve not ready:\n{self.log_path.read_text()[-4000:]}")

    def kill(self) -> None:
        """SIGKILL: the crash the reliability standard talks about."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def cli(self, *args: str, input: str | None = None, check: bool = True) -> str:
        result = subprocess.run(
            [CONVEYOR, *args],
            env=self.cli_env(),
            input=input,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"conveyor {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
            )
        return result.stdout


@pytest.fixture
def conveyor_factory(tmp_path: Path) -> Iterator[object]:
    """Make servers on demand: `server = conveyor_factory()`; all are stopped at the end."""
    servers: list[ConveyorServer] = []

    def make(**env: str) -> ConveyorServer:
        server = ConveyorServer(tmp_path / f"data{len(servers)}", env=env)
        server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def conveyor_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConveyorServer]:
    """A server shared by the tests of one module."""
    base = tmp_path_factory.mktemp("conveyor")
    server = ConveyorServer(base / "data")
    server.start()
    yield server
    server.stop()
    shutil.rmtree(base, ignore_errors=True)
