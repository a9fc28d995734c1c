"""Manifests and indexes: GET and HEAD (OCI and Docker types), PUT by tag or digest."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import httpx

from conveyor.client.challenge import pull, push
from conveyor.client.errors import IntegrityError, NotFoundError
from conveyor.client.transport import Call, Transport
from conveyor.oci import mediatypes
from conveyor.oci.digest import Digest, DigestError

ACCEPT: Final = (
    mediatypes.OCI_MANIFEST,
    mediatypes.OCI_INDEX,
    mediatypes.DOCKER_MANIFEST,
    mediatypes.DOCKER_MANIFEST_LIST,
)
MAX_MANIFEST_BYTES: Final = 4 * 1024 * 1024  # distribution's limit too


@dataclass(frozen=True, slots=True)
class ManifestBlob:
    """A manifest exactly as the registry holds it: its bytes, media type and digest."""

    body: bytes
    media_type: str
    digest: Digest


@dataclass(frozen=True, slots=True)
class ManifestInfo:
    """What a HEAD tells of a manifest."""

    digest: Digest
    media_type: str
    size: int


def accept_header(extra: Sequence[str] = ()) -> str:
    return ", ".join(dict.fromkeys([*extra, *ACCEPT]))


async def get_manifest(
    transport: Transport, repository: str, reference: str, accept: Sequence[str] = ()
) -> ManifestBlob:
    call = Call(
        "GET",
        f"/v2/{repository}/manifests/{reference}",
        (pull(repository),),
        f"GET manifest {repository}:{reference}",
        headers={"Accept": accept_header(accept)},
    )
    response = await transport.request(call, ok={200})
    body = response.content
    if len(body) > MAX_MANIFEST_BYTES:
        raise IntegrityError(f"{call.what}: manifest larger than {MAX_MANIFEST_BYTES} bytes")
    digest = _verified_digest(body, reference, response.headers, call.what)
    return ManifestBlob(body, _media_type(response.headers, body), digest)


async def head_manifest(
    transport: Transport, repository: str, reference: str
) -> ManifestInfo | None:
    """None when the registry has no such manifest or tag."""
    call = Call(
        "HEAD",
        f"/v2/{repository}/manifests/{reference}",
        (pull(repository),),
        f"HEAD manifest {repository}:{reference}",
        headers={"Accept": accept_header()},
    )
    try:
        response = await transport.request(call, ok={200})
    except NotFoundError:
        return None
    header = response.headers.get("docker-content-digest")
    if header is None:  # some registries leave it out of HEAD: read the manifest instead
        blob = await get_manifest(transport, repository, reference)
        return ManifestInfo(blob.digest, blob.media_type, len(blob.body))
    digest = _parse_digest(header, call.what)
    size = int(response.headers.get("content-length", "0") or 0)
    content_type = response.headers.get("content-type", "").split(";")[0].strip()
    return ManifestInfo(digest, content_type, size)


async def put_manifest(
    transport: Transport, repository: str, reference: str, manifest: ManifestBlob
) -> Digest:
    call = Call(
        "PUT",
        f"/v2/{repository}/manifests/{reference}",
        (push(repository),),
        f"PUT manifest {repository}:{reference}",
        headers={"Content-Type": manifest.media_type},
        content=manifest.body,
    )
    response = await transport.request(call, ok={200, 201, 202})
    header = response.headers.get("docker-content-digest")
    if header and _parse_digest(header, call.what) != manifest.digest:
        raise IntegrityError(f"{call.what}: the registry stored it as {header}")
    return manifest.digest


def _verified_digest(body: bytes, reference: str, headers: httpx.Headers, what: str) -> Digest:
    """The body's digest, checked against the reference (when a digest) or the header."""
    expected_text = reference if ":" in reference else headers.get("docker-content-digest")
    if not expected_text:
        return Digest.of(body)
    expected = _parse_digest(expected_text, what)
    actual = Digest.of(body, expected.algorithm)
    if actual != expected:
        raise IntegrityError(f"{what}: the body hashes to {actual}, not {expected}")
    return actual


def _media_type(headers: httpx.Headers, body: bytes) -> str:
    header = str(headers.get("content-type", "")).split(";")[0].strip()
    if header in mediatypes.MANIFEST_TYPES:
        return header
    declared: object
    try:
        declared = json.loads(body).get("mediaType")
    except (ValueError, AttributeError):
        declared = None
    if isinstance(declared, str) and declared:
        return declared
    return header or mediatypes.OCI_MANIFEST


def _parse_digest(text: str, what: str) -> Digest:
    try:
        return Digest.parse(text.strip())
    except DigestError as exc:
        raise IntegrityError(f"{what}: {exc}") from None
