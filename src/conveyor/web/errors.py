"""The REST API's one error shape: {"error": {"code", "message", "field"}}."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}


def error_body(code: str, message: str, field: str | None = None) -> dict[str, object]:
    return {"error": {"code": code, "message": message, "field": field}}


async def api_error_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    headers = {"WWW-Authenticate": 'Basic realm="conveyor"'} if exc.status == 401 else {}
    headers.update(exc.headers)
    return JSONResponse(
        error_body(exc.code, exc.message, exc.field), status_code=exc.status, headers=headers
    )


async def validation_error_handler(_request: Request, exc: Exception) -> Response:
    errors: list[dict[str, Any]] = getattr(exc, "errors", list)()
    first = errors[0] if errors else {}
    location = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
    return JSONResponse(
        error_body("INVALID", str(first.get("msg", "invalid request")), ".".join(location) or None),
        status_code=400,
    )
