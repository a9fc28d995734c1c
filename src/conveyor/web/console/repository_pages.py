"""Namespaces -> repositories -> tags, and a tag's page: layers, SBOM, scan findings."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from conveyor.oci.reference import is_valid_name, is_valid_tag
from conveyor.registry.errors import RegistryError
from conveyor.registry.repositories import find_repository
from conveyor.scan.errors import ScanError
from conveyor.scan.service import image_sbom, scan_image
from conveyor.scan.vulndb.severity import RANK
from conveyor.web.console import catalog
from conveyor.web.console.access import Viewer, acting_viewer, may_pull, viewer
from conveyor.web.console.errors import ConsoleError
from conveyor.web.console.images import TagInfo, list_tags, tag_info
from conveyor.web.console.render import page
from conveyor.web.deps import services

router = APIRouter(include_in_schema=False)
SORT_KEYS = ("severity", "id", "package", "version", "fixedVersion", "layer")


@router.get("/namespaces")
async def namespaces_page(request: Request, who: Viewer = Depends(viewer)) -> Response:
    rows = await catalog.namespaces(request, who)
    return page(request, "namespaces.html", who, title="Namespaces", namespaces=rows)


@router.get("/namespaces/{namespace}")
async def namespace_page(
    namespace: str, request: Request, who: Viewer = Depends(viewer)
) -> Response:
    found = [n for n in await catalog.namespaces(request, who) if n.name == namespace]
    if not found:
        raise ConsoleError(404, f"There is no namespace {namespace!r}, or you may not see it.")
    repositories = await catalog.repositories(request, who, namespace)
    chains = [c for c in await catalog.chains(request, who) if c.namespace == namespace]
    return page(
        request,
        "namespace.html",
        who,
        title=f"Namespace {namespace}",
        namespace=found[0],
        repositories=repositories,
        chains=chains,
    )


async def _pullable(request: Request, who: Viewer, name: str) -> None:
    if not is_valid_name(name) or not await may_pull(request, who, name):
        raise ConsoleError(404, f"There is no repository {name!r}, or you may not see it.")


@router.get("/repositories/{name:path}/-/tags/{tag}/sbom")
async def sbom(name: str, tag: str, request: Request, who: Viewer = Depends(viewer)) -> Response:
    await _pullable(request, who, name)
    try:
        document = await image_sbom(services(request).ctx, name, tag)
    except RegistryError:
        raise ConsoleError(404, f"There is no tag {tag!r} in {name}.") from None
    except ScanError as exc:
        raise ConsoleError(422, f"No SBOM for {name}:{tag}: {exc}") from None
    filename = f"{name.replace('/', '_')}_{tag}.cdx.json"
    return Response(
        json.dumps(document, indent=2),
        media_type="application/vnd.cyclonedx+json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/repositories/{name:path}/-/tags/{tag}/scan")
async def scan_now(
    name: str, tag: str, request: Request, who: Viewer = Depends(acting_viewer)
) -> Response:
    await _pullable(request, who, name)
    try:
        await scan_image(services(request).ctx, name, tag)
    except RegistryError:
        raise ConsoleError(404, f"There is no tag {tag!r} in {name}.") from None
    except ScanError as exc:
        info = await _tag(request, name, tag)
        return _tag_page(request, who, info, {}, scan_error=str(exc), status=422)
    return RedirectResponse(f"/repositories/{name}/-/tags/{tag}#findings", status_code=303)


@router.get("/repositories/{name:path}/-/tags/{tag}")
async def tag_page(
    name: str,
    tag: str,
    request: Request,
    sort: str = "severity",
    order: str = "desc",
    who: Viewer = Depends(viewer),
) -> Response:
    await _pullable(request, who, name)
    info = await _tag(request, name, tag)
    return _tag_page(request, who, info, {"sort": sort, "order": order})


async def _tag(request: Request, name: str, tag: str) -> TagInfo:
    info = await tag_info(services(request).ctx, name, tag) if is_valid_tag(tag) else None
    if info is None:
        raise ConsoleError(404, f"There is no tag {tag!r} in {name}.")
    return info


def _tag_page(
    request: Request,
    who: Viewer,
    info: TagInfo,
    sorting: dict[str, str],
    *,
    scan_error: str | None = None,
    status: int = 200,
) -> Response:
    key = sorting.get("sort", "severity")
    key = key if key in SORT_KEYS else "severity"
    descending = sorting.get("order", "desc") != "asc"
    findings = sort_findings(
        [
            {**f, "platform": r.get("platform", "")}
            for r in info.scan.reports
            for f in r.get("findings", [])
        ],
        key,
        descending,
    )
    return page(
        request,
        "tag.html",
        who,
        status=status,
        title=f"{info.repository}:{info.name}",
        tag=info,
        findings=findings,
        sort=key,
        order="desc" if descending else "asc",
        sort_keys=SORT_KEYS,
        scan_error=scan_error,
    )


def sort_findings(
    findings: list[dict[str, Any]], key: str, descending: bool
) -> list[dict[str, Any]]:
    def value(finding: dict[str, Any]) -> tuple[Any, ...]:
        if key == "severity":
            return (RANK.get(str(finding.get("severity")), 0), str(finding.get("id")))
        return (str(finding.get(key) or ""), str(finding.get("id")))

    return sorted(findings, key=value, reverse=descending)


@router.get("/repositories/{name:path}")
async def repository_page(name: str, request: Request, who: Viewer = Depends(viewer)) -> Response:
    await _pullable(request, who, name)
    ctx = services(request).ctx
    async with ctx.db.read() as db:
        repo = await find_repository(db, name)
    if repo is None:
        raise ConsoleError(404, f"There is no repository {name!r}, or you may not see it.")
    tags = await list_tags(ctx, name)
    namespace = name.split("/", 1)[0]
    return page(
        request,
        "repository.html",
        who,
        title=name,
        name=name,
        namespace=namespace,
        created_at=repo.created_at,
        tags=tags,
    )
