"""Scan reports, SBOMs and the vulnerability database over the REST API.

* GET  /api/v1/repositories/{ns}/{repo}/tags/{tag}/scan[?format=cyclonedx]   (pull)
* POST /api/v1/scans {"image": "ns/repo:tag" | "ns/repo@sha256:...", "refresh": false}  (pull)
* GET  /api/v1/vulndb                                                         (signed in)
* POST /api/v1/vulndb/import   body: a tar archive (plain or gzip) of data files  (admin)
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from conveyor.auth.identity import Identity
from conveyor.oci.digest import Digest, DigestError
from conveyor.oci.reference import is_valid_name, is_valid_tag
from conveyor.registry.errors import RegistryError
from conveyor.scan.errors import ScanError
from conveyor.scan.service import image_sbom, scan_image
from conveyor.scan.vulndb.files import DataError, DataFile, from_tar_stream
from conveyor.scan.vulndb.importer import import_data
from conveyor.scan.vulndb.status import vulndb_status
from conveyor.web.deps import admin, caller, services, signed_in
from conveyor.web.errors import ApiError

router = APIRouter(tags=["scans"])
MAX_UPLOAD = 4 * 1024 * 1024 * 1024


class ScanIn(BaseModel):
    image: str
    refresh: bool = False
    format: str = "json"


@router.get("/api/v1/repositories/{name:path}/tags/{tag}/scan")
async def tag_scan(name: str, tag: str, request: Request, format: str = "json") -> Any:
    await _require_pull(request, name)
    return await _run(request, name, tag, format, refresh=False)


@router.post("/api/v1/scans")
async def scan_now(body: ScanIn, request: Request) -> Any:
    name, reference = parse_image(body.image)
    await _require_pull(request, name)
    return await _run(request, name, reference, body.format, refresh=body.refresh)


@router.get("/api/v1/vulndb")
async def status(request: Request, _: Identity = Depends(signed_in)) -> dict[str, Any]:
    return await vulndb_status(services(request).ctx.db)


@router.post("/api/v1/vulndb/import")
async def import_upload(request: Request, _: Identity = Depends(admin)) -> dict[str, Any]:
    with tempfile.TemporaryFile() as spool:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_UPLOAD:
                raise ApiError(413, "TOO_LARGE", f"uploads are limited to {MAX_UPLOAD} bytes")
            spool.write(chunk)
        if not size:
            raise ApiError(400, "INVALID", "send a tar archive of vulnerability data files")
        spool.seek(0)

        def files() -> Iterator[DataFile]:
            return from_tar_stream(spool)  # type: ignore[arg-type]

        try:
            report = await import_data(services(request).ctx.db, files)
        except DataError as exc:
            raise ApiError(400, "INVALID", str(exc)) from None
    status = await vulndb_status(services(request).ctx.db)
    return {**status, **report.to_json()}


def parse_image(image: str) -> tuple[str, str]:
    """`ns/repo:tag` or `ns/repo@sha256:...` -> (repository, reference)."""
    if "@" in image:
        name, _, reference = image.partition("@")
        try:
            Digest.parse(reference)
        except DigestError as exc:
            raise ApiError(400, "INVALID", str(exc), "image") from None
    else:
        slash = image.rfind("/")
        colon = image.rfind(":")
        name, reference = (
            (image[:colon], image[colon + 1 :]) if colon > slash else (image, "latest")
        )
        if not is_valid_tag(reference):
            raise ApiError(400, "INVALID", f"invalid tag {reference!r}", "image")
    if not is_valid_name(name):
        raise ApiError(400, "INVALID", f"invalid repository name {name!r}", "image")
    return name, reference


async def _require_pull(request: Request, name: str) -> None:
    who = await caller(request)
    if "pull" not in await services(request).gate.actions(who, name):
        raise ApiError(404, "NOT_FOUND", f"no repository {name!r}")


async def _run(request: Request, name: str, reference: str, fmt: str, *, refresh: bool) -> Any:
    if fmt not in ("json", "cyclonedx"):
        raise ApiError(400, "INVALID", "format must be json or cyclonedx", "format")
    ctx = services(request).ctx
    try:
        if fmt == "cyclonedx":
            return await image_sbom(ctx, name, reference)
        return await scan_image(ctx, name, reference, refresh=refresh)
    except RegistryError as exc:
        raise ApiError(404, "NOT_FOUND", f"no image {name}:{reference} ({exc.code})") from None
    except ScanError as exc:
        raise ApiError(422, "SCAN_FAILED", str(exc)) from None
