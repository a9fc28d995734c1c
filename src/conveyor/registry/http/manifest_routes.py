"""/v2/<name>/manifests/<reference>: pull, push and delete."""

from __future__ import annotations

from starlette.responses import Response

from conveyor.oci.digest import Digest
from conveyor.registry import manifests
from conveyor.registry.http.handling import Handling
from conveyor.registry.http.responses import API_VERSION_HEADER


async def get_manifest(h: Handling, reference_text: str) -> Response:
    await h.require("pull")
    reference = manifests.parse_reference(reference_text)
    stored = await manifests.resolve(h.ctx, h.name, reference)
    headers = {
        **API_VERSION_HEADER,
        "Docker-Content-Digest": stored.digest,
        "Content-Length": str(stored.size),
    }
    if h.request.method == "HEAD":
        return Response(b"", headers=headers, media_type=stored.media_type)
    body = await manifests.read_content(h.ctx, stored)
    return Response(body, headers=headers, media_type=stored.media_type)


async def put_manifest(h: Handling, reference_text: str) -> Response:
    await h.require("pull", "push")
    reference = manifests.parse_reference(reference_text, for_write=True)
    body = await h.read_limited(h.ctx.limits.max_manifest_bytes)
    result = await manifests.push(
        h.ctx,
        h.name,
        reference,
        body,
        h.request.headers.get("content-type"),
        h.request.query_params.getlist("tag"),
        h.caller.identity,
    )
    headers = {
        **API_VERSION_HEADER,
        "Location": f"/v2/{h.name}/manifests/{result.digest}",
        "Docker-Content-Digest": str(result.digest),
        "Content-Length": "0",
    }
    if result.subject:
        headers["OCI-Subject"] = result.subject
    if isinstance(reference, Digest) and result.tags:
        headers["OCI-Tag"] = ",".join(result.tags)
    return Response(b"", status_code=201, headers=headers)


async def delete_manifest(h: Handling, reference_text: str) -> Response:
    await h.require("delete")
    reference = manifests.parse_reference(reference_text)
    await manifests.delete_reference(h.ctx, h.name, reference, h.caller.identity)
    return Response(b"", status_code=202, headers={**API_VERSION_HEADER, "Content-Length": "0"})
