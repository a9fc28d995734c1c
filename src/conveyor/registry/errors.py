"""The distribution spec's error codes, with their HTTP statuses: one table, one exception."""

from __future__ import annotations

from typing import Any, Final

STATUS: Final = {
    "BLOB_UNKNOWN": 404,
    "BLOB_UPLOAD_INVALID": 400,
    "BLOB_UPLOAD_UNKNOWN": 404,
    "DIGEST_INVALID": 400,
    "MANIFEST_BLOB_UNKNOWN": 400,
    "MANIFEST_INVALID": 400,
    "MANIFEST_UNKNOWN": 404,
    "NAME_INVALID": 400,
    "NAME_UNKNOWN": 404,
    "SIZE_INVALID": 400,
    "TAG_INVALID": 400,
    "UNAUTHORIZED": 401,
    "DENIED": 403,
    "UNSUPPORTED": 415,
    "TOOMANYREQUESTS": 429,
    "RANGE_INVALID": 416,
    "MANIFEST_TOO_LARGE": 413,
    "PAGINATION_NUMBER_INVALID": 400,
    "METHOD_NOT_ALLOWED": 405,
    "UNKNOWN": 500,
}

MESSAGES: Final = {
    "BLOB_UNKNOWN": "blob unknown to registry",
    "BLOB_UPLOAD_INVALID": "blob upload invalid",
    "BLOB_UPLOAD_UNKNOWN": "blob upload unknown to registry",
    "DIGEST_INVALID": "provided digest did not match uploaded content",
    "MANIFEST_BLOB_UNKNOWN": "manifest references a blob unknown to the registry",
    "MANIFEST_INVALID": "manifest invalid",
    "MANIFEST_UNKNOWN": "manifest unknown",
    "NAME_INVALID": "invalid repository name",
    "NAME_UNKNOWN": "repository name not known to registry",
    "SIZE_INVALID": "provided length did not match content length",
    "TAG_INVALID": "manifest tag did not match URI",
    "UNAUTHORIZED": "authentication required",
    "DENIED": "requested access to the resource is denied",
    "UNSUPPORTED": "the operation is unsupported",
    "RANGE_INVALID": "invalid content range",
    "MANIFEST_TOO_LARGE": "manifest too large",
    "PAGINATION_NUMBER_INVALID": "invalid number of results requested",
    "METHOD_NOT_ALLOWED": "method not allowed here",
    "UNKNOWN": "unknown error",
}

# Codes outside the spec's list are reported under the nearest spec code in the body.
_BODY_CODE: Final = {
    "RANGE_INVALID": "BLOB_UPLOAD_INVALID",
    "MANIFEST_TOO_LARGE": "SIZE_INVALID",
    "METHOD_NOT_ALLOWED": "UNSUPPORTED",
}


class RegistryError(Exception):
    def __init__(self, code: str, message: str | None = None, detail: Any = None) -> None:
        super().__init__(message or MESSAGES.get(code, code))
        self.code = code
        self.message = message or MESSAGES.get(code, code)
        self.detail = detail

    @property
    def status(self) -> int:
        return STATUS.get(self.code, 400)

    def body(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "code": _BODY_CODE.get(self.code, self.code),
            "message": self.message,
        }
        entry["detail"] = self.detail if self.detail is not None else {}
        return {"errors": [entry]}
