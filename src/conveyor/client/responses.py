"""Registry responses turned into errors of the client's hierarchy (one table, by status)."""

from __future__ import annotations

import json
from collections.abc import Collection

import httpx

from conveyor.client.errors import (
    AuthError,
    NetworkError,
    NotFoundError,
    RegistryClientError,
    RejectedError,
    UploadRangeError,
)
from conveyor.client.retry import RETRY_STATUSES, parse_retry_after

_BY_STATUS: dict[int, type[RegistryClientError]] = {
    401: AuthError,
    403: AuthError,
    404: NotFoundError,
    416: UploadRangeError,
}


def expect(response: httpx.Response, statuses: Collection[int], what: str) -> httpx.Response:
    """The response when its status is one of `statuses`; else the matching error."""
    if response.status_code in statuses:
        return response
    raise error_for(response, what)


def error_for(response: httpx.Response, what: str) -> RegistryClientError:
    status = response.status_code
    code, message = registry_error(response)
    text = f"{what}: {status} {code or response.reason_phrase}"
    if message:
        text += f": {message}"
    if status in RETRY_STATUSES:
        error = NetworkError(f"{text} (after retries)", status=status, registry_code=code)
        asked = response.headers.get("retry-after")
        error.retry_after = parse_retry_after(asked) if asked else None
        return error
    kind = _BY_STATUS.get(status, RejectedError)
    return kind(text, status=status, registry_code=code)


def registry_error(response: httpx.Response) -> tuple[str | None, str]:
    """The first `{"errors": [{"code", "message"}]}` entry of an OCI error body, if any."""
    try:
        doc = json.loads(response.content[:65536]) if response.content else None
    except (ValueError, httpx.ResponseNotRead):
        return None, ""
    errors = doc.get("errors") if isinstance(doc, dict) else None
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return None, ""
    code, message = errors[0].get("code"), errors[0].get("message")
    return (code if isinstance(code, str) else None), (message if isinstance(message, str) else "")
