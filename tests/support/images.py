"""Local test images, built from Debian's busybox-static and cached as OCI image layouts.

Nothing is pulled from a registry: the static busybox binary comes from the Debian package
(`busybox-static`; for a foreign architecture, `apt-get download busybox-static:<arch>` through
Debian's ordinary client), goes into a root filesystem (`/bin/busybox` plus a few applet links),
and buildah turns that into an OCI image layout directory:

    buildah from --arch ARCH scratch; buildah copy; buildah config --arch ARCH --os linux
    buildah commit --disable-compression=false --timestamp 0 CTR oci:DIR:latest

buildah runs with a private vfs storage (`CONTAINERS_STORAGE_CONF` pointing at a file under the
cache), so the tests never depend on, nor change, the machine's global container storage. The
commit is deterministic (`--timestamp 0`), so a layout's digests are the same on every machine.

Layouts are cached under `.cache/images/` (gitignored) and built at most once per machine; a file
lock makes concurrent builds (several pytest processes) safe.

Helpers:

* `busybox_layout(arch)` -> Path of an OCI layout with the tag `latest` (arch: amd64, arm64, ...).
* `oci_ref(layout, tag)` -> `"oci:<dir>:<tag>"` for skopeo, buildah and podman.
* `storage_env(base)` -> environment for buildah/podman/skopeo with private vfs storage under
  `base` and an empty auth file (no global credentials leak into a test).
* `read_layout(layout, tag)` -> `LayoutImage` (manifest bytes and digest, every blob digest).
* `verify_layout(layout)` -> re-hash every blob of a layout, raise on a mismatch.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = Path(os.environ.get("CONVEYOR_TEST_IMAGE_CACHE", REPO_ROOT / ".cache" / "images"))

# Bump when the way images are built changes, so stale caches are not reused.
BUILD_VERSION = "1"

# ELF e_machine values, to make sure a binary really is for the architecture it is used for.
ELF_MACHINES = {"amd64": 62, "arm64": 183, "386": 3, "armhf": 40, "armel": 40}
APPLETS = ("sh", "ls", "cat", "echo", "true", "env", "uname")

MANIFEST_TYPES = {
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
}
INDEX_TYPES = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
}


class ImageBuildError(RuntimeError):
    """A test image could not be built; the message says what to install or fix."""


def run(
    args: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 300,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a tool with a timeout; on failure raise with its output in the message."""
    try:
        result = subprocess.run(
            args,
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as error:
        raise ImageBuildError(f"timed out after {timeout}s: {' '.join(args)}") from error
    if check and result.returncode != 0:
        raise ImageBuildError(
            f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}{result.stderr}"
        )
    return result


def storage_env(base: Path) -> dict[str, str]:
    """Environment for buildah/podman/skopeo with private vfs storage under `base`.

    Also points the auth file at an empty file under `base`, so no credentials from the machine
    are used: a test that wants credentials passes them (`--creds`).
    """
    base.mkdir(parents=True, exist_ok=True)
    conf = base / "storage.conf"
    if not conf.exists():
        conf.write_text(
            "[storage]\n"
            'driver = "vfs"\n'
            f'graphroot = "{base / "root"}"\n'
            f'runroot = "{base / "runroot"}"\n'
        )
    auth = base / "auth.json"
    if not auth.exists():
        auth.write_text('{"auths": {}}\n')
    containers_conf = base / "containers.conf"
    if not containers_conf.exists():
        containers_conf.write_text(
            "[engine]\n"
            'events_logger = "none"\n'
            f'tmp_dir = "{base / "tmp"}"\n'
            'cgroup_manager = "cgroupfs"\n'
        )
    return {
        **os.environ,
        "CONTAINERS_STORAGE_CONF": str(conf),
        "CONTAINERS_CONF": str(containers_conf),
        "REGISTRY_AUTH_FILE": str(auth),
        "BUILDAH_ISOLATION": "chroot",
        "TMPDIR": str(_ensure(base / "tmp")),
    }


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def _cache_lock() -> Iterator[None]:
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with open(CACHE_DIR / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def native_arch() -> str:
    return run(["dpkg", "--print-architecture"], timeout=30).stdout.strip()


def _elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    if header[:4] != b"\x7fELF":
        raise ImageBuildError(f"{path} is not an ELF binary")
    little = header[5] == 1
    return int.from_bytes(header[18:20], "little" if little else "big")


def _apt_download(package: str, dest: Path) -> Path:
    """Fetch one .deb with Debian's ordinary client.

    First the plain way (`apt-get download pkg:arch`), which works when the architecture was added
    with `dpkg --add-architecture`. Otherwise with a private apt state under the cache (the same
    sources as the machine, only this architecture's package lists), so the machine's dpkg
    configuration is left alone.
    """
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob("*.deb"):
        old.unlink()
    plain = run(["apt-get", "download", package], cwd=dest, timeout=300, check=False)
    debs = sorted(dest.glob("*.deb"))
    if plain.returncode == 0 and debs:
        return debs[0]
    arch = package.split(":", 1)[1] if ":" in package else native_arch()
    state = CACHE_DIR / f"apt-{arch}"
    lists = _ensure(state / "lists" / "partial").parent
    cache = state / "cache"
    _ensure(cache / "archives" / "partial")
    options = [
        "-o",
        f"APT::Architectures={arch}",
        "-o",
        f"APT::Architecture={arch}",
        "-o",
        f"Dir::State::Lists={lists}",
        "-o",
        f"Dir::Cache={cache}",
        "-o",
        "Dir::State::status=/dev/null",
        "-o",
        "Acquire::Languages=none",
        "-o",
        "Debug::NoLocking=1",
    ]
    update = run(["apt-get", *options, "update"], timeout=300, check=False)
    download = run(["apt-get", *options, "download", package], cwd=dest, timeout=300, check=False)
    debs = sorted(dest.glob("*.deb"))
    if download.returncode != 0 or not debs:
        raise ImageBuildError(
            f"could not download {package} with apt-get (plain: {plain.stderr.strip()!r}; "
            f"private lists: update said {update.stderr.strip()[-500:]!r}, "
            f"download said {download.stderr.strip()!r}). The set-up must make Debian's "
            f"'{package}' reachable, e.g. `dpkg --add-architecture {arch} && apt-get update`."
        )
    return debs[0]


def busybox_binary(arch: str) -> Path:
    """A static busybox for `arch`, from Debian's busybox-static package (cached)."""
    if arch not in ELF_MACHINES:
        raise ImageBuildError(f"no busybox-static mapping for architecture {arch!r}")
    target = CACHE_DIR / "busybox" / arch / "busybox"
    if target.exists() and _elf_machine(target) == ELF_MACHINES[arch]:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    installed = run(
        ["dpkg-query", "-W", "-f=${Status}", "busybox-static"], timeout=30, check=False
    ).stdout
    if (
        arch == native_arch()
        and "install ok installed" in installed
        and Path("/bin/busybox").exists()
    ):
        source = Path("/bin/busybox")
    else:
        deb = _apt_download(f"busybox-static:{arch}", CACHE_DIR / "debs" / arch)
        unpacked = CACHE_DIR / "busybox" / arch / "deb"
        shutil.rmtree(unpacked, ignore_errors=True)
        run(["dpkg-deb", "-x", str(deb), str(unpacked)], timeout=120)
        source = unpacked / "bin" / "busybox"
        if not source.exists():
            raise ImageBuildError(f"{deb} has no /bin/busybox")
    if _elf_machine(source) != ELF_MACHINES[arch]:
        raise ImageBuildError(f"{source} is not an {arch} binary")
    tmp = target.with_suffix(".tmp")
    shutil.copyfile(source, tmp)
    tmp.chmod(0o755)
    tmp.replace(target)
    return target


def _rootfs(arch: str, dest: Path) -> Path:
    bin_dir = _ensure(dest / "bin")
    shutil.copyfile(busybox_binary(arch), bin_dir / "busybox")
    (bin_dir / "busybox").chmod(0o755)
    for applet in APPLETS:
        (bin_dir / applet).symlink_to("busybox")
    etc = _ensure(dest / "etc")
    (etc / "conveyor-test-image").write_text(f"busybox-static {arch}\n")
    return dest


def _buildah(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    return run(["buildah", *args], env=env, timeout=timeout).stdout.strip()


def build_busybox_layout(arch: str, dest: Path, tag: str = "latest") -> Path:
    """Build (uncached) a busybox image for `arch` as an OCI layout at `dest`."""
    with tempfile.TemporaryDirectory(dir=_ensure(CACHE_DIR / "tmp")) as work:
        env = storage_env(CACHE_DIR / "containers")
        rootfs = _rootfs(arch, Path(work) / "rootfs")
        container = _buildah(env, "from", "--arch", arch, "--os", "linux", "scratch")
        try:
            _buildah(env, "copy", container, f"{rootfs}/", "/")
            _buildah(
                env,
                "config",
                "--arch",
                arch,
                "--os",
                "linux",
                "--cmd",
                '["/bin/sh"]',
                "--label",
                "org.opencontainers.image.title=conveyor-test-busybox",
                container,
            )
            _buildah(
                env,
                "commit",
                "--quiet",
                "--disable-compression=false",
                "--timestamp",
                "0",
                container,
                f"oci:{dest}:{tag}",
            )
        finally:
            run(["buildah", "rm", container], env=env, timeout=120, check=False)
    return dest


def busybox_layout(arch: str = "amd64") -> Path:
    """The cached OCI layout of the busybox image for `arch` (tag `latest`)."""
    final = CACHE_DIR / f"busybox-{arch}-v{BUILD_VERSION}"
    if (final / "index.json").exists():
        return final
    with _cache_lock():
        if (final / "index.json").exists():
            return final
        building = CACHE_DIR / f".building-busybox-{arch}"
        shutil.rmtree(building, ignore_errors=True)
        build_busybox_layout(arch, building)
        verify_layout(building)
        config = read_layout(building).config
        if config.get("architecture") != arch:
            raise ImageBuildError(f"built image says architecture {config.get('architecture')}")
        building.replace(final)
    return final


def oci_ref(layout: Path, tag: str = "latest") -> str:
    return f"oci:{layout}:{tag}"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def blob_path(layout: Path, digest: str) -> Path:
    algorithm, encoded = digest.split(":", 1)
    return layout / "blobs" / algorithm / encoded


@dataclass
class LayoutImage:
    """What a layout holds under one tag: the manifest (or index) and every blob it reaches."""

    layout: Path
    media_type: str
    digest: str
    raw: bytes
    # digest -> media type of every manifest, index, config and layer reachable from the tag
    descriptors: dict[str, str] = field(default_factory=dict)
    # for an index: platform "os/arch" -> child manifest digest
    children: dict[str, str] = field(default_factory=dict)

    @property
    def document(self) -> dict[str, Any]:
        return dict(json.loads(self.raw))

    @property
    def config(self) -> dict[str, Any]:
        if self.media_type in INDEX_TYPES:
            raise ValueError("an index has no config")
        digest = str(self.document["config"]["digest"])
        return dict(json.loads(blob_path(self.layout, digest).read_bytes()))

    @property
    def blobs(self) -> set[str]:
        return set(self.descriptors)


def index_entries(layout: Path) -> list[dict[str, object]]:
    index = json.loads((layout / "index.json").read_text())
    return list(index.get("manifests", []))


def read_layout(layout: Path, tag: str = "latest") -> LayoutImage:
    """Read the image under `tag` (the `org.opencontainers.image.ref.name` annotation)."""
    for entry in index_entries(layout):
        annotations = entry.get("annotations") or {}
        assert isinstance(annotations, dict)
        if annotations.get("org.opencontainers.image.ref.name") == tag:
            digest = str(entry["digest"])
            raw = blob_path(layout, digest).read_bytes()
            media_type = str(entry.get("mediaType") or json.loads(raw).get("mediaType"))
            image = LayoutImage(layout, media_type, digest, raw)
            _walk(layout, digest, media_type, image)
            return image
    raise KeyError(f"no tag {tag!r} in {layout}/index.json")


def _walk(layout: Path, digest: str, media_type: str, image: LayoutImage) -> None:
    image.descriptors[digest] = media_type
    doc = json.loads(blob_path(layout, digest).read_bytes())
    if media_type in INDEX_TYPES:
        for child in doc.get("manifests", []):
            platform = child.get("platform") or {}
            key = f"{platform.get('os')}/{platform.get('architecture')}"
            if platform.get("variant"):
                key += f"/{platform['variant']}"
            if digest == image.digest:
                image.children[key] = child["digest"]
            _walk(layout, child["digest"], child["mediaType"], image)
    elif media_type in MANIFEST_TYPES:
        image.descriptors[doc["config"]["digest"]] = doc["config"]["mediaType"]
        for layer in doc.get("layers", []):
            image.descriptors[layer["digest"]] = layer["mediaType"]


def verify_layout(layout: Path) -> None:
    """Every blob file's content hashes to its name."""
    if json.loads((layout / "oci-layout").read_text()).get("imageLayoutVersion") != "1.0.0":
        raise ImageBuildError(f"{layout} is not an OCI image layout")
    for path in (layout / "blobs").glob("*/*"):
        algorithm = path.parent.name
        digest = hashlib.new(algorithm, path.read_bytes()).hexdigest()
        if digest != path.name:
            raise ImageBuildError(f"blob {path} hashes to {algorithm}:{digest}")
