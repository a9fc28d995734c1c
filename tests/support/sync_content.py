"""Content for the client and sync tests, pushed with plain httpx (not the code under test).

* `RandomImage.make(...)`: a small image (config + random layers), single-platform, OCI types.
* `push_image(url, auth, repository, tag, image)`: POST + PUT each blob, then the manifest.
* `push_file_blob(url, auth, repository, path)`: a large blob streamed from a file.
* `multiarch_layout()`: an OCI layout with a two-platform index (busybox amd64 + arm64, built by
  tests/support/images.py), cached next to the images; `skopeo_copy_all` pushes it.
* `registry_raw(...)`: `skopeo inspect --raw` of an image, for digest comparisons.

Conveyor takes Basic credentials as well as tokens, so `auth=(user, password)` works for both
Conveyor and docker-registry (htpasswd).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.images import CACHE_DIR, _cache_lock, busybox_layout, oci_ref, storage_env

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
MULTIARCH_VERSION = "1"
Auth = tuple[str, str] | None


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class RandomImage:
    config: bytes
    layers: tuple[bytes, ...]

    @classmethod
    def make(
        cls, *layer_sizes: int, shared: tuple[bytes, ...] = (), label: str = ""
    ) -> RandomImage:
        layers = (*shared, *(os.urandom(size) for size in layer_sizes))
        config = json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "config": {"Labels": {"test": label or os.urandom(8).hex()}},
                "rootfs": {"type": "layers", "diff_ids": [sha256(layer) for layer in layers]},
            },
            sort_keys=True,
        ).encode()
        return cls(config, layers)

    @property
    def manifest(self) -> bytes:
        doc = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": OCI_CONFIG,
                "digest": sha256(self.config),
                "size": len(self.config),
            },
            "layers": [
                {"mediaType": OCI_LAYER, "digest": sha256(layer), "size": len(layer)}
                for layer in self.layers
            ],
        }
        return json.dumps(doc, indent=2).encode()

    @property
    def digest(self) -> str:
        return sha256(self.manifest)

    @property
    def blobs(self) -> dict[str, bytes]:
        return {sha256(blob): blob for blob in (self.config, *self.layers)}


def _client(url: str, auth: Auth) -> httpx.Client:
    return httpx.Client(base_url=url, auth=auth, timeout=120)


def push_blob(http: httpx.Client, repository: str, data: bytes) -> str:
    digest = sha256(data)
    if http.head(f"/v2/{repository}/blobs/{digest}").status_code == 200:
        return digest
    start = http.post(f"/v2/{repository}/blobs/uploads/")
    assert start.status_code == 202, (start.status_code, start.text)
    done = http.put(_finish_url(start, digest), content=data, headers=_octets())
    assert done.status_code == 201, (done.status_code, done.text)
    return digest


def push_manifest(
    http: httpx.Client, repository: str, reference: str, body: bytes, media_type: str
) -> None:
    response = http.put(
        f"/v2/{repository}/manifests/{reference}",
        content=body,
        headers={"Content-Type": media_type},
    )
    assert response.status_code == 201, (response.status_code, response.text)


def push_image(url: str, auth: Auth, repository: str, tag: str, image: RandomImage) -> str:
    with _client(url, auth) as http:
        for data in (image.config, *image.layers):
            push_blob(http, repository, data)
        push_manifest(http, repository, tag, image.manifest, OCI_MANIFEST)
    return image.digest


def push_file_blob(url: str, auth: Auth, repository: str, path: Path) -> str:
    """Stream a file as one blob (POST, then PUT with the file as body)."""
    hasher = hashlib.sha256()
    with open(path, "rb") as handle:
        while piece := handle.read(8 * 1024 * 1024):
            hasher.update(piece)
    digest = "sha256:" + hasher.hexdigest()
    with _client(url, auth) as http, open(path, "rb") as handle:
        start = http.post(f"/v2/{repository}/blobs/uploads/")
        headers = {**_octets(), "Content-Length": str(path.stat().st_size)}
        done = http.put(_finish_url(start, digest), content=handle, headers=headers)
        assert done.status_code == 201, (done.status_code, done.text)
    return digest


def _finish_url(start: httpx.Response, digest: str) -> httpx.URL:
    """The upload location with `digest` added to its query (which may carry upload state)."""
    return start.url.join(start.headers["location"]).copy_merge_params({"digest": digest})


def _octets() -> dict[str, str]:
    return {"Content-Type": "application/octet-stream"}


def get_manifest(url: str, auth: Auth, repository: str, reference: str) -> httpx.Response:
    accept = f"{OCI_MANIFEST}, {OCI_INDEX}"
    with _client(url, auth) as http:
        return http.get(f"/v2/{repository}/manifests/{reference}", headers={"Accept": accept})


def multiarch_layout() -> Path:
    """An OCI layout whose tag `latest` is an index of busybox for linux/amd64 and linux/arm64."""
    final = CACHE_DIR / f"busybox-multiarch-v{MULTIARCH_VERSION}"
    if (final / "index.json").exists():
        return final
    amd64, arm64 = busybox_layout("amd64"), busybox_layout("arm64")
    with _cache_lock():
        if (final / "index.json").exists():
            return final
        building = CACHE_DIR / ".building-multiarch"
        shutil.rmtree(building, ignore_errors=True)
        env = storage_env(CACHE_DIR / "containers-multiarch")
        name = f"conveyor-multiarch-{os.getpid()}"
        _run(env, "buildah", "manifest", "create", name)
        try:
            _run(env, "buildah", "manifest", "add", name, oci_ref(amd64))
            _run(env, "buildah", "manifest", "add", name, oci_ref(arm64))
            _run(
                env,
                "buildah",
                "manifest",
                "push",
                "--all",
                "--format",
                "oci",
                name,
                oci_ref(building),
            )
        finally:
            _run(env, "buildah", "manifest", "rm", name, check=False)
        building.replace(final)
    return final


def skopeo_copy_all(layout: Path, host: str, repository: str, tag: str, auth: Auth) -> None:
    creds = ["--dest-creds", f"{auth[0]}:{auth[1]}"] if auth else []
    _run(
        storage_env(CACHE_DIR / "containers-multiarch"),
        "skopeo",
        "copy",
        "--quiet",
        "--all",
        "--preserve-digests",
        "--dest-tls-verify=false",
        *creds,
        oci_ref(layout),
        f"docker://{host}/{repository}:{tag}",
    )


def registry_raw(host: str, repository: str, reference: str, auth: Auth) -> bytes:
    """`skopeo inspect --raw`: the manifest bytes as an independent client reads them."""
    creds = ["--creds", f"{auth[0]}:{auth[1]}"] if auth else []
    separator = "@" if ":" in reference else ":"
    result = _run(
        storage_env(CACHE_DIR / "containers-multiarch"),
        "skopeo",
        "inspect",
        "--raw",
        "--tls-verify=false",
        *creds,
        f"docker://{host}/{repository}{separator}{reference}",
    )
    return result.stdout


def _run(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    result = subprocess.run(
        list(args), env=env, capture_output=True, timeout=300, stdin=subprocess.DEVNULL
    )
    if check and result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} exited {result.returncode}:\n{result.stderr[-3000:]!r}"
        )
    return result
