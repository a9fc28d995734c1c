"""The errors of the registry client: a small hierarchy, each class carrying one stable code.

The codes are the ones a sync task records (DESIGN §5.3). A caller that only wants the code reads
`error.code`; one that wants to react to a kind of failure catches the class.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    NETWORK_ERROR = "NETWORK_ERROR"
    AUTH_ERROR = "AUTH_ERROR"
    TAG_CONFLICT = "TAG_CONFLICT"
    NOT_FOUND = "NOT_FOUND"
    DESTINATION_REJECTED = "DESTINATION_REJECTED"
    INTERNAL_ERROR = "INTERNAL_ERROR"


class RegistryClientError(Exception):
    """Base of every error the client raises; `status` and `registry_code` when a registry said."""

    code: ErrorCode = ErrorCode.INTERNAL_ERROR

    def __init__(
        self, message: str, *, status: int | None = None, registry_code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.registry_code = registry_code


class NetworkError(RegistryClientError):
    """The registry could not be reached, or stayed unavailable (5xx, 429) after the retries;
    `retry_after`: the wait it asked for, if it did."""

    code = ErrorCode.NETWORK_ERROR
    retry_after: float | None = None


class UploadLostError(NetworkError):
    """The upload session cannot be resumed (the registry no longer knows it at that state):
    the blob has to be sent again from its first byte, in a new session."""


class AuthError(RegistryClientError):
    """Credentials refused, or the access asked for was not granted."""

    code = ErrorCode.AUTH_ERROR


class NotFoundError(RegistryClientError):
    """The repository, manifest, tag or blob does not exist."""

    code = ErrorCode.NOT_FOUND


class TagConflictError(RegistryClientError):
    """The destination tag exists and points at another digest."""

    code = ErrorCode.TAG_CONFLICT


class RejectedError(RegistryClientError):
    """The registry refused the request (a 4xx other than auth and not-found)."""

    code = ErrorCode.DESTINATION_REJECTED


class UploadRangeError(RejectedError):
    """A chunk did not start where the registry's upload stands (416): ask it, then resume."""


class IntegrityError(RegistryClientError):
    """Content did not match its digest or size, or a response broke the protocol."""

    code = ErrorCode.INTERNAL_ERROR
