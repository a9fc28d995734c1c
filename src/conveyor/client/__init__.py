"""The async OCI registry client of the project (httpx): auth challenges, manifests, blobs.

It imports nothing of Conveyor but `conveyor.oci`, so any part (sync, scan, build) can use it.
"""

from conveyor.client.challenge import Scope
from conveyor.client.errors import (
    AuthError,
    ErrorCode,
    IntegrityError,
    NetworkError,
    NotFoundError,
    RegistryClientError,
    RejectedError,
    TagConflictError,
    UploadLostError,
)
from conveyor.client.manifests import ManifestBlob, ManifestInfo
from conveyor.client.options import Credentials, TlsOptions
from conveyor.client.registry import RegistryClient
from conveyor.client.retry import RetryPolicy
from conveyor.client.uploads import Transfer

__all__ = [
    "AuthError",
    "Credentials",
    "ErrorCode",
    "IntegrityError",
    "ManifestBlob",
    "ManifestInfo",
    "NetworkError",
    "NotFoundError",
    "RegistryClient",
    "RegistryClientError",
    "RejectedError",
    "RetryPolicy",
    "Scope",
    "TagConflictError",
    "TlsOptions",
    "Transfer",
    "UploadLostError",
]
