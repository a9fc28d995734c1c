"""/v2/<name>/tags/list, /v2/_catalog and /v2/<name>/referrers/<digest>."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.responses import JSONResponse, Response

from conveyor.oci import mediatypes
from conveyor.registry import listing, referrers
from conveyor.registry.blobs import parse_digest
from conveyor.registry.http.access import AccessDenied
from conveyor.registry.http.handling import Handling
from conveyor.registry.http.responses import API_VERSION_HEADER


async def list_tags(h: Handling) -> Response:
    await h.require("pull")
    n = listing.page_size(h.request.query_params.get("n"))
    last = h.request.query_params.get("last")
    page = await listing.list_tags(h.ctx, h.name, n, last)
    headers = _link(f"/v2/{h.name}/tags/list", n, page)
    return JSONResponse({"name": h.name, "tags": page.items}, headers=headers)


async def catalog(h: Handling) -> Response:
    token = h.caller.token
    lacks_scope = token is not None and "*" not in token.actions_for("registry", "catalog")
    if not h.caller.signed_in or lacks_scope:
        error = "insufficient_scope" if lacks_scope else None
        raise AccessDenied(
            401,
            h.gate.challenge(h.request, "registry:catalog:*", error),
            "sign in with the catalog scope to list repositories",
            [{"Type": "registry", "Name": "catalog", "Action": "*"}],
        )
    n = listing.page_size(h.request.query_params.get("n"))
    last = h.request.query_params.get("last")
    visible = None if h.caller.identity.is_admin else await _readable(h)
    page = await listing.list_catalog(h.ctx, n, last, visible)
    return JSONResponse({"repositories": page.items}, headers=_link("/v2/_catalog", n, page))


async def list_referrers(h: Handling, digest_text: str) -> Response:
    await h.require("pull")
    digest = parse_digest(digest_text)
    artifact_type = h.request.query_params.get("artifactType")
    index = await referrers.referrers_index(h.ctx, h.name, digest, artifact_type)
    headers = dict(API_VERSION_HEADER)
    if artifact_type:
        headers["OCI-Filters-Applied"] = "artifactType"
    return JSONResponse(index, headers=headers, media_type=mediatypes.OCI_INDEX)


async def _readable(h: Handling) -> set[str]:
    page = await listing.list_catalog(h.ctx, None, None, None)
    return {name for name in page.items if "pull" in await h.gate.account_actions(h.caller, name)}


def _link(path: str, n: int | None, page: listing.Page) -> dict[str, str]:
    headers = dict(API_VERSION_HEADER)
    if page.more and page.items:
        query = urlencode({"n": n if n is not None else len(page.items), "last": page.items[-1]})
        headers["Link"] = f'<{path}?{query}>; rel="next"'
    return headers
