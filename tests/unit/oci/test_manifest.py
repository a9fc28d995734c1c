"""Manifest and index parsing: OCI and Docker schema 2, with the validation the spec asks for."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conveyor.oci import mediatypes
from conveyor.oci.digest import Digest
from conveyor.oci.manifest import ManifestError, parse_manifest

CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def descriptor(media_type: str, data: bytes = b"x", **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": str(Digest.of(data)), "size": len(data), **extra}


def image(media_type: str | None = mediatypes.OCI_MANIFEST, **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "schemaVersion": 2,
        "config": descriptor(CONFIG_TYPE, b"{}"),
        "layers": [descriptor(LAYER_TYPE, b"layer")],
        **extra,
    }
    if media_type:
        doc["mediaType"] = media_type
    return doc


def index(media_type: str = mediatypes.OCI_INDEX, **extra: Any) -> dict[str, Any]:
    child = descriptor(mediatypes.OCI_MANIFEST, b"child", platform={"os": "linux"})
    return {"schemaVersion": 2, "mediaType": media_type, "manifests": [child], **extra}


def parse(doc: Any, content_type: str | None = None) -> Any:
    return parse_manifest(json.dumps(doc).encode(), content_type)


def test_oci_manifest() -> None:
    manifest = parse(image(), mediatypes.OCI_MANIFEST)
    assert manifest.media_type == mediatypes.OCI_MANIFEST
    assert not manifest.is_index
    assert manifest.config.digest == Digest.of(b"{}")
    assert [layer.size for layer in manifest.layers] == [5]


def test_oci_index() -> None:
    manifest = parse(index(), mediatypes.OCI_INDEX)
    assert manifest.is_index
    assert manifest.config is None
    assert manifest.children[0].platform == {"os": "linux"}
    assert manifest.blob_references() == []


def test_docker_schema2_manifest() -> None:
    doc = image(mediatypes.DOCKER_MANIFEST)
    doc["config"] = descriptor(DOCKER_CONFIG, b"{}")
    doc["layers"] = [descriptor(DOCKER_LAYER, b"layer")]
    manifest = parse(doc, mediatypes.DOCKER_MANIFEST)
    assert manifest.media_type == mediatypes.DOCKER_MANIFEST
    assert len(manifest.blob_references()) == 2


def test_docker_manifest_list() -> None:
    manifest = parse(index(mediatypes.DOCKER_MANIFEST_LIST), mediatypes.DOCKER_MANIFEST_LIST)
    assert manifest.is_index
    assert manifest.media_type == mediatypes.DOCKER_MANIFEST_LIST


def test_media_type_from_body_when_no_content_type() -> None:
    assert parse(image()).media_type == mediatypes.OCI_MANIFEST


def test_content_type_with_parameters_is_accepted() -> None:
    manifest = parse(image(), mediatypes.OCI_MANIFEST + "; charset=utf-8")
    assert manifest.media_type == mediatypes.OCI_MANIFEST


def test_content_type_differing_from_media_type_is_rejected() -> None:
    with pytest.raises(ManifestError, match="differs"):
        parse(image(mediatypes.OCI_MANIFEST), mediatypes.DOCKER_MANIFEST)


def test_unsupported_media_type_is_rejected() -> None:
    with pytest.raises(ManifestError, match="unsupported"):
        parse(image("application/vnd.example+json"))


def test_image_manifest_without_config_is_rejected() -> None:
    doc = image()
    del doc["config"]
    with pytest.raises(ManifestError, match="config"):
        parse(doc, mediatypes.OCI_MANIFEST)


def test_schema_version_must_be_2() -> None:
    with pytest.raises(ManifestError, match="schemaVersion"):
        parse(image(schemaVersion=1))


@pytest.mark.parametrize("size", [-1, True, "5", 1.5, None])
def test_bad_descriptor_size_is_rejected(size: Any) -> None:
    doc = image()
    doc["layers"][0]["size"] = size
    with pytest.raises(ManifestError, match=r"layers\[0\]\.size"):
        parse(doc)


@pytest.mark.parametrize("digest", ["sha256:abc", "nope", "", "sha256:" + "A" * 64])
def test_bad_descriptor_digest_is_rejected(digest: str) -> None:
    doc = image()
    doc["config"]["digest"] = digest
    with pytest.raises(ManifestError, match=r"config\.digest"):
        parse(doc)


def test_descriptor_without_media_type_is_rejected() -> None:
    doc = image()
    del doc["layers"][0]["mediaType"]
    with pytest.raises(ManifestError, match="mediaType"):
        parse(doc)


def test_layers_must_be_a_list() -> None:
    with pytest.raises(ManifestError, match="layers must be a list"):
        parse(image(layers={}))


@pytest.mark.parametrize("doc", [[], "manifest", 2, None])
def test_non_object_json_is_rejected(doc: Any) -> None:
    with pytest.raises(ManifestError, match="JSON object"):
        parse(doc)


@pytest.mark.parametrize("body", [b"{", b"", b"\xff\xfe"])
def test_invalid_json_is_rejected(body: bytes) -> None:
    with pytest.raises(ManifestError, match="not valid JSON"):
        parse_manifest(body, mediatypes.OCI_MANIFEST)


def test_unknown_fields_are_kept_out_of_the_way() -> None:
    doc = image(somethingNew={"a": 1})
    doc["layers"][0]["futureField"] = True
    manifest = parse(doc)
    assert len(manifest.layers) == 1


def test_foreign_layers_with_urls_are_not_blob_references() -> None:
    foreign = descriptor(LAYER_TYPE, b"foreign", urls=["https://example.com/layer"])
    doc = image()
    doc["layers"].append(foreign)
    manifest = parse(doc)
    assert len(manifest.layers) == 2
    refs = manifest.blob_references()
    assert Digest.of(b"foreign") not in [ref.digest for ref in refs]
    assert [ref.digest for ref in refs] == [Digest.of(b"{}"), Digest.of(b"layer")]


def test_urls_must_be_strings() -> None:
    doc = image()
    doc["layers"][0]["urls"] = [1]
    with pytest.raises(ManifestError, match="urls"):
        parse(doc)


def test_subject_is_parsed() -> None:
    subject = descriptor(mediatypes.OCI_MANIFEST, b"subject")
    manifest = parse(image(subject=subject))
    assert manifest.subject is not None
    assert manifest.subject.digest == Digest.of(b"subject")
    assert manifest.subject.size == len(b"subject")


def test_bad_subject_is_rejected() -> None:
    with pytest.raises(ManifestError, match="subject"):
        parse(image(subject="sha256:abc"))


def test_index_with_subject() -> None:
    subject = descriptor(mediatypes.OCI_MANIFEST, b"subject")
    assert parse(index(subject=subject)).subject is not None


def test_annotations_must_map_strings_to_strings() -> None:
    assert parse(image(annotations={"a": "b"})).annotations == {"a": "b"}
    with pytest.raises(ManifestError, match="annotations"):
        parse(image(annotations={"a": 1}))


def test_artifact_type_field_wins() -> None:
    manifest = parse(image(artifactType="application/vnd.example.sbom"))
    assert manifest.effective_artifact_type() == "application/vnd.example.sbom"


def test_artifact_type_falls_back_to_config_media_type() -> None:
    assert parse(image()).effective_artifact_type() == CONFIG_TYPE


def test_empty_config_gives_no_artifact_type() -> None:
    doc = image()
    doc["config"] = descriptor(mediatypes.OCI_EMPTY, b"{}")
    assert parse(doc).effective_artifact_type() is None


def test_index_artifact_type_only_from_field() -> None:
    assert parse(index()).effective_artifact_type() is None
    assert parse(index(artifactType="x/y")).effective_artifact_type() == "x/y"


def test_artifact_type_must_be_a_string() -> None:
    with pytest.raises(ManifestError, match="artifactType"):
        parse(image(artifactType=5))
