"""OCI conformance, Part A.3: the push workflow, against a real `conveyor serve`.

Streamed, monolithic and chunked blob uploads, cross-repository mounts and manifest pushes.
Where the legacy suite tolerates an "unsupported" answer that Conveyor does support (single-POST
upload, mount, automatic mount, manifests without layers, deletes), the supported answer is
asserted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.oci_client import (
    DUMMY_DIGEST,
    INVALID_MANIFEST_NAME,
    OCI_MANIFEST,
    Fixtures,
    OCIClient,
    describe,
    digest_of,
    split_blob_b,
)
from tests.support.conveyor_server import ConveyorServer

REPO = "conformance/repo1"
CROSS = "conformance/repo2"  # OCI_CROSSMOUNT_NAMESPACE


@pytest.fixture(scope="module")
def oci(conveyor_server: ConveyorServer) -> Iterator[OCIClient]:
    with OCIClient.for_server(conveyor_server) as client:
        yield client


@pytest.fixture(scope="module")
def fx() -> Fixtures:
    return Fixtures.build()


@pytest.fixture(scope="module")
def state() -> dict[str, Any]:
    """What the workflow carries from one step to the next."""
    return {}


def open_session(oci: OCIClient) -> tuple[httpx.Response, httpx.URL]:
    response = oci.start_upload(REPO, headers={"Content-Length": "0"})
    assert response.status_code == 202, describe(response)
    return response, oci.location(response)


# ------------------------------------------------------------------ streamed upload


def test_streamed_patch_without_content_range_is_202(
    oci: OCIClient, fx: Fixtures, state: dict[str, Any]
) -> None:
    started = oci.start_upload(REPO)
    assert started.headers.get("Location"), describe(started)
    response = oci.patch_chunk(oci.location(started), fx.blob_a.data)
    assert response.status_code == 202, describe(response)
    state["stream_location"] = oci.location(response)


def test_streamed_upload_closes_with_bodyless_put(
    oci: OCIClient, fx: Fixtures, state: dict[str, Any]
) -> None:
    location = state.get("stream_location")
    if location is None:
        pytest.fail("needs test_streamed_patch_without_content_range_is_202")
    response = oci.finish_upload(location, fx.blob_a.digest)
    assert response.status_code == 201, describe(response)
    assert response.headers.get("Location"), describe(response)
    assert oci.get_blob(REPO, fx.blob_a.digest).content == fx.blob_a.data


# ------------------------------------------------------------------ monolithic upload


def test_get_of_never_pushed_blob_is_404(oci: OCIClient) -> None:
    response = oci.get_blob(REPO, DUMMY_DIGEST)
    assert response.status_code == 404, describe(response)


def test_single_post_with_digest_stores_the_blob(oci: OCIClient, fx: Fixtures) -> None:
    config = fx.configs[1]
    response = oci.start_upload(REPO, params={"digest": config.digest}, content=config.data)
    # The spec allows 202 ("continue with PUT"); Conveyor supports the single POST: 201.
    assert response.status_code == 201, describe(response)
    assert response.headers.get("Location"), describe(response)
    pulled = oci.get_blob(REPO, config.digest)
    assert pulled.status_code == 200, describe(pulled)
    assert pulled.content == config.data


def test_post_without_body_opens_a_session(oci: OCIClient) -> None:
    response = oci.start_upload(REPO)
    assert response.status_code == 202, describe(response)
    assert response.headers.get("Location"), describe(response)


@pytest.mark.parametrize("which", ["config", "layer"])
def test_post_then_put_with_body_stores_the_blob(oci: OCIClient, fx: Fixtures, which: str) -> None:
    blob = fx.configs[1] if which == "config" else fx.layer
    started = oci.start_upload(REPO)
    assert started.status_code == 202, describe(started)
    response = oci.finish_upload(oci.location(started), blob.digest, blob.data)
    assert response.status_code == 201, describe(response)
    assert response.headers.get("Location"), describe(response)
    pulled = oci.get_blob(REPO, blob.digest)
    assert pulled.status_code == 200, describe(pulled)
    assert pulled.content == blob.data


# ------------------------------------------------------------------ chunked upload


@pytest.fixture(scope="module")
def blob_b(oci: OCIClient) -> tuple[bytes, bytes, bytes]:
    """testBlobB and its chunks, sized by the registry's OCI-Chunk-Min-Length if it has one."""
    started = oci.start_upload(REPO, headers={"Content-Length": "0"})
    minimum = started.headers.get("OCI-Chunk-Min-Length")
    if started.status_code == 202:
        oci.cancel_upload(oci.location(started))
    return split_blob_b(int(minimum) if minimum else None)


def span(start: int, piece: bytes) -> str:
    return f"{start}-{start + len(piece) - 1}"


def test_chunk_not_starting_at_zero_is_416(
    oci: OCIClient, blob_b: tuple[bytes, bytes, bytes]
) -> None:
    _, first, second = blob_b
    _, location = open_session(oci)
    response = oci.patch_chunk(location, second, span(len(first), second))
    assert response.status_code == 416, describe(response)


def test_first_chunk_is_202_with_range(
    oci: OCIClient, blob_b: tuple[bytes, bytes, bytes], state: dict[str, Any]
) -> None:
    _, first, _ = blob_b
    _, location = open_session(oci)
    state["chunk_session"] = location
    response = oci.patch_chunk(location, first, span(0, first))
    assert response.status_code == 202, describe(response)
    assert response.headers.get("Range") == span(0, first), describe(response)


def test_resending_an_accepted_chunk_is_416(
    oci: OCIClient, blob_b: tuple[bytes, bytes, bytes], state: dict[str, Any]
) -> None:
    _, first, _ = blob_b
    location = state.get("chunk_session")
    if location is None:
        pytest.fail("needs test_first_chunk_is_202_with_range")
    response = oci.patch_chunk(location, first, span(0, first))
    assert response.status_code == 416, describe(response)


def test_upload_status_is_204_with_range(
    oci: OCIClient, blob_b: tuple[bytes, bytes, bytes], state: dict[str, Any]
) -> None:
    _, first, _ = blob_b
    location = state.get("chunk_session")
    if location is None:
        pytest.fail("needs test_first_chunk_is_202_with_range")
    response = oci.upload_status(location)
    assert response.status_code == 204, describe(response)
    assert response.headers.get("Location"), describe(response)
    assert response.headers.get("Range") == span(0, first), describe(response)
    state["chunk_status_location"] = oci.location(response)


def test_second_chunk_is_202(
    oci: OCIClient, blob_b: tuple[bytes, bytes, bytes], state: dict[str, Any]
) -> None:
    _, first, second = blob_b
    location = state.get("chunk_status_location")
    if location is None:
        pytest.fail("needs test_upload_status_is_204_with_range")
    response = oci.patch_chunk(location, second, span(len(first), second))
    assert response.status_code == 202, describe(response)
    assert response.headers.get("Location"), describe(response)
    assert response.headers.get("Range") == span(0, first + second), describe(response)
    state["chunk_last_location"] = oci.location(response)


def test_chunked_upload_closes_with_empty_put(
    oci: OCIClient, blob_b: tuple[bytes, bytes, bytes], state: dict[str, Any]
) -> None:
    data, _, _ = blob_b
    location = state.get("chunk_last_location")
    if location is None:
        pytest.fail("needs test_second_chunk_is_202")
    response = oci.finish_upload(location, digest_of(data))
    assert response.status_code == 201, describe(response)
    assert response.headers.get("Location"), describe(response)
    pulled = oci.get_blob(REPO, digest_of(data))
    assert pulled.status_code == 200, describe(pulled)
    assert pulled.content == data


# ------------------------------------------------------------------ cross-repository mount


@pytest.fixture(scope="module")
def blob_a_in_repo(oci: OCIClient, fx: Fixtures) -> str:
    """testBlobA stored in REPO (the streamed test may have failed; push it plainly then)."""
    if oci.head_blob(REPO, fx.blob_a.digest).status_code != 200:
        oci.ensure_blob(REPO, fx.blob_a)
    return fx.blob_a.digest


def test_mount_of_unknown_blob_without_from_opens_a_session(oci: OCIClient) -> None:
    response = oci.start_upload(CROSS, params={"mount": DUMMY_DIGEST})
    assert response.status_code == 202, describe(response)
    assert oci.location(response).path.startswith(f"/v2/{CROSS}/blobs/uploads/")


def test_mount_from_other_repository_is_201_at_the_blob_url(
    oci: OCIClient, blob_a_in_repo: str, fx: Fixtures
) -> None:
    response = oci.start_upload(CROSS, params={"mount": blob_a_in_repo, "from": REPO})
    # The spec allows 202 (no mount); Conveyor mounts: 201.
    assert response.status_code == 201, describe(response)
    location = oci.location(response)
    assert location.path == f"/v2/{CROSS}/blobs/{blob_a_in_repo}", describe(response)
    pulled = oci.get(location)
    assert pulled.status_code == 200, describe(pulled)
    assert pulled.content == fx.blob_a.data


def test_automatic_mount_without_from_is_201(
    oci: OCIClient, blob_a_in_repo: str, fx: Fixtures
) -> None:
    # OCI_AUTOMATIC_CROSSMOUNT=1: Conveyor finds a blob the caller can read elsewhere.
    target = "conformance/repo3"
    response = oci.start_upload(target, params={"mount": blob_a_in_repo})
    assert response.status_code == 201, describe(response)
    assert oci.location(response).path == f"/v2/{target}/blobs/{blob_a_in_repo}"
    assert oci.get_blob(target, blob_a_in_repo).content == fx.blob_a.data


# ------------------------------------------------------------------ manifests


@pytest.fixture(scope="module")
def manifest_blobs(oci: OCIClient, fx: Fixtures) -> Fixtures:
    for blob in (fx.configs[1], fx.layer):
        if oci.head_blob(REPO, blob.digest).status_code != 200:
            oci.ensure_blob(REPO, blob)
    return fx


def test_get_of_invalid_manifest_reference_is_404(oci: OCIClient) -> None:
    response = oci.get_manifest(REPO, INVALID_MANIFEST_NAME)
    assert response.status_code == 404, describe(response)


@pytest.mark.parametrize("tag", ["test0", "test1", "test2", "test3"])
def test_manifest_put_by_tag_is_201_with_location(
    oci: OCIClient, manifest_blobs: Fixtures, tag: str
) -> None:
    response = oci.put_manifest(REPO, tag, manifest_blobs.manifests[1])
    assert response.status_code == 201, describe(response)
    assert response.headers.get("Location"), describe(response)


def test_manifest_without_layers_is_accepted(oci: OCIClient, manifest_blobs: Fixtures) -> None:
    # The legacy suite only warns on rejection; Conveyor accepts layer-less manifests (C4
    # "no-layers"), even without a mediaType field, using the Content-Type.
    manifest = manifest_blobs.empty_layer_manifest
    response = oci.put_manifest(REPO, "emptylayer", manifest, OCI_MANIFEST)
    assert response.status_code == 201, describe(response)
    assert response.headers.get("Location"), describe(response)
    assert oci.get_manifest(REPO, manifest.digest).content == manifest.data


def test_get_of_pushed_manifest_by_digest_is_200(oci: OCIClient, manifest_blobs: Fixtures) -> None:
    manifest = manifest_blobs.manifests[1]
    response = oci.get_manifest(REPO, manifest.digest, accept=OCI_MANIFEST)
    assert response.status_code == 200, describe(response)
    assert response.content == manifest.data


def test_teardown_deletes_manifests_and_blobs(oci: OCIClient, manifest_blobs: Fixtures) -> None:
    fx = manifest_blobs
    for manifest in (fx.manifests[1], fx.empty_layer_manifest):
        response = oci.delete_manifest(REPO, manifest.digest)
        assert response.status_code == 202, describe(response)
    for blob in (fx.configs[1], fx.layer):
        response = oci.delete_blob(REPO, blob.digest)
        assert response.status_code == 202, describe(response)
    for tag in ("test0", "test1", "test2", "test3", "emptylayer"):
        assert oci.get_manifest(REPO, tag).status_code == 404, tag
