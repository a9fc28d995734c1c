"""The one error shape of the REST API, everywhere: `{"error": {"code", "message", "field"}}`.

* Starlette's own refusals under /api/ (no such route, 405, a body that is not JSON) come in
  that shape too, not as `{"detail": ...}`; elsewhere (the console) they are left as they are.
* The OpenAPI document says so: FastAPI documents a 422 with its validation body, but bad input
  is a 400 in the error shape (see errors.py); every operation's `4XX` is the error shape.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.exception_handlers import http_exception_handler
from fastapi.openapi.utils import get_openapi
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from conveyor.web.errors import error_body

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "field"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": ["string", "null"]},
            },
        }
    },
}
_ERROR_RESPONSE = {
    "description": "Refused: bad input, not signed in, not allowed, not found, conflict, "
    "too many failed sign-ins (with Retry-After), ...",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


_CODES = {400: "INVALID", 401: "UNAUTHORIZED", 403: "DENIED", 404: "NOT_FOUND"}


def install_error_shape(api: FastAPI) -> None:
    api.add_exception_handler(HTTPException, _http_error)
    _document_errors(api)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if not request.url.path.startswith("/api/"):
        return await http_exception_handler(request, exc)
    code = _CODES.get(exc.status_code, "METHOD_NOT_ALLOWED" if exc.status_code == 405 else "ERROR")
    return JSONResponse(
        error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
    )


def _document_errors(api: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            schema = get_openapi(
                title=api.title,
                version=api.version,
                routes=api.routes,
                description=api.description,
            )
            schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
            for item in schema.get("paths", {}).values():
                for operation in item.values():
                    responses = operation.setdefault("responses", {})
                    responses.pop("422", None)
                    responses["4XX"] = _ERROR_RESPONSE
            api.openapi_schema = schema
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
