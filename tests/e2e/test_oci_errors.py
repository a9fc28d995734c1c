"""OCI error bodies and codes (spec A.6, DESIGN §6), against a real `conveyor serve`.

Every 4xx with a body is `{"errors": [{"code", "message", "detail"}]}`; bad input changes nothing.
The spec makes `message` and `detail` optional; Conveyor always writes the three keys, so the
shape is pinned here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.oci_client import (
    OCI_INDEX,
    OCI_MANIFEST,
    SPEC_ERROR_CODES,
    Blob,
    Manifest,
    OCIClient,
    describe,
    dump,
    image_config,
    image_index,
    image_manifest,
    parse_challenge,
    random_digest,
    random_text,
    tar_layer,
)
from tests.support.conveyor_server import ConveyorServer

REPO_A = "conformance/repo1"
REPO_B = "conformance/repo2"
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def oci(conveyor_server: ConveyorServer) -> Iterator[OCIClient]:
    with OCIClient.for_server(conveyor_server) as client:
        yield client


@pytest.fixture(scope="module")
def pushed(oci: OCIClient) -> tuple[Blob, Blob]:
    """A config and a layer in both repositories, so manifests can be valid but for one thing."""
    config, layer = image_config(), tar_layer({"errors.txt": b"errors"})
    for repo in (REPO_A, REPO_B):
        for blob in (config, layer):
            oci.ensure_blob(repo, blob)
    return config, layer


def assert_error(response: httpx.Response, status: int, *codes: str) -> None:
    """The status, the JSON error shape, and one of the expected codes."""
    assert response.status_code == status, describe(response)
    assert response.headers.get("Content-Type", "").startswith("application/json"), describe(
        response
    )
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("errors"), list), body
    assert body["errors"], body
    for entry in body["errors"]:
        assert {"code", "message", "detail"} <= set(entry), entry
        assert entry["code"] in SPEC_ERROR_CODES, entry
        assert isinstance(entry["message"], str), entry
    assert any(entry["code"] in codes for entry in body["errors"]), (codes, body)


def padded_manifest(config: Blob, layer: Blob, size: int) -> Manifest:
    """A valid image manifest of exactly `size` bytes (one padding annotation)."""
    bare = image_manifest(config, [layer], annotations={"org.example.pad": ""})
    padding = size - bare.size
    assert padding >= 0
    return image_manifest(config, [layer], annotations={"org.example.pad": "x" * padding})


# ------------------------------------------------------------------ names and tags


INVALID_NAMES = [
    "conformance/UPPER",
    "conformance/-leading",
    "conformance/trailing-",
    "conformance/dot..dot",
    "conformance/a//b",
    "conformance/" + "a" * 256,
]


@pytest.mark.parametrize("name", INVALID_NAMES, ids=lambda n: n[:30])
def test_upload_to_invalid_repository_name_is_name_invalid(oci: OCIClient, name: str) -> None:
    assert_error(oci.start_upload(name), 400, "NAME_INVALID")


@pytest.mark.parametrize("name", INVALID_NAMES, ids=lambda n: n[:30])
def test_manifest_put_to_invalid_repository_name_is_name_invalid(
    oci: OCIClient, pushed: tuple[Blob, Blob], name: str
) -> None:
    manifest = image_manifest(pushed[0], [pushed[1]])
    assert_error(oci.put_manifest(name, "latest", manifest), 400, "NAME_INVALID")


@pytest.mark.parametrize("tag", [".bad", "-bad", "x" * 129, "bad!tag"], ids=lambda t: t[:12])
def test_manifest_put_with_invalid_tag_is_rejected(
    oci: OCIClient, pushed: tuple[Blob, Blob], tag: str
) -> None:
    manifest = image_manifest(pushed[0], [pushed[1]])
    assert_error(oci.put_manifest(REPO_A, tag, manifest), 400, "TAG_INVALID", "MANIFEST_INVALID")
    assert oci.head_manifest(REPO_A, manifest.digest).status_code == 404


# ------------------------------------------------------------------ digests

MALFORMED_DIGESTS = ["sha256:xyz", "sha256:" + "A" * 64, "sha256:" + "a" * 63, "nocolon"]
UNSUPPORTED_DIGESTS = ["sha384:" + "a" * 96, "md5:" + "a" * 32]
BAD_DIGESTS = MALFORMED_DIGESTS + UNSUPPORTED_DIGESTS


@pytest.mark.parametrize("digest", BAD_DIGESTS, ids=lambda d: d[:12])
def test_single_post_with_bad_digest_is_digest_invalid(oci: OCIClient, digest: str) -> None:
    response = oci.start_upload(REPO_A, params={"digest": digest}, content=b"some bytes")
    assert_error(response, 400, "DIGEST_INVALID")


@pytest.mark.parametrize("digest", BAD_DIGESTS, ids=lambda d: d[:12])
def test_upload_put_with_bad_digest_is_digest_invalid(oci: OCIClient, digest: str) -> None:
    started = oci.start_upload(REPO_A)
    assert started.status_code == 202, describe(started)
    response = oci.finish_upload(oci.location(started), digest, b"some bytes")
    assert_error(response, 400, "DIGEST_INVALID")


@pytest.mark.parametrize("digest", [d for d in BAD_DIGESTS if ":" in d], ids=lambda d: d[:12])
def test_manifest_put_by_bad_digest_is_digest_invalid(
    oci: OCIClient, pushed: tuple[Blob, Blob], digest: str
) -> None:
    manifest = image_manifest(pushed[0], [pushed[1]])
    assert_error(oci.put_manifest(REPO_A, digest, manifest), 400, "DIGEST_INVALID")


@pytest.mark.parametrize("digest", [d for d in BAD_DIGESTS if ":" in d], ids=lambda d: d[:12])
def test_blob_get_by_bad_digest_is_digest_invalid(oci: OCIClient, digest: str) -> None:
    assert_error(oci.get_blob(REPO_A, digest), 400, "DIGEST_INVALID")


@pytest.mark.parametrize("algorithm", ["md5", "sha384", "NOT-AN-ALGORITHM"])
def test_upload_with_unsupported_digest_algorithm_is_400(oci: OCIClient, algorithm: str) -> None:
    response = oci.start_upload(REPO_A, params={"digest-algorithm": algorithm})
    assert_error(response, 400, "DIGEST_INVALID", "UNSUPPORTED")


def test_referrers_by_bad_digest_is_400(oci: OCIClient, pushed: tuple[Blob, Blob]) -> None:
    assert_error(oci.referrers(REPO_A, "sha256:xyz"), 400, "DIGEST_INVALID")


@pytest.mark.parametrize("how", ["single-post", "post-put"])
def test_body_not_matching_digest_is_digest_invalid_and_not_stored(
    oci: OCIClient, how: str
) -> None:
    blob = Blob(b"the real content " + random_text().encode())
    wrong = blob.data + b"!"
    if how == "single-post":
        response = oci.start_upload(REPO_A, params={"digest": blob.digest}, content=wrong)
    else:
        started = oci.start_upload(REPO_A)
        assert started.status_code == 202, describe(started)
        response = oci.finish_upload(oci.location(started), blob.digest, wrong)
    assert_error(response, 400, "DIGEST_INVALID")
    assert oci.head_blob(REPO_A, blob.digest).status_code == 404
    assert oci.head_blob(REPO_A, Blob(wrong).digest).status_code == 404


# ------------------------------------------------------------------ upload sessions


def unknown_upload(repo: str = REPO_A) -> str:
    return f"/v2/{repo}/blobs/uploads/{uuid.uuid4()}"


@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
def test_unknown_upload_id_is_blob_upload_unknown(oci: OCIClient, method: str) -> None:
    params = [("digest", random_digest())] if method == "PUT" else None
    content = b"x" if method in ("PATCH", "PUT") else None
    response = oci.request(method, unknown_upload(), params=params, content=content)
    assert_error(response, 404, "BLOB_UPLOAD_UNKNOWN")


def in_other_repository(location: httpx.URL) -> httpx.URL:
    assert f"/v2/{REPO_A}/" in location.path, location
    return location.copy_with(path=location.path.replace(f"/v2/{REPO_A}/", f"/v2/{REPO_B}/", 1))


@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT"])
def test_upload_id_used_under_another_repository_is_unknown(
    oci: OCIClient, pushed: tuple[Blob, Blob], method: str
) -> None:
    started = oci.start_upload(REPO_A)
    assert started.status_code == 202, describe(started)
    elsewhere = in_other_repository(oci.location(started))
    blob = Blob(random_text(40).encode())
    params = [("digest", blob.digest)] if method == "PUT" else None
    response = oci.request(
        method,
        elsewhere,
        params=params,
        content=blob.data,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert_error(response, 404, "BLOB_UPLOAD_UNKNOWN")
    assert oci.head_blob(REPO_B, blob.digest).status_code == 404


@pytest.fixture(scope="module")
def other_user(conveyor_server: ConveyorServer, pushed: tuple[Blob, Blob]) -> Iterator[OCIClient]:
    """A second user with push rights on the namespace."""
    password = "Other-Secret-1"
    conveyor_server.cli("user", "create", "other", "--password-stdin", input=password + "\n")
    conveyor_server.cli("namespace", "member", "add", "conformance", "other", "--role", "developer")
    with OCIClient(conveyor_server.url, "other", password) as client:
        yield client


@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT"])
def test_someone_elses_upload_id_is_unknown(
    oci: OCIClient, other_user: OCIClient, method: str
) -> None:
    started = oci.start_upload(REPO_A)
    assert started.status_code == 202, describe(started)
    blob = Blob(random_text(40).encode())
    params = [("digest", blob.digest)] if method == "PUT" else None
    response = other_user.request(
        method,
        oci.location(started),
        params=params,
        content=blob.data,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert_error(response, 404, "BLOB_UPLOAD_UNKNOWN")
    assert oci.head_blob(REPO_A, blob.digest).status_code == 404


def test_finished_upload_id_is_unknown(oci: OCIClient) -> None:
    blob = Blob(random_text(40).encode())
    started = oci.start_upload(REPO_A)
    assert started.status_code == 202, describe(started)
    location = oci.location(started)
    done = oci.finish_upload(location, blob.digest, blob.data)
    assert done.status_code == 201, describe(done)
    assert_error(oci.patch_chunk(location, b"more"), 404, "BLOB_UPLOAD_UNKNOWN")


def test_chunk_at_wrong_offset_is_416_and_keeps_the_session(oci: OCIClient) -> None:
    started = oci.start_upload(REPO_A, headers={"Content-Length": "0"})
    assert started.status_code == 202, describe(started)
    location = oci.location(started)
    first = oci.patch_chunk(location, b"a" * 10, "0-9")
    assert first.status_code == 202, describe(first)
    location = oci.location(first)
    for bad_range in ("5-14", "11-20", "0-9"):
        response = oci.patch_chunk(location, b"b" * 10, bad_range)
        assert response.status_code == 416, describe(response)
    status = oci.upload_status(location)
    assert status.status_code == 204, describe(status)
    assert status.headers.get("Range") == "0-9", describe(status)


# ------------------------------------------------------------------ unknown content


def test_unknown_blob_is_blob_unknown(oci: OCIClient, pushed: tuple[Blob, Blob]) -> None:
    assert_error(oci.get_blob(REPO_A, random_digest()), 404, "BLOB_UNKNOWN")


def test_head_of_unknown_blob_is_404_without_body(
    oci: OCIClient, pushed: tuple[Blob, Blob]
) -> None:
    response = oci.head_blob(REPO_A, random_digest())
    assert response.status_code == 404, describe(response)
    assert response.content == b""


def test_delete_of_unknown_blob_is_blob_unknown(oci: OCIClient, pushed: tuple[Blob, Blob]) -> None:
    assert_error(oci.delete_blob(REPO_A, random_digest()), 404, "BLOB_UNKNOWN")


@pytest.mark.parametrize("reference", ["no-such-tag", random_digest()], ids=["tag", "digest"])
def test_unknown_manifest_is_manifest_unknown(
    oci: OCIClient, pushed: tuple[Blob, Blob], reference: str
) -> None:
    assert_error(oci.get_manifest(REPO_A, reference), 404, "MANIFEST_UNKNOWN")


def test_delete_of_unknown_manifest_is_manifest_unknown(
    oci: OCIClient, pushed: tuple[Blob, Blob]
) -> None:
    assert_error(oci.delete_manifest(REPO_A, random_digest()), 404, "MANIFEST_UNKNOWN")


@pytest.mark.parametrize("repo", ["conformance/never-pushed", "nowhere/never-pushed"])
def test_tag_list_of_unknown_repository_is_name_unknown(
    oci: OCIClient, pushed: tuple[Blob, Blob], repo: str
) -> None:
    assert_error(oci.list_tags(repo), 404, "NAME_UNKNOWN")


@pytest.mark.parametrize("missing", ["config", "layer", "index-child"])
def test_manifest_referencing_missing_content_is_manifest_blob_unknown(
    oci: OCIClient, pushed: tuple[Blob, Blob], missing: str
) -> None:
    config, layer = pushed
    absent = Blob(random_text(64).encode(), "application/vnd.oci.image.layer.v1.tar+gzip")
    if missing == "config":
        manifest = image_manifest(image_config(), [layer])
    elif missing == "layer":
        manifest = image_manifest(config, [layer, absent])
    else:
        manifest = image_index([image_manifest(config, [layer], annotations={"x": "never"})])
    response = oci.put_manifest(REPO_A, "dangling", manifest)
    assert_error(response, 400, "MANIFEST_BLOB_UNKNOWN")
    assert oci.head_manifest(REPO_A, manifest.digest).status_code == 404
    assert oci.head_manifest(REPO_A, "dangling").status_code == 404


# ------------------------------------------------------------------ invalid manifests


@pytest.mark.parametrize(
    ("body", "media_type"),
    [
        (b"blablabla", OCI_MANIFEST),
        (dump({"schemaVersion": 3, "mediaType": OCI_MANIFEST}), OCI_MANIFEST),
        (dump({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": []}), OCI_MANIFEST),
        (dump({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": "no"}), OCI_INDEX),
    ],
    ids=["not-json", "schema-version-3", "no-config", "manifests-not-a-list"],
)
def test_invalid_manifest_is_manifest_invalid(
    oci: OCIClient, pushed: tuple[Blob, Blob], body: bytes, media_type: str
) -> None:
    response = oci.put_manifest(REPO_A, "invalid", body, media_type)
    assert_error(response, 400, "MANIFEST_INVALID")
    assert oci.head_manifest(REPO_A, "invalid").status_code == 404


# ------------------------------------------------------------------ sizes


@pytest.mark.parametrize("size", [4 * MIB + 1, 5 * MIB], ids=["4MiB+1", "5MiB"])
def test_manifest_over_4_mib_is_413_and_not_stored(
    oci: OCIClient, pushed: tuple[Blob, Blob], size: int
) -> None:
    manifest = padded_manifest(*pushed, size)
    assert manifest.size == size
    response = oci.put_manifest(REPO_A, "too-big", manifest)
    assert response.status_code == 413, describe(response)
    if response.content:
        assert_error(response, 413, "MANIFEST_INVALID", "SIZE_INVALID")
    assert oci.head_manifest(REPO_A, manifest.digest).status_code == 404
    assert oci.head_manifest(REPO_A, "too-big").status_code == 404


def test_manifest_of_exactly_4_mib_is_accepted(oci: OCIClient, pushed: tuple[Blob, Blob]) -> None:
    manifest = padded_manifest(*pushed, 4 * MIB)
    response = oci.put_manifest(REPO_A, "four-mib", manifest)
    assert response.status_code == 201, describe(response)
    assert oci.get_manifest(REPO_A, "four-mib").content == manifest.data


# ------------------------------------------------------------------ authentication


def test_anonymous_pull_of_private_repository_is_unauthorized(
    conveyor_server: ConveyorServer, pushed: tuple[Blob, Blob]
) -> None:
    response = httpx.get(f"{conveyor_server.url}/v2/{REPO_A}/tags/list")
    assert_error(response, 401, "UNAUTHORIZED")
    scheme, params = parse_challenge(response.headers.get("WWW-Authenticate", ""))
    assert scheme == "bearer", describe(response)
    assert params.get("realm") == f"{conveyor_server.url}/auth/token", params
    assert params.get("service") == "conveyor", params
    assert f"repository:{REPO_A}:pull" in params.get("scope", "").split(), params


def test_anonymous_push_is_unauthorized_with_push_scope(
    conveyor_server: ConveyorServer, pushed: tuple[Blob, Blob]
) -> None:
    response = httpx.post(f"{conveyor_server.url}/v2/{REPO_A}/blobs/uploads/")
    assert_error(response, 401, "UNAUTHORIZED")
    _, params = parse_challenge(response.headers.get("WWW-Authenticate", ""))
    scope = params.get("scope", "")
    assert scope.startswith(f"repository:{REPO_A}:") and "push" in scope, params


def test_anonymous_token_does_not_open_a_private_repository(
    conveyor_server: ConveyorServer, pushed: tuple[Blob, Blob]
) -> None:
    with OCIClient(conveyor_server.url) as anonymous:
        response = anonymous.list_tags(REPO_A)
    assert_error(response, 401, "UNAUTHORIZED")


def test_wrong_password_is_unauthorized(
    conveyor_server: ConveyorServer, pushed: tuple[Blob, Blob]
) -> None:
    with OCIClient(conveyor_server.url, conveyor_server.admin_user, "wrong") as intruder:
        response = intruder.list_tags(REPO_A)
    assert_error(response, 401, "UNAUTHORIZED")


def test_anonymous_catalog_challenge_asks_for_catalog_scope(
    conveyor_server: ConveyorServer, pushed: tuple[Blob, Blob]
) -> None:
    # Token auth (DESIGN §4.5, token spec §4): /v2/_catalog needs `registry:catalog:*`.
    response = httpx.get(f"{conveyor_server.url}/v2/_catalog")
    assert_error(response, 401, "UNAUTHORIZED")
    _, params = parse_challenge(response.headers.get("WWW-Authenticate", ""))
    assert params.get("scope") == "registry:catalog:*", params
