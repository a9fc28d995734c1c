"""OCI conformance, Part A.5: content management (deletes), against a real `conveyor serve`.

Conveyor supports manifest, tag and blob deletes, so 202 is required where the legacy suite
also tolerates 400/405, and a deleted manifest must be gone (the suite tolerates 200 only for
registries with deletes disabled).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.e2e.oci_client import (
    Fixtures,
    OCIClient,
    describe,
    image_config,
    image_manifest,
    random_digest,
    tar_layer,
)
from tests.support.conveyor_server import ConveyorServer

REPO = "conformance/repo1"


@pytest.fixture(scope="module")
def oci(conveyor_server: ConveyorServer) -> Iterator[OCIClient]:
    with OCIClient.for_server(conveyor_server) as client:
        yield client


@dataclass
class Setup:
    fx: Fixtures
    num_tags: int


@pytest.fixture(scope="module")
def setup(oci: OCIClient) -> Setup:
    fx = Fixtures.build()
    for blob in (fx.configs[3], fx.layer):
        oci.ensure_blob(REPO, blob)
    oci.ensure_manifest(REPO, "tagtest0", fx.manifests[3])
    # In the legacy run the repository still holds other workflows' tags; one unrelated tag
    # here keeps "numTags - 1" meaningful (it must stay listed after the delete).
    keep_config, keep_layer = image_config(), tar_layer({"keep.txt": b"keep"})
    for blob in (keep_config, keep_layer):
        oci.ensure_blob(REPO, blob)
    oci.ensure_manifest(REPO, "keep", image_manifest(keep_config, [keep_layer]))
    listed = oci.list_tags(REPO)
    assert listed.status_code == 200, describe(listed)
    return Setup(fx, len(listed.json()["tags"]))


def test_delete_by_tag_is_202(oci: OCIClient, setup: Setup) -> None:
    response = oci.delete_manifest(REPO, "tagtest0")
    assert response.status_code == 202, describe(response)


def test_deleted_tag_is_gone(oci: OCIClient, setup: Setup) -> None:
    response = oci.get_manifest(REPO, "tagtest0")
    assert response.status_code == 404, describe(response)


def test_delete_by_digest_is_202_or_404_if_already_gone(oci: OCIClient, setup: Setup) -> None:
    response = oci.delete_manifest(REPO, setup.fx.manifests[3].digest)
    # 404 is the spec's allowance for a tag delete that already removed the manifest.
    assert response.status_code in (202, 404), describe(response)


def test_deleted_manifest_is_404(oci: OCIClient, setup: Setup) -> None:
    response = oci.get_manifest(REPO, setup.fx.manifests[3].digest)
    assert response.status_code == 404, describe(response)


def test_tag_list_has_one_tag_less(oci: OCIClient, setup: Setup) -> None:
    response = oci.list_tags(REPO)
    assert response.status_code == 200, describe(response)
    tags = response.json()["tags"]
    assert len(tags) == setup.num_tags - 1, tags
    assert "tagtest0" not in tags
    assert "keep" in tags


def test_other_tags_survive_the_delete(oci: OCIClient, setup: Setup) -> None:
    response = oci.get_manifest(REPO, "keep")
    assert response.status_code == 200, describe(response)


@pytest.mark.parametrize("which", ["config", "layer"])
def test_blob_delete_is_202(oci: OCIClient, setup: Setup, which: str) -> None:
    blob = setup.fx.configs[3] if which == "config" else setup.fx.layer
    response = oci.delete_blob(REPO, blob.digest)
    assert response.status_code == 202, describe(response)


def test_deleted_blob_is_404(oci: OCIClient, setup: Setup) -> None:
    response = oci.get_blob(REPO, setup.fx.configs[3].digest)
    assert response.status_code == 404, describe(response)


def test_delete_of_missing_blob_is_404(oci: OCIClient, setup: Setup) -> None:
    response = oci.delete_blob(REPO, random_digest())
    assert response.status_code == 404, describe(response)


def test_delete_of_missing_manifest_is_404(oci: OCIClient, setup: Setup) -> None:
    response = oci.delete_manifest(REPO, random_digest())
    assert response.status_code == 404, describe(response)


def test_delete_in_missing_repository_is_404(oci: OCIClient, setup: Setup) -> None:
    response = oci.delete_manifest("conformance/never-pushed", random_digest())
    assert response.status_code == 404, describe(response)
