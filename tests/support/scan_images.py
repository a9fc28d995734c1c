"""Images for the scan tests, made locally: tar layers built in memory, a Debian minbase root
from `debootstrap`, a Go program built with Debian's golang-go, Python packages from
`pip install --target`. Slow artefacts are cached under `.cache/scan/` (gitignored) and built
at most once per machine (a file lock makes concurrent builds safe)."""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import zstandard

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE = REPO_ROOT / ".cache" / "scan"
# The shared test data sits beside the repository (../shared/data/vulndb).
VULNDB_DATA = Path(
    os.environ.get("CONVEYOR_VULNDB_DATA", REPO_ROOT.parent / "shared" / "data" / "vulndb")
)
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"

BULLSEYE_OS_RELEASE = (
    'PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\nNAME="Debian GNU/Linux"\n'
    'VERSION_ID="11"\nVERSION="11 (bullseye)"\nVERSION_CODENAME=bullseye\nID=debian\n'
)


@dataclass
class LayerBuilder:
    """A tar layer made member by member (names are written exactly as given)."""

    buffer: io.BytesIO = field(default_factory=io.BytesIO)

    def __post_init__(self) -> None:
        self.tar = tarfile.open(  # noqa: SIM115 - closed by bytes()
            fileobj=self.buffer, mode="w", format=tarfile.PAX_FORMAT
        )

    def file(self, name: str, data: bytes | str, mode: int = 0o644) -> LayerBuilder:
        raw = data.encode() if isinstance(data, str) else data
        info = tarfile.TarInfo(name)
        info.size, info.mode = len(raw), mode
        self.tar.addfile(info, io.BytesIO(raw))
        return self

    def special(self, name: str, kind: bytes, link: str = "", mode: int = 0o644) -> LayerBuilder:
        info = tarfile.TarInfo(name)
        info.type, info.linkname, info.mode = kind, link, mode
        if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
            info.devmajor, info.devminor = 1, 3
        self.tar.addfile(info)
        return self

    def symlink(self, name: str, target: str) -> LayerBuilder:
        return self.special(name, tarfile.SYMTYPE, target, 0o777)

    def hardlink(self, name: str, target: str) -> LayerBuilder:
        return self.special(name, tarfile.LNKTYPE, target)

    def directory(self, name: str) -> LayerBuilder:
        return self.special(name, tarfile.DIRTYPE, mode=0o755)

    def add_tree(self, root: Path, prefix: str) -> LayerBuilder:
        for path in sorted(root.rglob("*")):
            arcname = f"{prefix}/{path.relative_to(root).as_posix()}"
            self.tar.add(path, arcname=arcname, recursive=False)
        return self

    def bytes(self) -> bytes:
        self.tar.close()
        return self.buffer.getvalue()


def gz(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=1, mtime=0)


def zst(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def write_layers(directory: Path, layers: list[bytes]) -> list[tuple[str, str]]:
    """Layer files on disk as (digest, path), for the engine's file reader."""
    directory.mkdir(parents=True, exist_ok=True)
    found = []
    for index, data in enumerate(layers):
        path = directory / f"layer{index}"
        path.write_bytes(data)
        found.append((sha256(data), str(path)))
    return found


def push_blob(http: httpx.Client, name: str, data: bytes) -> str:
    digest = sha256(data)
    reply = http.post(f"/v2/{name}/blobs/uploads/?digest={digest}", content=data, timeout=300)
    assert reply.status_code == 201, reply.text
    return digest


def push_blob_file(http: httpx.Client, name: str, path: Path) -> tuple[str, int]:
    digest = "sha256:" + _file_sha256(path)
    with open(path, "rb") as handle:
        reply = http.post(f"/v2/{name}/blobs/uploads/?digest={digest}", content=handle, timeout=600)
    assert reply.status_code == 201, reply.text
    return digest, path.stat().st_size


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def push_image(
    http: httpx.Client,
    name: str,
    tag: str,
    layers: list[bytes | Path],
    media_type: str = LAYER_GZIP,
) -> tuple[str, list[str]]:
    """Push layers, a config and a manifest; returns (manifest digest, layer digests)."""
    descriptors = []
    for layer in layers:
        if isinstance(layer, Path):
            digest, size = push_blob_file(http, name, layer)
        else:
            digest, size = push_blob(http, name, layer), len(layer)
        descriptors.append({"mediaType": media_type, "digest": digest, "size": size})
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [d["digest"] for d in descriptors]},
        }
    ).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": OCI_CONFIG,
            "digest": push_blob(http, name, config),
            "size": len(config),
        },
        "layers": descriptors,
    }
    reply = http.put(
        f"/v2/{name}/manifests/{tag}",
        content=json.dumps(manifest).encode(),
        headers={"Content-Type": OCI_MANIFEST},
    )
    assert reply.status_code == 201, reply.text
    return reply.headers["docker-content-digest"], [str(d["digest"]) for d in descriptors]


@contextmanager
def cache_lock(name: str) -> Iterator[Path]:
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield CACHE


def gzip_bomb(size: int = 10 * 1024**3) -> Path:
    """A gzip'd tar whose one member is `size` bytes of zeros (~10 MB for 10 GiB): many gzip
    members of one compressed MiB of zeros, which every gzip reader reads as one stream."""
    with cache_lock("bomb") as cache:
        path = cache / f"bomb-{size}.tar.gz"
        if path.exists():
            return path
        header = tarfile.TarInfo("var/lib/big.bin")
        header.size = size
        mib = gzip.compress(b"\0" * (1 << 20), compresslevel=9, mtime=0)
        partial = path.with_suffix(".part")
        with open(partial, "wb") as out:
            out.write(gzip.compress(header.tobuf(tarfile.GNU_FORMAT), mtime=0))
            for _ in range(size >> 20):
                out.write(mib)
            out.write(gzip.compress(b"\0" * 1024, mtime=0))
        partial.rename(path)
        return path


def debootstrap_bullseye() -> Path:
    """A gzip'd tar of `debootstrap --variant=minbase bullseye` (needs root and the mirror)."""
    with cache_lock("bullseye") as cache:
        path = cache / "bullseye-minbase.tar.gz"
        if path.exists():
            return path
        with tempfile.TemporaryDirectory(dir=cache) as work:
            root = Path(work) / "root"
            subprocess.run(
                ["debootstrap", "--variant=minbase", "bullseye", str(root),
                 "http://deb.debian.org/debian"],
                check=True, capture_output=True, timeout=900,
            )  # fmt: skip
            partial = Path(work) / "rootfs.tar.gz"
            with tarfile.open(partial, "w:gz", compresslevel=1) as archive:
                for child in sorted(root.iterdir()):
                    if child.name not in ("proc", "sys", "dev"):
                        archive.add(child, arcname=child.name)
            partial.rename(path)
        return path


def extract_rootfs(archive: Path, destination: Path) -> Path:
    with tarfile.open(archive) as tar:
        tar.extractall(destination, filter="tar")  # our own archive; keeps symlinks
    return destination


GO_PROGRAM = """package main

import (
\t"fmt"
\t"net/http"
)

func main() {
\tfmt.Println(http.StatusOK)
}
"""


def go_binary() -> Path:
    """`hello`, built with Debian's golang-go (Go 1.19) as a module program."""
    with cache_lock("go") as cache:
        path = cache / "hello-go"
        if path.exists():
            return path
        with tempfile.TemporaryDirectory(dir=cache) as work:
            source = Path(work)
            (source / "go.mod").write_text("module example.com/hello\n\ngo 1.19\n")
            (source / "main.go").write_text(GO_PROGRAM)
            env = {
                **os.environ,
                "GOCACHE": str(cache / "gocache"),
                "GOPATH": str(cache / "gopath"),
                "GOFLAGS": "-mod=mod",
                "CGO_ENABLED": "0",
                "GOPROXY": "off",
            }
            go = shutil.which("go") or "/usr/lib/go/bin/go"
            subprocess.run(
                [go, "build", "-o", str(source / "hello"), "."],
                cwd=source, env=env, check=True, capture_output=True, timeout=600,
            )  # fmt: skip
            (source / "hello").rename(path)
        return path


def pip_target(requirements: list[str]) -> Path:
    """`pip install --target` of exact releases (no dependencies), cached by the list."""
    key = hashlib.sha256("\n".join(requirements).encode()).hexdigest()[:16]
    with cache_lock("pip") as cache:
        path = cache / f"pip-{key}"
        if path.exists():
            return path
        partial = cache / f"pip-{key}.part"
        shutil.rmtree(partial, ignore_errors=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
             "--disable-pip-version-check", "--target", str(partial), *requirements],
            check=True, capture_output=True, timeout=600,
        )  # fmt: skip
        partial.rename(path)
        return path


def write_oci_layout(
    directory: Path, layers: list[bytes | Path], media_type: str = LAYER_GZIP
) -> Path:
    """An OCI image layout of the same layers, for syft (`oci-dir:`)."""
    blobs = directory / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    descriptors = []
    for layer in layers:
        if isinstance(layer, Path):
            digest = "sha256:" + _file_sha256(layer)
            shutil.copyfile(layer, blobs / digest.split(":")[1])
            size = layer.stat().st_size
        else:
            digest, size = sha256(layer), len(layer)
            (blobs / digest.split(":")[1]).write_bytes(layer)
        descriptors.append({"mediaType": media_type, "digest": digest, "size": size})
    config = json.dumps(
        {"architecture": "amd64", "os": "linux",
         "rootfs": {"type": "layers", "diff_ids": [_diff_id(blobs, d) for d in descriptors]}}
    ).encode()  # fmt: skip
    (blobs / sha256(config).split(":")[1]).write_bytes(config)
    manifest = json.dumps(
        {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
         "config": {"mediaType": OCI_CONFIG, "digest": sha256(config), "size": len(config)},
         "layers": descriptors}
    ).encode()  # fmt: skip
    (blobs / sha256(manifest).split(":")[1]).write_bytes(manifest)
    index = {
        "schemaVersion": 2,
        "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": sha256(manifest), "size": len(manifest),
             "annotations": {"org.opencontainers.image.ref.name": "latest"}}
        ],
    }  # fmt: skip
    (directory / "index.json").write_text(json.dumps(index))
    (directory / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    return directory


def _diff_id(blobs: Path, descriptor: dict[str, object]) -> str:
    """The sha256 of the uncompressed layer."""
    digest = hashlib.sha256()
    with gzip.open(blobs / str(descriptor["digest"]).split(":")[1], "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def syft_packages(target: str) -> list[dict[str, str]]:
    """syft's artefacts for `oci-dir:PATH` or `dir:PATH`, as name/version/type."""
    syft = str(Path(sys.executable).parent / "syft")
    env = {**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false"}
    result = subprocess.run(
        [syft, target, "-o", "json", "-q"], env=env, capture_output=True, timeout=300, check=True
    )
    doc = json.loads(result.stdout)
    return [
        {"name": a["name"], "version": a["version"], "type": a["type"]} for a in doc["artifacts"]
    ]
