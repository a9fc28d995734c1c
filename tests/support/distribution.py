"""Start CNCF distribution (`docker-registry`, 2.8) as a peer registry for end-to-end tests.

Each fixture runs `docker-registry serve CONFIG.yml` on a free 127.0.0.1 port, with filesystem
storage in a private temporary directory and `storage.delete.enabled: true`, waits (bounded) until
`/v2/` answers, and kills the process at the end of the module.

* `distribution_registry` — no auth.
* `distribution_registry_htpasswd` — htpasswd (bcrypt) Basic auth; `.user` and `.password`.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

DOCKER_REGISTRY = shutil.which("docker-registry") or "/usr/bin/docker-registry"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bcrypt_hash(password: str) -> str:
    """A bcrypt hash (the only scheme distribution's htpasswd accepts), made without extra packages.

    Python 3.11's `crypt` module goes through libxcrypt, which implements `$2b$`. When `htpasswd`
    (apache2-utils) is installed it is used instead.
    """
    htpasswd = shutil.which("htpasswd")
    if htpasswd:
        result = subprocess.run(
            [htpasswd, "-nbB", "-C", "5", "user", password],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return result.stdout.strip().split(":", 1)[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt  # stdlib until 3.13; the project pins 3.11

        hashed = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=32))
    if not hashed or not hashed.startswith("$2"):
        raise RuntimeError("libcrypt has no bcrypt: install apache2-utils (htpasswd)")
    return hashed


@dataclass
class DistributionRegistry:
    """One `docker-registry` process."""

    workdir: Path
    port: int
    user: str | None = None
    password: str | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.workdir / "config.yml"

    @property
    def log_path(self) -> Path:
        return self.workdir / "registry.log"

    @property
    def auth(self) -> tuple[str, str] | None:
        if self.user is None or self.password is None:
            return None
        return (self.user, self.password)

    def write_config(self) -> None:
        storage = self.workdir / "storage"
        storage.mkdir(parents=True, exist_ok=True)
        lines = [
            "version: 0.1",
            "log:",
            "  level: info",
            "  accesslog:",
            "    disabled: true",
            "storage:",
            "  filesystem:",
            f"    rootdirectory: {storage}",
            "  delete:",
            "    enabled: true",
            "  maintenance:",
            "    uploadpurging:",
            "      enabled: false",
            "http:",
            f"  addr: {self.host}",
            f"  secret: {secrets.token_hex(16)}",
            "  headers:",
            "    X-Content-Type-Options: [nosniff]",
        ]
        if self.user is not None and self.password is not None:
            htpasswd = self.workdir / "htpasswd"
            htpasswd.write_text(f"{self.user}:{bcrypt_hash(self.password)}\n")
            lines += [
                "auth:",
                "  htpasswd:",
                "    realm: distribution-test",
                f"    path: {htpasswd}",
            ]
        self.config_path.write_text("\n".join(lines) + "\n")

    def start(self, timeout: float = 20.0) -> None:
        self.write_config()
        log = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(
            [DOCKER_REGISTRY, "serve", str(self.config_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"docker-registry exited:\n{self.log_tail()}")
            try:
                status = httpx.get(f"{self.url}/v2/", timeout=1).status_code
                # 200 without auth; 401 with a Basic challenge when htpasswd is on.
                if status in (200, 401):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"docker-registry not ready after {timeout}s:\n{self.log_tail()}")

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def _start(
    base: Path, user: str | None = None, password: str | None = None
) -> DistributionRegistry:
    last_error: Exception | None = None
    for _ in range(3):  # a free port can be taken between probing and binding
        registry = DistributionRegistry(base, _free_port(), user=user, password=password)
        try:
            registry.start()
            return registry
        except RuntimeError as error:
            last_error = error
    raise RuntimeError(f"could not start docker-registry: {last_error}")


@pytest.fixture(scope="module")
def distribution_registry(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[DistributionRegistry]:
    """CNCF distribution without auth, filesystem storage, deletes enabled."""
    base = tmp_path_factory.mktemp("distribution")
    registry = _start(base)
    yield registry
    registry.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def distribution_registry_htpasswd(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[DistributionRegistry]:
    """CNCF distribution with htpasswd Basic auth (`.user`, `.password`)."""
    base = tmp_path_factory.mktemp("distribution-htpasswd")
    registry = _start(base, user="tester", password=secrets.token_urlsafe(12))
    yield registry
    registry.stop()
    shutil.rmtree(base, ignore_errors=True)
