"""OCI conformance, Part A.2: the pull workflow, against a real `conveyor serve`.

Setup pushes configs[0], configs[1] and the layer, manifests[0] as `tagtest0` and manifests[1]
by digest; the tests pull them back; the last test is the workflow's teardown (deletes).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.oci_client import (
    DCD,
    DUMMY_DIGEST,
    INVALID_MANIFEST_CONTENT,
    INVALID_MANIFEST_NAME,
    OCI_MANIFEST,
    SPEC_ERROR_CODES,
    Fixtures,
    OCIClient,
    describe,
    error_codes,
)
from tests.support.conveyor_server import ConveyorServer

REPO = "conformance/repo1"


@pytest.fixture(scope="module")
def oci(conveyor_server: ConveyorServer) -> Iterator[OCIClient]:
    with OCIClient.for_server(conveyor_server) as client:
        yield client


@pytest.fixture(scope="module")
def fx(oci: OCIClient) -> Fixtures:
    """The pull workflow's setup (S1-S5); every step must succeed."""
    fixtures = Fixtures.build()
    for blob in (fixtures.configs[0], fixtures.configs[1], fixtures.layer):
        oci.ensure_blob(REPO, blob)
    oci.ensure_manifest(REPO, "tagtest0", fixtures.manifests[0])
    oci.ensure_manifest(REPO, fixtures.manifests[1].digest, fixtures.manifests[1])
    return fixtures


def test_head_of_unknown_blob_is_404(oci: OCIClient, fx: Fixtures) -> None:
    response = oci.head_blob(REPO, DUMMY_DIGEST)
    assert response.status_code == 404, describe(response)


def test_head_of_pushed_blob_is_200_with_digest_and_length(oci: OCIClient, fx: Fixtures) -> None:
    config = fx.configs[0]
    response = oci.head_blob(REPO, config.digest)
    assert response.status_code == 200, describe(response)
    # B.3 makes Docker-Content-Digest a MUST; the legacy suite only checks it when present.
    assert response.headers.get(DCD) == config.digest, describe(response)
    assert response.headers.get("Content-Length") == str(config.size), describe(response)
    assert response.content == b""


def test_get_of_unknown_blob_is_404(oci: OCIClient, fx: Fixtures) -> None:
    response = oci.get_blob(REPO, DUMMY_DIGEST)
    assert response.status_code == 404, describe(response)


def test_get_of_pushed_blob_returns_its_bytes(oci: OCIClient, fx: Fixtures) -> None:
    config = fx.configs[0]
    response = oci.get_blob(REPO, config.digest)
    assert response.status_code == 200, describe(response)
    assert response.content == config.data
    assert response.headers.get(DCD) == config.digest, describe(response)


def test_head_of_invalid_manifest_reference_is_404(oci: OCIClient, fx: Fixtures) -> None:
    response = oci.head_manifest(REPO, INVALID_MANIFEST_NAME)
    assert response.status_code == 404, describe(response)


@pytest.mark.parametrize("index", [0, 1], ids=["pushed-by-tag", "pushed-by-digest"])
def test_head_of_manifest_by_digest_is_200_with_digest(
    oci: OCIClient, fx: Fixtures, index: int
) -> None:
    manifest = fx.manifests[index]
    response = oci.head_manifest(REPO, manifest.digest, accept=OCI_MANIFEST)
    assert response.status_code == 200, describe(response)
    assert response.headers.get(DCD) == manifest.digest, describe(response)
    assert response.headers.get("Content-Length") == str(manifest.size), describe(response)
    assert response.content == b""


def test_head_of_manifest_by_tag_gives_its_digest(oci: OCIClient, fx: Fixtures) -> None:
    response = oci.head_manifest(REPO, "tagtest0")
    assert response.status_code == 200, describe(response)
    assert response.headers.get(DCD) == fx.manifests[0].digest, describe(response)


def test_get_of_invalid_manifest_reference_is_404(oci: OCIClient, fx: Fixtures) -> None:
    response = oci.get_manifest(REPO, INVALID_MANIFEST_NAME)
    assert response.status_code == 404, describe(response)


@pytest.mark.parametrize("index", [0, 1], ids=["pushed-by-tag", "pushed-by-digest"])
def test_get_of_manifest_by_digest_returns_exact_bytes(
    oci: OCIClient, fx: Fixtures, index: int
) -> None:
    manifest = fx.manifests[index]
    response = oci.get_manifest(REPO, manifest.digest, accept=OCI_MANIFEST)
    assert response.status_code == 200, describe(response)
    assert response.content == manifest.data
    assert response.headers.get("Content-Type") == OCI_MANIFEST, describe(response)
    assert response.headers.get(DCD) == manifest.digest, describe(response)


def test_get_of_manifest_by_tag_returns_exact_bytes(oci: OCIClient, fx: Fixtures) -> None:
    response = oci.get_manifest(REPO, "tagtest0")
    assert response.status_code == 200, describe(response)
    assert response.content == fx.manifests[0].data
    assert response.headers.get(DCD) == fx.manifests[0].digest, describe(response)


def test_get_of_malformed_digest_is_400_or_404_with_spec_error(
    oci: OCIClient, fx: Fixtures
) -> None:
    # The legacy suite oddly sends a body and a manifest Content-Type with this GET.
    response = oci.request(
        "GET",
        oci.manifest_path(REPO, "sha256:totallywrong"),
        content=INVALID_MANIFEST_CONTENT,
        headers={"Content-Type": OCI_MANIFEST},
    )
    assert response.status_code in (400, 404), describe(response)
    if response.status_code == 400:
        codes = error_codes(response)
        assert codes, describe(response)
        # Our check is stricter than the legacy one: an empty code does not pass.
        assert codes[0] in SPEC_ERROR_CODES, describe(response)


def test_teardown_deletes_manifests_then_blobs(oci: OCIClient, fx: Fixtures) -> None:
    # Conveyor supports deletes, so 202 (not the tolerated 405) is required.
    for manifest in fx.manifests[:2]:
        response = oci.delete_manifest(REPO, manifest.digest)
        assert response.status_code == 202, describe(response)
    for blob in (fx.configs[0], fx.configs[1], fx.layer):
        response = oci.delete_blob(REPO, blob.digest)
        assert response.status_code == 202, describe(response)
    for manifest in fx.manifests[:2]:
        assert oci.get_manifest(REPO, manifest.digest).status_code == 404
    assert oci.get_manifest(REPO, "tagtest0").status_code == 404
    assert oci.head_blob(REPO, fx.configs[0].digest).status_code == 404
