"""buildah, daemonless and rootful: vfs storage, chroot isolation, private configuration.

Every build gets its own configuration files (storage, containers, registries, an empty auth
file), so the machine's global container set-up is neither used nor changed. Storage is either a
throwaway root inside the build's working directory, or, with `cache: true`, a root kept per
chain rule so that `--layers` finds the layers of the previous build.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from conveyor.build.gitenv import base_env


@dataclass(frozen=True, slots=True)
class Storage:
    root: Path
    runroot: Path

    @classmethod
    def under(cls, base: Path) -> Storage:
        return cls(base / "root", base / "runroot")

    def flags(self) -> list[str]:
        return ["--root", str(self.root), "--runroot", str(self.runroot), "--storage-driver", "vfs"]


def registry_hosts(registry_url: str) -> list[str]:
    """This instance's registry as FROM lines may name it (127.0.0.1 and localhost alike)."""
    host = urlsplit(registry_url).netloc
    hosts = [host]
    for a, b in (("127.0.0.1", "localhost"), ("localhost", "127.0.0.1")):
        if host == a or host.startswith(a + ":"):
            hosts.append(b + host[len(a) :])
    return hosts


def buildah_env(work: Path, storage: Storage, registry_url: str) -> dict[str, str]:
    """Private configuration under `work`; this instance's registry may be plain http."""
    conf = work / "containers"
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "storage.conf").write_text(
        f'[storage]\ndriver = "vfs"\ngraphroot = "{storage.root}"\nrunroot = "{storage.runroot}"\n'
    )
    (conf / "containers.conf").write_text(
        f'[engine]\nevents_logger = "none"\ncgroup_manager = "cgroupfs"\ntmp_dir = "{work}/tmp"\n'
    )
    insecure = urlsplit(registry_url).scheme == "http"
    registries = ['unqualified-search-registries = ["docker.io"]', 'short-name-mode = "permissive"']
    for host in registry_hosts(registry_url):
        registries += [
            "[[registry]]",
            f'location = "{host}"',
            f"insecure = {str(insecure).lower()}",
        ]
    (conf / "registries.conf").write_text("\n".join(registries) + "\n")
    (conf / "auth.json").write_text('{"auths": {}}\n')
    (work / "tmp").mkdir(exist_ok=True)
    env = base_env(work / "home")
    env.update(
        {
            "CONTAINERS_STORAGE_CONF": str(conf / "storage.conf"),
            "CONTAINERS_CONF": str(conf / "containers.conf"),
            "CONTAINERS_REGISTRIES_CONF": str(conf / "registries.conf"),
            "REGISTRY_AUTH_FILE": str(conf / "auth.json"),
            "BUILDAH_ISOLATION": "chroot",
            "TMPDIR": str(work / "tmp"),
        }
    )
    return env


def build_command(
    storage: Storage,
    *,
    platform: str,
    dockerfile: Path,
    context: Path,
    manifest: str,
    args: dict[str, str],
    cache: bool,
) -> list[str]:
    command = [
        "buildah",
        *storage.flags(),
        "build",
        "--isolation",
        "chroot",
        "--platform",
        platform,
        "--file",
        str(dockerfile),
        "--manifest",
        manifest,
        "--format",
        "oci",
        "--layers" if cache else "--layers=false",
    ]
    for name, value in args.items():
        command += ["--build-arg", f"{name}={value}"]
    return [*command, str(context)]


def push_to_layout_command(storage: Storage, manifest: str, layout: Path) -> list[str]:
    """The list and every image in it, as one OCI layout the upload reads."""
    return [
        "buildah",
        *storage.flags(),
        "manifest",
        "push",
        "--all",
        "--format",
        "oci",
        "--quiet",
        manifest,
        f"oci:{layout}:latest",
    ]


def remove_manifest_command(storage: Storage, manifest: str) -> list[str]:
    return ["buildah", *storage.flags(), "manifest", "rm", manifest]


def remove_containers_command(storage: Storage) -> list[str]:
    return ["buildah", *storage.flags(), "rm", "--all"]
