"""Parsing and validation of image manifests and indexes (OCI and Docker schema 2)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from conveyor.oci import mediatypes
from conveyor.oci.digest import Digest, DigestError


class ManifestError(ValueError):
    """A manifest body that cannot be accepted; the message says why."""


@dataclass(frozen=True, slots=True)
class Descriptor:
    media_type: str
    digest: Digest
    size: int
    artifact_type: str | None = None
    annotations: dict[str, str] | None = None
    platform: dict[str, Any] | None = None
    urls: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": str(self.digest),
            "size": self.size,
        }
        if self.artifact_type:
            doc["artifactType"] = self.artifact_type
        if self.annotations:
            doc["annotations"] = self.annotations
        if self.platform:
            doc["platform"] = self.platform
        return doc


@dataclass(frozen=True, slots=True)
class Manifest:
    media_type: str
    config: Descriptor | None
    layers: tuple[Descriptor, ...] = ()
    children: tuple[Descriptor, ...] = ()
    subject: Descriptor | None = None
    artifact_type: str | None = None
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def is_index(self) -> bool:
        return self.media_type in mediatypes.INDEXES

    def blob_references(self) -> list[Descriptor]:
        """Blobs that must exist in the repository; foreign (non-distributable) layers excluded."""
        refs = [self.config] if self.config else []
        refs.extend(layer for layer in self.layers if not layer.urls)
        return refs

    def effective_artifact_type(self) -> str | None:
        """The artifactType a referrers list reports: the field, else the config media type."""
        if self.artifact_type:
            return self.artifact_type
        if self.config is not None and self.config.media_type != mediatypes.OCI_EMPTY:
            return self.config.media_type
        return None


def parse_manifest(body: bytes, content_type: str | None) -> Manifest:
    doc = _load_object(body)
    if doc.get("schemaVersion") != 2:
        raise ManifestError("schemaVersion must be 2")
    media_type = _decide_media_type(doc, content_type)
    subject = _descriptor(doc["subject"], "subject") if "subject" in doc else None
    artifact_type = _optional_str(doc, "artifactType")
    annotations = _annotations(doc.get("annotations"), "annotations")
    if media_type in mediatypes.INDEXES:
        children = _descriptor_list(doc.get("manifests"), "manifests")
        return Manifest(media_type, None, (), children, subject, artifact_type, annotations)
    if "config" not in doc:
        raise ManifestError("an image manifest needs a config descriptor")
    config = _descriptor(doc["config"], "config")
    layers = _descriptor_list(doc.get("layers", []), "layers")
    return Manifest(media_type, config, layers, (), subject, artifact_type, annotations)


def _load_object(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"manifest is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise ManifestError("manifest must be a JSON object")
    return doc


def _decide_media_type(doc: dict[str, Any], content_type: str | None) -> str:
    declared = doc.get("mediaType")
    header = (content_type or "").split(";")[0].strip()
    if declared is not None and not isinstance(declared, str):
        raise ManifestError("mediaType must be a string")
    if header in mediatypes.MANIFEST_TYPES:
        if declared and declared != header:
            raise ManifestError(f"mediaType {declared!r} differs from Content-Type {header!r}")
        return header
    if declared in mediatypes.MANIFEST_TYPES:
        return declared
    if declared:
        raise ManifestError(f"unsupported manifest media type {declared!r}")
    if header:
        raise ManifestError(f"unsupported manifest media type {header!r}")
    return mediatypes.OCI_INDEX if "manifests" in doc else mediatypes.OCI_MANIFEST


def _descriptor_list(value: Any, where: str) -> tuple[Descriptor, ...]:
    if not isinstance(value, list):
        raise ManifestError(f"{where} must be a list")
    return tuple(_descriptor(item, f"{where}[{i}]") for i, item in enumerate(value))


def _descriptor(value: Any, where: str) -> Descriptor:
    if not isinstance(value, dict):
        raise ManifestError(f"{where} must be a descriptor object")
    media_type = value.get("mediaType")
    if not isinstance(media_type, str) or not media_type:
        raise ManifestError(f"{where}.mediaType must be a non-empty string")
    size = value.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ManifestError(f"{where}.size must be a non-negative integer")
    try:
        digest = Digest.parse(str(value.get("digest", "")))
    except DigestError as exc:
        raise ManifestError(f"{where}.digest: {exc}") from None
    urls = value.get("urls") or []
    if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
        raise ManifestError(f"{where}.urls must be a list of strings")
    platform = value.get("platform")
    if platform is not None and not isinstance(platform, dict):
        raise ManifestError(f"{where}.platform must be an object")
    return Descriptor(
        media_type,
        digest,
        size,
        _optional_str(value, "artifactType"),
        _annotations(value.get("annotations"), f"{where}.annotations") or None,
        platform,
        tuple(urls),
    )


def _optional_str(doc: dict[str, Any], key: str) -> str | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ManifestError(f"{key} must be a string")
    return value


def _annotations(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ManifestError(f"{where} must map strings to strings")
    return dict(value)
