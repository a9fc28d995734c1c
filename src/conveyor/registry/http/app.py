"""The /v2 API as one ASGI app: route by path, check access, turn errors into the spec's bodies."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from conveyor.registry.context import RegistryContext
from conveyor.registry.errors import RegistryError
from conveyor.registry.http import blob_routes, listing_routes, manifest_routes
from conveyor.registry.http.access import AccessDenied, Caller, Gatekeeper
from conveyor.registry.http.handling import Handling
from conveyor.registry.http.responses import API_VERSION_HEADER, error_response
from conveyor.registry.repositories import check_name
from conveyor.storage.base import StorageError

log = logging.getLogger(__name__)

Handler = Callable[..., Awaitable[Response]]

# Matched from the end of the path: repository names may hold any number of slashes.
_ROUTES: Final[list[tuple[re.Pattern[str], dict[str, Handler]]]] = [
    (
        re.compile(r"/v2/(?P<name>.+)/blobs/uploads/(?P<arg>[^/]+)"),
        {
            "GET": blob_routes.upload_status,
            "PATCH": blob_routes.patch_upload,
            "PUT": blob_routes.put_upload,
            "DELETE": blob_routes.cancel_upload,
        },
    ),
    (re.compile(r"/v2/(?P<name>.+)/blobs/uploads/?"), {"POST": blob_routes.start_upload}),
    (
        re.compile(r"/v2/(?P<name>.+)/blobs/(?P<arg>[^/]+)"),
        {
            "GET": blob_routes.get_blob,
            "HEAD": blob_routes.get_blob,
            "DELETE": blob_routes.delete_blob,
        },
    ),
    (
        re.compile(r"/v2/(?P<name>.+)/manifests/(?P<arg>[^/]+)"),
        {
            "GET": manifest_routes.get_manifest,
            "HEAD": manifest_routes.get_manifest,
            "PUT": manifest_routes.put_manifest,
            "DELETE": manifest_routes.delete_manifest,
        },
    ),
    (re.compile(r"/v2/(?P<name>.+)/tags/list"), {"GET": listing_routes.list_tags}),
    (
        re.compile(r"/v2/(?P<name>.+)/referrers/(?P<arg>[^/]+)"),
        {"GET": listing_routes.list_referrers},
    ),
]


class RegistryApp:
    def __init__(self, ctx: RegistryContext, gate: Gatekeeper) -> None:
        self.ctx = ctx
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self.handle(request)
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        try:
            return await self._dispatch(request)
        except RegistryError as exc:
            return error_response(exc)
        except AccessDenied as exc:
            return _denied(exc)
        except StorageError:
            log.exception("storage failure on %s %s", request.method, request.url.path)
            return error_response(RegistryError("UNKNOWN", "storage backend failure"))

    async def _dispatch(self, request: Request) -> Response:
        path = request.url.path
        caller = await self.gate.caller(request)
        if path in ("/v2", "/v2/"):
            return await self._ping(request, caller)
        if path == "/v2/_catalog":
            return await listing_routes.catalog(Handling(request, self.ctx, self.gate, caller, ""))
        for pattern, methods in _ROUTES:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            name = match.group("name")
            check_name(name)
            handler = methods.get(request.method)
            if handler is None:
                raise RegistryError("METHOD_NOT_ALLOWED", f"{request.method} is not allowed here")
            handling = Handling(request, self.ctx, self.gate, caller, name)
            arg = match.groupdict().get("arg")
            return await (handler(handling, arg) if arg is not None else handler(handling))
        return error_response(RegistryError("NAME_UNKNOWN", "no such endpoint"))

    async def _ping(self, request: Request, caller: Caller) -> Response:
        if not caller.signed_in:
            raise AccessDenied(401, self.gate.challenge(request), "authentication required", None)
        return JSONResponse({}, headers=API_VERSION_HEADER)


def _denied(exc: AccessDenied) -> Response:
    code = {403: "DENIED", 429: "TOOMANYREQUESTS"}.get(exc.status, "UNAUTHORIZED")
    headers = {"WWW-Authenticate": exc.challenge} if exc.challenge else {}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    return error_response(RegistryError(code, exc.message, exc.detail), headers)


_TEMPLATES: Final = [
    "/v2/{name}/blobs/uploads/{id}",
    "/v2/{name}/blobs/uploads/",
    "/v2/{name}/blobs/{digest}",
    "/v2/{name}/manifests/{reference}",
    "/v2/{name}/tags/list",
    "/v2/{name}/referrers/{digest}",
]


def route_template(path: str) -> str:
    """The route a /v2 path belongs to, for metrics labels."""
    if path in ("/v2", "/v2/", "/v2/_catalog"):
        return path
    for (pattern, _), template in zip(_ROUTES, _TEMPLATES, strict=True):
        if pattern.fullmatch(path):
            return template
    return "/v2/other"
