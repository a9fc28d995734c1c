"""OCI conformance, Part A.4: content discovery (tag listing and referrers).

The setup pushes manifests[2] under test0..test3, then the referrers in the suite's exact order:
three referrers before their subject (manifests[4]) exists, the subject, then three more, one of
which (C-layer) points at the never-pushed manifests[3]. The PUT responses are kept so the tests
can check the `OCI-Subject` header each one must carry.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.e2e.oci_client import (
    ANNOTATION,
    DUMMY_DIGEST,
    EMPTY_JSON_DIGEST,
    OCI_EMPTY,
    OCI_INDEX,
    REF_TYPE_A,
    Fixtures,
    Manifest,
    OCIClient,
    describe,
)
from tests.support.conveyor_server import ConveyorServer

REPO = "conformance/repo1"
TAGS = ["test0", "test1", "test2", "test3"]


@pytest.fixture(scope="module")
def oci(conveyor_server: ConveyorServer) -> Iterator[OCIClient]:
    with OCIClient.for_server(conveyor_server) as client:
        yield client


@dataclass
class Setup:
    fx: Fixtures
    subject_puts: dict[str, httpx.Response] = field(default_factory=dict)


@pytest.fixture(scope="module")
def setup(oci: OCIClient) -> Setup:
    fx = Fixtures.build()
    refs = fx.referrers
    done = Setup(fx)
    # D1, D2
    for blob in (fx.configs[2], fx.layer):
        oci.ensure_blob(REPO, blob)
    for tag in TAGS:
        oci.ensure_manifest(REPO, tag, fx.manifests[2])
    # D3, in order: referrers pushed before their subject exists ...
    assert refs.empty_json.digest == EMPTY_JSON_DIGEST
    assert refs.empty_json.media_type == OCI_EMPTY and refs.empty_json.size == 2
    oci.ensure_blob(REPO, refs.empty_json)
    oci.ensure_blob(REPO, refs.blob_a)
    for name, manifest in (("A-config", refs.a_config), ("A-layer", refs.a_layer)):
        done.subject_puts[name] = oci.ensure_manifest(REPO, manifest.digest, manifest)
    done.subject_puts["index"] = oci.ensure_manifest(REPO, refs.index.digest, refs.index)
    # ... then the subject ...
    for blob in (fx.configs[4], fx.layer):
        oci.ensure_blob(REPO, blob)
    oci.ensure_manifest(REPO, "tagtest0", fx.manifests[4])
    # ... then the referrers pushed after it, and one whose subject never exists.
    oci.ensure_blob(REPO, refs.blob_b)
    for name, manifest in (
        ("B-config", refs.b_config),
        ("B-layer", refs.b_layer),
        ("C-layer", refs.c_layer),
    ):
        done.subject_puts[name] = oci.ensure_manifest(REPO, manifest.digest, manifest)
    return done


def index_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, describe(response)
    assert response.headers.get("Content-Type") == OCI_INDEX, describe(response)
    body = response.json()
    assert body.get("schemaVersion") == 2, body
    assert body.get("mediaType") == OCI_INDEX, body
    assert isinstance(body.get("manifests"), list), body
    return dict(body)


def digests(index: dict[str, Any]) -> list[str]:
    return [entry["digest"] for entry in index["manifests"]]


# ------------------------------------------------------------------ OCI-Subject on push


@pytest.mark.parametrize("name", ["A-config", "A-layer", "index"])
def test_referrer_pushed_before_its_subject_gets_oci_subject(setup: Setup, name: str) -> None:
    response = setup.subject_puts[name]
    assert response.headers.get("OCI-Subject") == setup.fx.manifests[4].digest, describe(response)


@pytest.mark.parametrize("name", ["B-config", "B-layer"])
def test_referrer_pushed_after_its_subject_gets_oci_subject(setup: Setup, name: str) -> None:
    response = setup.subject_puts[name]
    assert response.headers.get("OCI-Subject") == setup.fx.manifests[4].digest, describe(response)


def test_referrer_of_missing_subject_gets_oci_subject(setup: Setup) -> None:
    response = setup.subject_puts["C-layer"]
    assert response.headers.get("OCI-Subject") == setup.fx.manifests[3].digest, describe(response)


# ------------------------------------------------------------------ tag listing


def test_tag_list_names_the_repository_and_lists_sorted_tags(oci: OCIClient, setup: Setup) -> None:
    response = oci.list_tags(REPO)
    assert response.status_code == 200, describe(response)
    body = response.json()
    assert body["name"] == REPO
    assert {*TAGS, "tagtest0"} <= set(body["tags"])
    assert body["tags"] == sorted(body["tags"])


def test_tag_list_with_n_returns_exactly_n(oci: OCIClient, setup: Setup) -> None:
    everything = oci.list_tags(REPO).json()["tags"]
    half = len(everything) // 2
    response = oci.list_tags(REPO, n=half)
    assert response.status_code == 200, describe(response)
    assert response.json()["tags"] == everything[:half]


def test_tag_list_with_last_continues_strictly_after_it(oci: OCIClient, setup: Setup) -> None:
    everything = oci.list_tags(REPO).json()["tags"]
    k = 2
    first = oci.list_tags(REPO, n=k).json()["tags"]
    response = oci.list_tags(REPO, n=k, last=first[-1])
    assert response.status_code == 200, describe(response)
    page = response.json()["tags"]
    assert page == everything[k : 2 * k]
    assert all(tag > first[-1] for tag in page)


# ------------------------------------------------------------------ referrers


def test_referrers_of_unknown_subject_is_an_empty_index(oci: OCIClient, setup: Setup) -> None:
    index = index_of(oci.referrers(REPO, DUMMY_DIGEST))
    assert index["manifests"] == []


def test_referrers_lists_the_five_referrers_once_each(oci: OCIClient, setup: Setup) -> None:
    index = index_of(oci.referrers(REPO, setup.fx.manifests[4].digest))
    expected = {m.digest for m in setup.fx.referrers.on_subject}
    assert sorted(digests(index)) == sorted(expected)


def test_referrer_descriptors_carry_their_one_annotation(oci: OCIClient, setup: Setup) -> None:
    index = index_of(oci.referrers(REPO, setup.fx.manifests[4].digest))
    notes = {m.digest: m.document["annotations"][ANNOTATION] for m in setup.fx.referrers.on_subject}
    for entry in index["manifests"]:
        assert entry.get("annotations") == {ANNOTATION: notes[entry["digest"]]}, entry


def test_referrer_descriptors_carry_type_size_and_artifact_type(
    oci: OCIClient, setup: Setup
) -> None:
    # A.7 rules; the legacy suite implies them without asserting. Conveyor implements them:
    # artifactType from the manifest, else the config mediaType; the index keeps its own.
    index = index_of(oci.referrers(REPO, setup.fx.manifests[4].digest))
    expected = {m.digest: m.referrer_descriptor() for m in setup.fx.referrers.on_subject}
    for entry in index["manifests"]:
        want = expected[entry["digest"]]
        assert {key: entry.get(key) for key in want} == want, entry


def test_referrers_filtered_by_artifact_type(oci: OCIClient, setup: Setup) -> None:
    refs = setup.fx.referrers
    response = oci.referrers(REPO, setup.fx.manifests[4].digest, artifact_type=REF_TYPE_A)
    index = index_of(response)
    # Filtering is SHOULD in the spec; Conveyor filters, so the header is required.
    assert response.headers.get("OCI-Filters-Applied") == "artifactType", describe(response)
    assert sorted(digests(index)) == sorted([refs.a_config.digest, refs.a_layer.digest])
    notes = {refs.a_config.digest: "test config a", refs.a_layer.digest: "test layer a"}
    for entry in index["manifests"]:
        assert entry.get("annotations") == {ANNOTATION: notes[entry["digest"]]}, entry
        assert entry.get("artifactType") == REF_TYPE_A, entry


def test_referrers_of_missing_subject_lists_its_referrer(oci: OCIClient, setup: Setup) -> None:
    index = index_of(oci.referrers(REPO, setup.fx.manifests[3].digest))
    assert digests(index) == [setup.fx.referrers.c_layer.digest]


def test_referrers_with_malformed_digest_is_400(oci: OCIClient, setup: Setup) -> None:
    response = oci.referrers(REPO, "sha256:not-a-digest")
    assert response.status_code == 400, describe(response)


# ------------------------------------------------------------------ teardown


def test_teardown_deletes_every_manifest_then_the_blobs(oci: OCIClient, setup: Setup) -> None:
    fx, refs = setup.fx, setup.fx.referrers
    manifests: list[Manifest] = [
        refs.index,
        fx.manifests[2],
        fx.manifests[4],
        refs.a_config,
        refs.b_config,
        refs.a_layer,
        refs.b_layer,
        refs.c_layer,
    ]
    for manifest in manifests:
        response = oci.delete_manifest(REPO, manifest.digest)
        assert response.status_code == 202, describe(response)
    for blob in (fx.configs[2], fx.configs[4], fx.layer, refs.blob_a, refs.blob_b, refs.empty_json):
        response = oci.delete_blob(REPO, blob.digest)
        assert response.status_code == 202, describe(response)
    for manifest in manifests:
        assert oci.head_manifest(REPO, manifest.digest).status_code == 404
