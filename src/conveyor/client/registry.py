"""`RegistryClient`: the one entry point to a remote OCI registry.

It only holds the connection (httpx client, authenticator, retry policy) and hands each
operation to the module that knows it: manifests, blobs, uploads, listing.

    async with RegistryClient("https://eu.example.com", credentials=Credentials("u", "p")) as eu:
        manifest = await eu.get_manifest("shop/web", "v1")
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, Sequence
from types import TracebackType
from typing import Final

from conveyor.client import blobs, listing, manifests, uploads
from conveyor.client.manifests import ManifestBlob, ManifestInfo
from conveyor.client.options import Credentials, TlsOptions, build_http, normalize_url
from conveyor.client.retry import RetryPolicy
from conveyor.client.transport import Call, Transport
from conveyor.client.uploads import Transfer
from conveyor.oci.digest import Digest
from conveyor.oci.manifest import Descriptor

MIB: Final = 1024 * 1024


class RegistryClient:
    def __init__(
        self,
        url: str,
        *,
        credentials: Credentials | None = None,
        tls: TlsOptions | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 60.0,
        chunk_size: int = 8 * MIB,
        monolithic_max: int = 8 * MIB,
    ) -> None:
        self.base_url = normalize_url(url)
        self.chunk_size = chunk_size
        self.monolithic_max = monolithic_max
        http = build_http(self.base_url, tls or TlsOptions(), timeout)
        self.transport = Transport(http, credentials, retry or RetryPolicy())

    async def __aenter__(self) -> RegistryClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.transport.http.aclose()

    def same_registry(self, other: RegistryClient) -> bool:
        """Same base URL: blobs can be mounted across repositories instead of copied."""
        return self.base_url == other.base_url

    async def ping(self) -> None:
        """`GET /v2/` with authorization: raises when unreachable or the credentials are bad."""
        await self.transport.request(Call("GET", "/v2/", (), "GET /v2/"), ok={200})

    # manifests

    async def get_manifest(
        self, repository: str, reference: str, accept: Sequence[str] = ()
    ) -> ManifestBlob:
        return await manifests.get_manifest(self.transport, repository, reference, accept)

    async def head_manifest(self, repository: str, reference: str) -> ManifestInfo | None:
        return await manifests.head_manifest(self.transport, repository, reference)

    async def put_manifest(self, repository: str, reference: str, manifest: ManifestBlob) -> Digest:
        return await manifests.put_manifest(self.transport, repository, reference, manifest)

    # blobs

    async def blob_size(self, repository: str, digest: Digest) -> int | None:
        return await blobs.blob_size(self.transport, repository, digest)

    async def blob_exists(self, repository: str, digest: Digest) -> bool:
        return await self.blob_size(repository, digest) is not None

    def stream_blob(
        self, repository: str, digest: Digest, *, verify: bool = True
    ) -> AsyncGenerator[bytes, None]:
        """The blob's bytes (verified against the digest unless `verify` is false); close it
        (`contextlib.aclosing`) when not read to the end."""
        return blobs.stream_blob(self.transport, repository, digest, verify=verify)

    async def upload_blob(
        self,
        repository: str,
        digest: Digest,
        size: int,
        content: AsyncIterable[bytes],
        *,
        mount_from: str | None = None,
    ) -> Transfer:
        return await uploads.upload_blob(
            self.transport,
            repository,
            digest,
            size,
            content,
            chunk_size=self.chunk_size,
            monolithic_max=self.monolithic_max,
            mount_from=mount_from,
        )

    async def mount_blob(self, repository: str, digest: Digest, from_repository: str) -> bool:
        """Mount only: True when mounted; False (the opened session cancelled) otherwise."""
        return await uploads.mount_blob(self.transport, repository, digest, from_repository)

    # listings

    async def list_tags(self, repository: str, page_size: int | None = None) -> list[str]:
        return await listing.list_tags(self.transport, repository, page_size)

    async def list_repositories(self, page_size: int | None = None) -> list[str]:
        return await listing.list_repositories(self.transport, page_size)

    async def list_referrers(
        self, repository: str, digest: Digest, artifact_type: str | None = None
    ) -> list[Descriptor]:
        return await listing.list_referrers(self.transport, repository, digest, artifact_type)
