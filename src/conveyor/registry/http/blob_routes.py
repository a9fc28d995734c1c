"""/v2/<name>/blobs/...: reads, deletes, uploads and mounts."""

from __future__ import annotations

import re

from starlette.responses import Response

from conveyor.registry import blobs, uploads
from conveyor.registry.errors import RegistryError
from conveyor.registry.http.handling import Handling
from conveyor.registry.http.responses import API_VERSION_HEADER, BlobResponse, parse_range
from conveyor.registry.paths import blob_path

SUPPORTED_ALGORITHMS = ["sha256", "sha512"]
_CONTENT_RANGE = re.compile(r"(?:bytes )?(\d+)-(\d+)(?:/(?:\d+|\*))?")


async def get_blob(h: Handling, digest_text: str) -> Response:
    await h.require("pull")
    digest = blobs.parse_digest(digest_text)
    info = await blobs.linked_blob(h.ctx, h.name, digest)
    byte_range = parse_range(h.request.headers.get("range"), info.size)
    return BlobResponse(
        h.ctx.store,
        blob_path(digest),
        info.size,
        {"Docker-Content-Digest": str(digest)},
        byte_range,
    )


async def delete_blob(h: Handling, digest_text: str) -> Response:
    await h.require("delete")
    digest = blobs.parse_digest(digest_text)
    await blobs.unlink_blob(h.ctx, h.name, digest)
    return _empty(202, {"Docker-Content-Digest": str(digest)})


async def start_upload(h: Handling) -> Response:
    await h.require("pull", "push")
    params = h.request.query_params
    mount = params.get("mount")
    if mount:
        mounted = await _try_mount(h, mount, params.get("from"))
        if mounted is not None:
            return mounted
    algorithm = params.get("digest-algorithm")
    if algorithm is not None and algorithm not in SUPPORTED_ALGORITHMS:
        raise RegistryError(
            "DIGEST_INVALID",
            f"unsupported digest algorithm {algorithm[:40]!r}",
            {"supported": SUPPORTED_ALGORITHMS},
        )
    digest_text = params.get("digest")
    session = await uploads.start_upload(h.ctx, h.name, h.caller.identity.name)
    if digest_text:
        digest = blobs.parse_digest(digest_text)
        try:
            session = await uploads.append(h.ctx, session, h.body())
            info = await uploads.finish(h.ctx, session, digest, h.caller.identity)
        except BaseException:
            await uploads.cancel(h.ctx, session)
            raise
        return _created(h, str(info.digest))
    return _upload_accepted(h, session, 202)


async def upload_status(h: Handling, upload_id: str) -> Response:
    await h.require("pull", "push")
    session = await uploads.get_upload(h.ctx, h.name, upload_id, h.caller.identity.name)
    return _upload_accepted(h, session, 204)


async def patch_upload(h: Handling, upload_id: str) -> Response:
    await h.require("pull", "push")
    session = await uploads.get_upload(h.ctx, h.name, upload_id, h.caller.identity.name)
    start, end = _content_range(h)
    session = await uploads.append(h.ctx, session, h.body(), start, end)
    return _upload_accepted(h, session, 202)


async def put_upload(h: Handling, upload_id: str) -> Response:
    await h.require("pull", "push")
    session = await uploads.get_upload(h.ctx, h.name, upload_id, h.caller.identity.name)
    digest_text = h.request.query_params.get("digest")
    if not digest_text:
        raise RegistryError("DIGEST_INVALID", "the digest query parameter is required")
    digest = blobs.parse_digest(digest_text)
    start, end = _content_range(h)
    session = await uploads.append(h.ctx, session, h.body(), start, end)
    info = await uploads.finish(h.ctx, session, digest, h.caller.identity)
    return _created(h, str(info.digest))


async def cancel_upload(h: Handling, upload_id: str) -> Response:
    await h.require("pull", "push")
    session = await uploads.get_upload(h.ctx, h.name, upload_id, h.caller.identity.name)
    await uploads.cancel(h.ctx, session)
    return _empty(204)


async def _try_mount(h: Handling, mount: str, source: str | None) -> Response | None:
    digest = blobs.parse_digest(mount)
    if source:
        candidates = [source]
    else:
        # Automatic content discovery: any repository holding it that the caller may read.
        async with h.ctx.db.read() as session:
            candidates = await blobs.repositories_holding(session, digest)
    # The source is judged by the caller's own rights, not the token's scope, so a client
    # that asked only for the target repository still gets the mount it may have.
    readable = [c for c in candidates if "pull" in await h.gate.account_actions(h.caller, c)]
    info = await blobs.mount_blob(h.ctx, h.name, digest, readable, h.caller.identity)
    return _created(h, str(info.digest)) if info else None


def _content_range(h: Handling) -> tuple[int | None, int | None]:
    header = h.request.headers.get("content-range")
    if not header:
        return None, None
    match = _CONTENT_RANGE.fullmatch(header.strip())
    if match is None:
        raise RegistryError("RANGE_INVALID", f"malformed Content-Range {header[:60]!r}")
    start, end = int(match.group(1)), int(match.group(2))
    if end < start:
        raise RegistryError("RANGE_INVALID", f"malformed Content-Range {header[:60]!r}")
    return start, end


def _created(h: Handling, digest: str) -> Response:
    return _empty(
        201,
        {
            "Location": f"/v2/{h.name}/blobs/{digest}",
            "Docker-Content-Digest": digest,
        },
    )


def _upload_accepted(h: Handling, session: uploads.UploadSession, status: int) -> Response:
    return _empty(
        status,
        {
            "Location": f"/v2/{h.name}/blobs/uploads/{session.id}",
            "Range": session.range_header,
            "Docker-Upload-UUID": session.id,
        },
    )


def _empty(status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(
        b"",
        status_code=status,
        headers={**API_VERSION_HEADER, **(headers or {}), "Content-Length": "0"},
    )
