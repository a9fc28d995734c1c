"""Endpoints (remote registries for sync rules) and secrets (write-only), through the REST
API's own handlers: the console passes the session's identity where the API resolves it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from conveyor.web import endpoints as endpoint_api
from conveyor.web import secrets as secret_api
from conveyor.web.console.access import Viewer, acting_viewer, require_admin, viewer
from conveyor.web.console.render import is_htmx, page
from conveyor.web.errors import ApiError

router = APIRouter(include_in_schema=False)


def _problem(field: str | None, message: str) -> dict[str, str | None]:
    return {"field": field, "message": message}


def _validation(exc: ValidationError) -> dict[str, str | None]:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ())) or None
    return _problem(field, str(first.get("msg", "invalid")).removeprefix("Value error, "))


async def _form(request: Request) -> dict[str, str]:
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


# -- endpoints -------------------------------------------------------------------------------


@router.get("/endpoints")
async def endpoints_page(request: Request, who: Viewer = Depends(viewer)) -> Response:
    return await _endpoints(request, who, None, {})


async def _endpoints(
    request: Request, who: Viewer, error: dict[str, str | None] | None, values: dict[str, str]
) -> Response:
    rows = await endpoint_api.list_endpoints(request, who.identity)
    return page(
        request,
        "endpoints.html",
        who,
        status=200 if error is None or is_htmx(request) else 422,
        title="Endpoints",
        endpoints=rows,
        error=error,
        values=values,
    )


@router.post("/endpoints")
async def add_endpoint(request: Request, who: Viewer = Depends(acting_viewer)) -> Response:
    require_admin(who)
    values = await _form(request)
    body: dict[str, Any] = {
        "name": values.get("name", "").strip(),
        "url": values.get("url", "").strip(),
        "username": values.get("username", "").strip() or None,
        "password": values.get("password") or None,
        "insecure": "insecure" in values,
        "region": values.get("region", "").strip() or None,
    }
    shown = {k: v for k, v in values.items() if k != "password"}
    try:
        await endpoint_api.add_endpoint(endpoint_api.EndpointIn(**body), request, who.identity)
    except ValidationError as exc:
        return await _endpoints(request, who, _validation(exc), shown)
    except ApiError as exc:
        return await _endpoints(request, who, _problem(exc.field, exc.message), shown)
    return RedirectResponse("/endpoints", status_code=303)


@router.post("/endpoints/{name}/delete")
async def remove_endpoint(
    name: str, request: Request, who: Viewer = Depends(acting_viewer)
) -> Response:
    require_admin(who)
    try:
        await endpoint_api.remove_endpoint(name, request, who.identity)
    except ApiError as exc:
        return await _endpoints(request, who, _problem(None, exc.message), {})
    return RedirectResponse("/endpoints", status_code=303)


# -- secrets ---------------------------------------------------------------------------------


@router.get("/secrets")
async def secrets_page(request: Request, who: Viewer = Depends(viewer)) -> Response:
    require_admin(who)
    return await _secrets(request, who, None, "")


async def _secrets(
    request: Request, who: Viewer, error: dict[str, str | None] | None, name: str
) -> Response:
    rows = await secret_api.get_secrets(request, who.identity)
    return page(
        request,
        "secrets.html",
        who,
        status=200 if error is None or is_htmx(request) else 422,
        title="Secrets",
        secrets=rows,
        error=error,
        name=name,
    )


@router.post("/secrets")
async def set_secret(request: Request, who: Viewer = Depends(acting_viewer)) -> Response:
    require_admin(who)
    values = await _form(request)
    name = values.get("name", "").strip()
    try:
        body = secret_api.SecretIn(value=values.get("value", ""))
        await secret_api.set_secret(name, body, request, who.identity)
    except ValidationError as exc:
        return await _secrets(request, who, _validation(exc), name)
    except ApiError as exc:
        return await _secrets(request, who, _problem(exc.field, exc.message), name)
    return RedirectResponse("/secrets", status_code=303)


@router.post("/secrets/{name}/delete")
async def remove_secret(
    name: str, request: Request, who: Viewer = Depends(acting_viewer)
) -> Response:
    require_admin(who)
    try:
        await secret_api.delete_secret(name, request, who.identity)
    except ApiError as exc:
        return await _secrets(request, who, _problem(None, exc.message), "")
    return RedirectResponse("/secrets", status_code=303)
