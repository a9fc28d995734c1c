"""Real OCI clients against a real `conveyor serve`: skopeo, buildah, podman and the oras SDK.

Every image is built locally (tests/support/images.py: Debian's busybox-static for amd64 and
arm64, as OCI layouts). The tools run with a private vfs storage and an empty auth file; the admin
credentials are passed on the command line, over plain http (`--tls-verify=false`). Conveyor
answers with a Bearer challenge, so these runs also exercise its token realm.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import oras.client
import oras.oci
import pytest

from tests.support.conveyor_server import ConveyorServer
from tests.support.distribution import DistributionRegistry
from tests.support.images import (
    INDEX_TYPES,
    LayoutImage,
    blob_path,
    busybox_layout,
    oci_ref,
    read_layout,
    sha256,
    storage_env,
    verify_layout,
)

pytestmark = pytest.mark.timeout(300)

TOOL_TIMEOUT = 180
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST_ACCEPT = ", ".join(
    [
        OCI_MANIFEST,
        OCI_INDEX,
        DOCKER_MANIFEST,
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]
)


@dataclass
class Target:
    """The registry under test, as the clients see it."""

    url: str
    host: str
    user: str
    password: str

    @property
    def creds(self) -> str:
        return f"{self.user}:{self.password}"

    def ref(self, repository: str, tag: str) -> str:
        return f"docker://{self.host}/{repository}:{tag}"

    def client(self, anonymous: bool = False) -> httpx.Client:
        auth = None if anonymous else (self.user, self.password)
        return httpx.Client(base_url=self.url, auth=auth, timeout=60)


@pytest.fixture(scope="module")
def target(conveyor_server: ConveyorServer) -> Target:
    return Target(
        conveyor_server.url,
        conveyor_server.host,
        conveyor_server.admin_user,
        conveyor_server.admin_password,
    )


@pytest.fixture(scope="module")
def amd64() -> Path:
    return busybox_layout("amd64")


@pytest.fixture(scope="module")
def arm64() -> Path:
    return busybox_layout("arm64")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Private container storage and an empty auth file for buildah, podman and skopeo."""
    return storage_env(tmp_path / "containers")


@pytest.fixture
def http(target: Target) -> Iterator[httpx.Client]:
    with target.client() as client:
        yield client


def tool(
    env: dict[str, str], *args: str, ok: bool = True, timeout: float = TOOL_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Run skopeo/buildah/podman; `ok=False` expects a failure."""
    result = subprocess.run(
        list(args),
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if ok and result.returncode != 0:
        pytest.fail(f"{' '.join(args)} exited {result.returncode}:\n{result.stderr[-3000:]}")
    if not ok and result.returncode == 0:
        pytest.fail(f"{' '.join(args)} succeeded but should have been refused:\n{result.stdout}")
    return result


def skopeo_push(
    env: dict[str, str], target: Target, layout: Path, repository: str, tag: str
) -> None:
    tool(
        env,
        "skopeo",
        "copy",
        "--quiet",
        "--preserve-digests",
        "--dest-tls-verify=false",
        "--dest-creds",
        target.creds,
        oci_ref(layout),
        target.ref(repository, tag),
    )


def registry_digest(http: httpx.Client, repository: str, reference: str) -> str:
    response = http.head(
        f"/v2/{repository}/manifests/{reference}", headers={"Accept": MANIFEST_ACCEPT}
    )
    assert response.status_code == 200, (response.status_code, response.headers)
    return response.headers["Docker-Content-Digest"]


def assert_same_blobs(pulled: Path, source: LayoutImage, digests: set[str]) -> None:
    for digest in digests:
        assert (
            blob_path(pulled, digest).read_bytes() == blob_path(source.layout, digest).read_bytes()
        )


# --------------------------------------------------------------------------- skopeo


def test_skopeo_copy_round_trip_keeps_every_digest(
    target: Target, amd64: Path, env: dict[str, str], http: httpx.Client, tmp_path: Path
) -> None:
    source = read_layout(amd64)
    skopeo_push(env, target, amd64, "e2e/busybox", "1.0")

    raw = tool(
        env,
        "skopeo",
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--creds",
        target.creds,
        target.ref("e2e/busybox", "1.0"),
    ).stdout
    assert raw.encode() == source.raw, "the registry must serve the exact manifest bytes"
    assert registry_digest(http, "e2e/busybox", "1.0") == source.digest
    config = json.loads(
        tool(
            env,
            "skopeo",
            "inspect",
            "--config",
            "--raw",
            "--tls-verify=false",
            "--creds",
            target.creds,
            target.ref("e2e/busybox", "1.0"),
        ).stdout
    )
    assert config == source.config

    for digest in source.blobs - {source.digest}:
        response = http.get(f"/v2/e2e/busybox/blobs/{digest}")
        assert response.status_code == 200
        assert sha256(response.content) == digest
        assert response.headers["Docker-Content-Digest"] == digest

    pulled = tmp_path / "pulled"
    tool(
        env,
        "skopeo",
        "copy",
        "--quiet",
        "--preserve-digests",
        "--src-tls-verify=false",
        "--src-creds",
        target.creds,
        target.ref("e2e/busybox", "1.0"),
        oci_ref(pulled, "1.0"),
    )
    verify_layout(pulled)
    back = read_layout(pulled, "1.0")
    assert back.digest == source.digest
    assert back.raw == source.raw
    assert back.descriptors == source.descriptors
    assert_same_blobs(pulled, source, source.blobs)
    blob_files = {f"sha256:{p.name}" for p in (pulled / "blobs" / "sha256").iterdir()}
    assert blob_files == source.blobs


def test_skopeo_docker_schema2_round_trip(
    target: Target, amd64: Path, env: dict[str, str], http: httpx.Client, tmp_path: Path
) -> None:
    """skopeo converts to Docker v2 schema 2 on push; the registry keeps that manifest as is."""
    source = read_layout(amd64)
    digest_file = tmp_path / "digest"
    tool(
        env,
        "skopeo",
        "copy",
        "--quiet",
        "--format",
        "v2s2",
        "--digestfile",
        str(digest_file),
        "--dest-tls-verify=false",
        "--dest-creds",
        target.creds,
        oci_ref(amd64),
        target.ref("e2e/docker", "v2s2"),
    )
    pushed = digest_file.read_text().strip()
    head = http.head("/v2/e2e/docker/manifests/v2s2", headers={"Accept": MANIFEST_ACCEPT})
    assert head.status_code == 200
    assert head.headers["Content-Type"] == DOCKER_MANIFEST
    assert head.headers["Docker-Content-Digest"] == pushed

    out = tmp_path / "dir"
    tool(
        env,
        "skopeo",
        "copy",
        "--quiet",
        "--preserve-digests",
        "--src-tls-verify=false",
        "--src-creds",
        target.creds,
        target.ref("e2e/docker", "v2s2"),
        f"dir:{out}",
    )
    manifest = (out / "manifest.json").read_bytes()
    assert sha256(manifest) == pushed
    document = json.loads(manifest)
    assert document["mediaType"] == DOCKER_MANIFEST
    # The layers are the same gzip blobs and the config the same bytes: only the manifest changed.
    layers = [layer["digest"] for layer in document["layers"]]
    assert layers == [layer["digest"] for layer in source.document["layers"]]
    assert document["config"]["digest"] == source.document["config"]["digest"]
    for digest in [*layers, document["config"]["digest"]]:
        assert sha256((out / digest.split(":", 1)[1]).read_bytes()) == digest


def test_skopeo_copy_all_from_distribution_to_conveyor(
    distribution_registry_htpasswd: DistributionRegistry,
    target: Target,
    amd64: Path,
    arm64: Path,
    env: dict[str, str],
    http: httpx.Client,
) -> None:
    """Registry to registry, both with credentials: an index and its children keep their digests."""
    peer = distribution_registry_htpasswd
    peer_creds = f"{peer.user}:{peer.password}"
    tool(env, "buildah", "manifest", "create", "conveyor-e2e-peer")
    tool(env, "buildah", "manifest", "add", "conveyor-e2e-peer", oci_ref(amd64))
    tool(env, "buildah", "manifest", "add", "conveyor-e2e-peer", oci_ref(arm64))
    tool(
        env,
        "buildah",
        "manifest",
        "push",
        "--all",
        "--format",
        "oci",
        "--tls-verify=false",
        "--creds",
        peer_creds,
        "conveyor-e2e-peer",
        f"docker://{peer.host}/peer/multi:1",
    )
    peer_index = httpx.get(
        f"{peer.url}/v2/peer/multi/manifests/1",
        headers={"Accept": OCI_INDEX},
        auth=(peer.user, peer.password),
        timeout=30,
    )
    assert peer_index.status_code == 200

    tool(
        env,
        "skopeo",
        "copy",
        "--quiet",
        "--all",
        "--preserve-digests",
        "--src-tls-verify=false",
        "--src-creds",
        peer_creds,
        "--dest-tls-verify=false",
        "--dest-creds",
        target.creds,
        f"docker://{peer.host}/peer/multi:1",
        target.ref("e2e/from-peer", "1"),
    )
    copied = http.get("/v2/e2e/from-peer/manifests/1", headers={"Accept": OCI_INDEX})
    assert copied.status_code == 200
    assert copied.content == peer_index.content
    assert copied.headers["Docker-Content-Digest"] == sha256(peer_index.content)
    for child in copied.json()["manifests"]:
        image = read_layout(amd64 if child["platform"]["architecture"] == "amd64" else arm64)
        assert child["digest"] == image.digest
        for digest in image.blobs:
            kind = "manifests" if digest == image.digest else "blobs"
            head = http.head(f"/v2/e2e/from-peer/{kind}/{digest}", headers={"Accept": OCI_MANIFEST})
            assert head.status_code == 200, (kind, digest)


# --------------------------------------------------------------------------- buildah


def test_buildah_manifest_push_all_multi_arch_and_pull_whole(
    target: Target,
    amd64: Path,
    arm64: Path,
    env: dict[str, str],
    http: httpx.Client,
    tmp_path: Path,
) -> None:
    sources = {"linux/amd64": read_layout(amd64), "linux/arm64": read_layout(arm64)}
    tool(env, "buildah", "manifest", "create", "conveyor-e2e-list")
    tool(env, "buildah", "manifest", "add", "conveyor-e2e-list", oci_ref(amd64))
    tool(env, "buildah", "manifest", "add", "conveyor-e2e-list", oci_ref(arm64))
    digest_file = tmp_path / "digest"
    tool(
        env,
        "buildah",
        "manifest",
        "push",
        "--all",
        "--format",
        "oci",
        "--tls-verify=false",
        "--creds",
        target.creds,
        "--digestfile",
        str(digest_file),
        "conveyor-e2e-list",
        target.ref("e2e/multi", "1"),
    )
    list_digest = digest_file.read_text().strip()

    response = http.get("/v2/e2e/multi/manifests/1", headers={"Accept": MANIFEST_ACCEPT})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == OCI_INDEX
    assert response.headers["Docker-Content-Digest"] == list_digest
    assert sha256(response.content) == list_digest
    index = response.json()
    children = {
        f"{m['platform']['os']}/{m['platform']['architecture']}": m["digest"]
        for m in index["manifests"]
    }
    assert children == {platform: image.digest for platform, image in sources.items()}
    for platform, image in sources.items():
        child = http.get(
            f"/v2/e2e/multi/manifests/{children[platform]}", headers={"Accept": OCI_MANIFEST}
        )
        assert child.status_code == 200
        assert child.content == image.raw
        assert child.headers["Content-Type"] == OCI_MANIFEST

    pulled = tmp_path / "pulled"
    tool(
        env,
        "skopeo",
        "copy",
        "--quiet",
        "--all",
        "--preserve-digests",
        "--src-tls-verify=false",
        "--src-creds",
        target.creds,
        target.ref("e2e/multi", "1"),
        oci_ref(pulled, "1"),
    )
    verify_layout(pulled)
    whole = read_layout(pulled, "1")
    assert whole.media_type in INDEX_TYPES
    assert whole.digest == list_digest
    assert whole.children == children
    for image in sources.values():
        assert image.blobs <= whole.blobs, "every blob of every child is pulled"
        assert_same_blobs(pulled, image, image.blobs)


def test_buildah_push(
    target: Target, amd64: Path, env: dict[str, str], http: httpx.Client, tmp_path: Path
) -> None:
    source = read_layout(amd64)
    local = "localhost/conveyor-e2e/busybox:latest"
    tool(env, "skopeo", "copy", "--quiet", oci_ref(amd64), f"containers-storage:{local}")
    # A container on top of it, with one more layer, committed and pushed by buildah.
    container = tool(env, "buildah", "from", "--quiet", local).stdout.strip()
    hello = tmp_path / "hello.txt"
    hello.write_text("hello from buildah\n")
    tool(env, "buildah", "copy", "--quiet", container, str(hello), "/hello.txt")
    committed = tool(env, "buildah", "commit", "--quiet", "--rm", container, "conveyor-e2e/built")
    image_id = committed.stdout.strip().splitlines()[-1]
    digest_file = tmp_path / "digest"
    tool(
        env,
        "buildah",
        "push",
        "--quiet",
        "--tls-verify=false",
        "--creds",
        target.creds,
        "--digestfile",
        str(digest_file),
        image_id,
        target.ref("e2e/buildah", "pushed"),
    )
    pushed = digest_file.read_text().strip()
    assert registry_digest(http, "e2e/buildah", "pushed") == pushed
    config = json.loads(
        tool(
            env,
            "skopeo",
            "inspect",
            "--config",
            "--raw",
            "--tls-verify=false",
            "--creds",
            target.creds,
            target.ref("e2e/buildah", "pushed"),
        ).stdout
    )
    assert config["architecture"] == "amd64"
    base_layers = source.config["rootfs"]["diff_ids"]
    assert config["rootfs"]["diff_ids"][: len(base_layers)] == base_layers
    assert len(config["rootfs"]["diff_ids"]) == len(base_layers) + 1

    pulled = tmp_path / "pulled"
    tool(
        env,
        "skopeo",
        "copy",
        "--quiet",
        "--preserve-digests",
        "--src-tls-verify=false",
        "--src-creds",
        target.creds,
        target.ref("e2e/buildah", "pushed"),
        oci_ref(pulled, "1"),
    )
    verify_layout(pulled)
    assert read_layout(pulled, "1").digest == pushed


# --------------------------------------------------------------------------- podman


def test_podman_pull(
    target: Target, amd64: Path, arm64: Path, env: dict[str, str], tmp_path: Path
) -> None:
    source = read_layout(amd64)
    skopeo_push(env, target, amd64, "e2e/podman", "latest")
    image = f"{target.host}/e2e/podman:latest"
    tool(env, "podman", "pull", "--quiet", "--tls-verify=false", "--creds", target.creds, image)
    digest = tool(
        env, "podman", "image", "inspect", "--format", "{{.Digest}}", image
    ).stdout.strip()
    assert digest == source.digest
    arch = tool(env, "podman", "image", "inspect", "--format", "{{.Architecture}}", image).stdout
    assert arch.strip() == "amd64"

    # A multi-arch index: podman picks the asked platform's child.
    other = storage_env(tmp_path / "containers-2")
    tool(other, "buildah", "manifest", "create", "conveyor-e2e-podman")
    tool(other, "buildah", "manifest", "add", "conveyor-e2e-podman", oci_ref(amd64))
    tool(other, "buildah", "manifest", "add", "conveyor-e2e-podman", oci_ref(arm64))
    tool(
        other,
        "buildah",
        "manifest",
        "push",
        "--all",
        "--format",
        "oci",
        "--tls-verify=false",
        "--creds",
        target.creds,
        "conveyor-e2e-podman",
        target.ref("e2e/podman", "multi"),
    )
    multi = f"{target.host}/e2e/podman:multi"
    tool(
        env,
        "podman",
        "pull",
        "--quiet",
        "--arch",
        "arm64",
        "--tls-verify=false",
        "--creds",
        target.creds,
        multi,
    )
    arch = tool(env, "podman", "image", "inspect", "--format", "{{.Architecture}}", multi).stdout
    assert arch.strip() == "arm64"


# --------------------------------------------------------------------------- oras


def oras_client(target: Target) -> oras.client.OrasClient:
    """The SDK with Basic credentials on every request.

    oras-py's "token" backend keeps the first token it gets (pull only, from the HEAD that checks
    for a blob) and asks for a new one only on a 403, while the reference behaviour (and
    Conveyor's) for a token that lacks an action is a 401 with `error="insufficient_scope"`; so
    that backend cannot push to distribution's token auth either. skopeo, buildah and podman
    cover the token flow above.
    """
    client = oras.client.OrasClient(hostname=target.host, insecure=True, auth_backend="basic")
    client.auth.set_basic_auth(target.user, target.password)
    return client


def test_oras_artifacts_and_referrers(
    target: Target, amd64: Path, env: dict[str, str], http: httpx.Client, tmp_path: Path
) -> None:
    image = read_layout(amd64)
    skopeo_push(env, target, amd64, "e2e/artifacts", "image")
    client = oras_client(target)

    sbom = tmp_path / "sbom.json"
    sbom.write_text(json.dumps({"bomFormat": "CycloneDX", "components": []}))
    sbom_config = tmp_path / "sbom-config.json"
    sbom_config.write_text("{}")
    sbom_type = "application/vnd.example.sbom.config.v1+json"
    pushed = client.push(
        target=f"{target.host}/e2e/artifacts:sbom",
        files=[f"{sbom}:application/vnd.cyclonedx+json"],
        manifest_config=f"{sbom_config}:{sbom_type}",
        manifest_annotations={"org.example.kind": "sbom"},
        disable_path_validation=True,
        quiet=True,
    )
    assert pushed.status_code == 201
    sbom_digest = pushed.headers["Docker-Content-Digest"]
    assert "OCI-Subject" not in pushed.headers

    # An artifact whose subject is the image.
    signature = tmp_path / "signature.txt"
    signature.write_text("signed: " + image.digest)
    signature_config = tmp_path / "signature-config.json"
    signature_config.write_text("{}")
    signature_type = "application/vnd.example.signature.config.v1+json"
    subject = oras.oci.Subject(mediaType=image.media_type, digest=image.digest, size=len(image.raw))
    pushed = client.push(
        target=f"{target.host}/e2e/artifacts:signature",
        files=[f"{signature}:application/vnd.example.signature.v1"],
        manifest_config=f"{signature_config}:{signature_type}",
        manifest_annotations={"org.example.kind": "signature"},
        subject=subject,
        disable_path_validation=True,
        quiet=True,
    )
    assert pushed.status_code == 201
    assert pushed.headers.get("OCI-Subject") == image.digest
    signature_digest = pushed.headers["Docker-Content-Digest"]

    # An artifact whose subject is the first artifact.
    manifest = http.get(
        f"/v2/e2e/artifacts/manifests/{sbom_digest}", headers={"Accept": OCI_MANIFEST}
    )
    attestation = tmp_path / "attestation.json"
    attestation.write_text('{"predicate": {}}')
    attestation_config = tmp_path / "attestation-config.json"
    attestation_config.write_text("{}")
    pushed = client.push(
        target=f"{target.host}/e2e/artifacts:attestation",
        files=[f"{attestation}:application/vnd.in-toto+json"],
        manifest_config=f"{attestation_config}:application/vnd.example.attestation.config.v1+json",
        subject=oras.oci.Subject(
            mediaType=OCI_MANIFEST, digest=sbom_digest, size=len(manifest.content)
        ),
        disable_path_validation=True,
        quiet=True,
    )
    assert pushed.status_code == 201
    assert pushed.headers.get("OCI-Subject") == sbom_digest
    attestation_digest = pushed.headers["Docker-Content-Digest"]

    referrers = http.get(f"/v2/e2e/artifacts/referrers/{image.digest}")
    assert referrers.status_code == 200, referrers.text
    assert referrers.headers["Content-Type"] == OCI_INDEX
    listed = {m["digest"]: m for m in referrers.json()["manifests"]}
    assert set(listed) == {signature_digest}
    descriptor = listed[signature_digest]
    assert descriptor["mediaType"] == OCI_MANIFEST
    assert descriptor["artifactType"] == signature_type  # config.mediaType, no artifactType field
    assert descriptor["annotations"]["org.example.kind"] == "signature"
    raw = http.get(
        f"/v2/e2e/artifacts/manifests/{signature_digest}", headers={"Accept": OCI_MANIFEST}
    )
    assert descriptor["size"] == len(raw.content)

    filtered = http.get(
        f"/v2/e2e/artifacts/referrers/{image.digest}", params={"artifactType": signature_type}
    )
    assert filtered.status_code == 200
    assert [m["digest"] for m in filtered.json()["manifests"]] == [signature_digest]
    assert "artifactType" in filtered.headers.get("OCI-Filters-Applied", "")
    none = http.get(
        f"/v2/e2e/artifacts/referrers/{image.digest}", params={"artifactType": "application/x-none"}
    )
    assert none.status_code == 200
    assert none.json()["manifests"] == []

    nested = http.get(f"/v2/e2e/artifacts/referrers/{sbom_digest}")
    assert nested.status_code == 200
    assert [m["digest"] for m in nested.json()["manifests"]] == [attestation_digest]

    # The SDK pulls the artifact back.
    files = client.pull(target=f"{target.host}/e2e/artifacts:sbom", outdir=str(tmp_path / "out"))
    assert [Path(f).read_bytes() for f in files] == [sbom.read_bytes()]


# --------------------------------------------------------------------------- access


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.partition(" ")
    return scheme.lower(), dict(re.findall(r'(\w+)="([^"]*)"', rest))


def anonymous_token(target: Target, challenge: dict[str, str]) -> str:
    response = httpx.get(
        challenge["realm"],
        params={"service": challenge["service"], "scope": challenge["scope"]},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return str(body.get("token") or body["access_token"])


def anonymous_get(target: Target, anonymous: httpx.Client, path: str) -> httpx.Response:
    """GET as an anonymous client would: answer a Bearer challenge with an anonymous token."""
    headers = {"Accept": MANIFEST_ACCEPT}
    response = anonymous.get(path, headers=headers)
    if response.status_code != 401:
        return response
    scheme, challenge = parse_challenge(response.headers["WWW-Authenticate"])
    assert scheme == "bearer"
    token = anonymous_token(target, challenge)
    return anonymous.get(path, headers={**headers, "Authorization": f"Bearer {token}"})


def test_anonymous_pull_of_private_repository_is_refused(
    target: Target, amd64: Path, env: dict[str, str]
) -> None:
    source = read_layout(amd64)
    skopeo_push(env, target, amd64, "e2e/private", "1")
    with target.client(anonymous=True) as anonymous:
        for path in (
            "/v2/e2e/private/manifests/1",
            f"/v2/e2e/private/manifests/{source.digest}",
            f"/v2/e2e/private/blobs/{source.document['config']['digest']}",
            "/v2/e2e/private/tags/list",
        ):
            response = anonymous.get(path, headers={"Accept": MANIFEST_ACCEPT})
            assert response.status_code == 401, (path, response.status_code)
            assert response.json()["errors"][0]["code"] == "UNAUTHORIZED"
            scheme, challenge = parse_challenge(response.headers["WWW-Authenticate"])
            assert scheme == "bearer"
            assert challenge["realm"] == f"{target.url}/auth/token"
            assert challenge["service"] == "conveyor"
            assert challenge["scope"] == "repository:e2e/private:pull"

        # An anonymous token carries no access to a private repository.
        token = anonymous_token(target, challenge)
        response = anonymous.get(
            "/v2/e2e/private/tags/list", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code in (401, 403)

    refused = tool(
        env,
        "skopeo",
        "inspect",
        "--raw",
        "--no-creds",
        "--tls-verify=false",
        target.ref("e2e/private", "1"),
        ok=False,
    )
    assert re.search(r"unauthorized|authentication required|denied", refused.stderr, re.I)


def test_public_namespace_allows_anonymous_pull_not_push(
    conveyor_server: ConveyorServer,
    target: Target,
    amd64: Path,
    env: dict[str, str],
    tmp_path: Path,
) -> None:
    source = read_layout(amd64)
    conveyor_server.cli("namespace", "create", "pub", "--public")
    skopeo_push(env, target, amd64, "pub/busybox", "1")

    raw = tool(
        env,
        "skopeo",
        "inspect",
        "--raw",
        "--no-creds",
        "--tls-verify=false",
        target.ref("pub/busybox", "1"),
    ).stdout
    assert raw.encode() == source.raw
    pulled = tmp_path / "pulled"
    tool(
        env,
        "skopeo",
        "copy",
        "--quiet",
        "--preserve-digests",
        "--src-no-creds",
        "--src-tls-verify=false",
        target.ref("pub/busybox", "1"),
        oci_ref(pulled, "1"),
    )
    verify_layout(pulled)
    assert read_layout(pulled, "1").digest == source.digest

    refused = tool(
        env,
        "skopeo",
        "copy",
        "--quiet",
        "--dest-no-creds",
        "--dest-tls-verify=false",
        oci_ref(amd64),
        target.ref("pub/anonymous", "1"),
        ok=False,
    )
    assert re.search(r"unauthorized|authentication required|denied", refused.stderr, re.I)

    with target.client(anonymous=True) as anonymous:
        upload = anonymous.post("/v2/pub/busybox/blobs/uploads/")
        assert upload.status_code == 401
        scheme, challenge = parse_challenge(upload.headers["WWW-Authenticate"])
        assert scheme == "bearer"
        assert "push" in challenge["scope"]
        token = anonymous_token(target, challenge)
        upload = anonymous.post(
            "/v2/pub/busybox/blobs/uploads/", headers={"Authorization": f"Bearer {token}"}
        )
        assert upload.status_code in (401, 403)
        manifest = anonymous.put(
            "/v2/pub/busybox/manifests/anonymous",
            content=source.raw,
            headers={"Content-Type": OCI_MANIFEST},
        )
        assert manifest.status_code == 401
        delete = anonymous.delete(f"/v2/pub/busybox/manifests/{source.digest}")
        assert delete.status_code == 401
        still = anonymous_get(target, anonymous, "/v2/pub/busybox/manifests/1")
        assert still.status_code == 200
        assert hashlib.sha256(still.content).hexdigest() == source.digest.split(":", 1)[1]
