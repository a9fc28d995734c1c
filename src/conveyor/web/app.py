"""The REST API and the token endpoint as one FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response

from conveyor.registry.http.token_route import token_get, token_post
from conveyor.web import audit as audit_api
from conveyor.web import (
    build_sources,
    builds,
    chains,
    endpoints,
    git_hooks,
    namespaces,
    probes,
    records,
    rekey,
    repositories,
    robots,
    scans,
    secrets,
    sync_runs,
    system,
    tokens,
    users,
)
from conveyor.web.console import install as install_console
from conveyor.web.deps import Services, api_denial, services
from conveyor.web.error_shape import install_error_shape
from conveyor.web.errors import ApiError, api_error_handler, validation_error_handler


def build_api(svc: Services) -> FastAPI:
    api = FastAPI(
        title="Conveyor",
        version="1",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    api.state.services = svc
    api.state.ctx = svc.ctx  # for the probes
    api.add_exception_handler(ApiError, api_error_handler)
    api.add_exception_handler(RequestValidationError, validation_error_handler)
    routers = (
        probes.router,
        system.router,
        namespaces.router,
        users.router,
        repositories.router,
        chains.router,
        sync_runs.router,
        endpoints.router,
        records.router,
        rekey.router,  # before secrets: POST /secrets/rotate-key
        secrets.router,
        robots.router,
        tokens.router,
        audit_api.router,
    )
    api.include_router(scans.router)  # first: repositories' /{name:path} would take .../scan
    for first in (build_sources.router, builds.router, git_hooks.router):  # .../source likewise
        api.include_router(first)
    for router in routers:
        api.include_router(router)
    api.add_api_route("/auth/token", _token_get, methods=["GET"], include_in_schema=False)
    api.add_api_route("/auth/token", _token_post, methods=["POST"], include_in_schema=False)
    install_error_shape(api)  # for Starlette's own errors too, and in /api/v1/openapi.json
    install_console(api)  # the web console at /: pages, /console/static, HTML error pages
    return api


async def _token_get(request: Request) -> Response:
    return await _with_denial(request, get=True)


async def _token_post(request: Request) -> Response:
    return await _with_denial(request, get=False)


async def _with_denial(request: Request, *, get: bool) -> Response:
    from conveyor.registry.http.access import AccessDenied

    gate = services(request).gate
    try:
        return await (token_get(request, gate) if get else token_post(request, gate))
    except AccessDenied as exc:
        raise api_denial(exc) from None
