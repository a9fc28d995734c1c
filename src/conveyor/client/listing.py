"""Paginated listings: tags, the catalog, and referrers (with the tag-schema fallback)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Final

import httpx

from conveyor.client.challenge import CATALOG, Scope, pull
from conveyor.client.errors import IntegrityError, NotFoundError
from conveyor.client.manifests import get_manifest
from conveyor.client.transport import Call, Transport
from conveyor.oci import mediatypes
from conveyor.oci.digest import Digest
from conveyor.oci.manifest import Descriptor, ManifestError, parse_manifest

MAX_PAGES: Final = 100_000
_NEXT = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?', re.IGNORECASE)


async def list_tags(
    transport: Transport, repository: str, page_size: int | None = None
) -> list[str]:
    pages = _pages(
        transport,
        f"/v2/{repository}/tags/list",
        (pull(repository),),
        f"GET tags {repository}",
        page_size,
    )
    return [name for doc in [d async for d in pages] for name in _strings(doc, "tags")]


async def list_repositories(transport: Transport, page_size: int | None = None) -> list[str]:
    pages = _pages(transport, "/v2/_catalog", (CATALOG,), "GET catalog", page_size)
    return [name for doc in [d async for d in pages] for name in _strings(doc, "repositories")]


async def list_referrers(
    transport: Transport, repository: str, digest: Digest, artifact_type: str | None = None
) -> list[Descriptor]:
    """Manifests whose subject is `digest`; registries without the API are asked by tag schema."""
    params = [("artifactType", artifact_type)] if artifact_type else []
    url = f"/v2/{repository}/referrers/{digest}"
    what = f"GET referrers {repository}@{digest}"
    try:
        docs = [d async for d in _pages(transport, url, (pull(repository),), what, None, params)]
        bodies = [_as_index(doc, what) for doc in docs]
    except NotFoundError:
        bodies = await _tag_schema(transport, repository, digest)
    found = [child for index in bodies for child in index]
    if artifact_type:
        found = [d for d in found if d.artifact_type == artifact_type]
    return found


async def _tag_schema(
    transport: Transport, repository: str, digest: Digest
) -> list[tuple[Descriptor, ...]]:
    try:
        blob = await get_manifest(transport, repository, f"{digest.algorithm}-{digest.encoded}")
    except NotFoundError:
        return []
    try:
        return [parse_manifest(blob.body, blob.media_type).children]
    except ManifestError as exc:
        raise IntegrityError(f"referrers tag of {digest}: {exc}") from None


async def _pages(
    transport: Transport,
    url: str,
    scopes: tuple[Scope, ...],
    what: str,
    page_size: int | None,
    params: list[tuple[str, str]] | None = None,
) -> AsyncIterator[dict[str, object]]:
    """Each page's JSON object, following `Link: <...>; rel="next"` to the last page."""
    query = [*(params or []), *([("n", str(page_size))] if page_size else [])]
    seen: set[str] = set()
    next_url: str | None = url
    while next_url is not None:
        if next_url in seen or len(seen) >= MAX_PAGES:
            raise IntegrityError(f"{what}: the pages loop")
        seen.add(next_url)
        response = await transport.request(
            Call("GET", next_url, scopes, what, params=query), ok={200}
        )
        query = []  # the next link carries its own query
        next_url = _next_link(response)
        yield _json_object(response, what)


def _next_link(response: httpx.Response) -> str | None:
    match = _NEXT.search(response.headers.get("link", ""))
    return str(response.request.url.join(match.group(1))) if match else None


def _json_object(response: httpx.Response, what: str) -> dict[str, object]:
    try:
        doc = response.json()
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        raise IntegrityError(f"{what}: the registry did not answer a JSON object")
    return doc


def _strings(doc: dict[str, object], key: str) -> list[str]:
    values = doc.get(key) or []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise IntegrityError(f"the registry's {key} list is not a list of strings")
    return [str(v) for v in values]


def _as_index(doc: dict[str, object], what: str) -> tuple[Descriptor, ...]:
    try:
        return parse_manifest(json.dumps(doc).encode(), mediatypes.OCI_INDEX).children
    except ManifestError as exc:
        raise IntegrityError(f"{what}: {exc}") from None
