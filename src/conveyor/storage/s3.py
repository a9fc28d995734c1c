"""Blob storage in an S3-compatible bucket (AWS, SeaweedFS, MinIO, ...), on the boto3 SDK.

boto3 is synchronous: every call runs in a worker thread. Writes are multipart uploads (or one
PUT for small objects), so an object is visible only once complete; a failed or cancelled write
aborts its upload. Credentials come from boto3's default chain (AWS_ACCESS_KEY_ID, ...).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import anyio
import anyio.to_thread
import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from conveyor.storage.base import ObjectNotFound, StorageError, StoredObject

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef, CopySourceTypeDef

MiB = 1024 * 1024
GiB = 1024 * MiB
T = TypeVar("T")

_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
_BUCKET_EXISTS_CODES = frozenset({"BucketAlreadyOwnedByYou", "BucketAlreadyExists"})


@dataclass(frozen=True, slots=True)
class S3Tuning:
    part_size: int = 8 * MiB  # multipart upload part; also the largest single PUT
    read_chunk: int = 1 * MiB  # bytes handed to the reader at a time
    copy_threshold: int = 5 * GiB  # larger objects are copied part by part (S3's limit)
    copy_part_size: int = 512 * MiB
    list_page: int = 1000


class S3Store:
    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint: str | None = None,
        region: str | None = None,
        tuning: S3Tuning | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.region = region
        self.tuning = tuning or S3Tuning()
        self._client: S3Client = _make_client(endpoint, region)
        self._bucket_ready = False

    @classmethod
    def from_url(cls, url: str, *, tuning: S3Tuning | None = None) -> S3Store:
        """`s3://BUCKET[/prefix]?endpoint=http://host:port&region=us-east-1`."""
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise StorageError(f"not an S3 URL with a bucket: {url!r}")
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        unknown = set(query) - {"endpoint", "region"}
        if unknown:
            raise StorageError(f"unknown S3 URL parameters: {', '.join(sorted(unknown))}")
        return cls(
            parts.netloc,
            parts.path,
            endpoint=query.get("endpoint"),
            region=query.get("region"),
            tuning=tuning,
        )

    # -- the BlobStore protocol ------------------------------------------------------------

    async def stat(self, path: str) -> StoredObject | None:
        key = self._key(path)
        await self._ensure_bucket()
        try:
            head = await self._call(partial(self._client.head_object, Bucket=self.bucket, Key=key))
        except ObjectNotFound:
            return None
        return StoredObject(path, head["ContentLength"], head["LastModified"].timestamp())

    async def read(
        self, path: str, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        key = self._key(path)
        await self._ensure_bucket()
        if length == 0:
            if await self.stat(path) is None:
                raise ObjectNotFound(path)
            return
        request: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if offset or length is not None:
            end = "" if length is None else str(offset + length - 1)
            request["Range"] = f"bytes={offset}-{end}"
        try:
            response = await self._call(partial(self._client.get_object, **request))
        except ObjectNotFound:
            raise ObjectNotFound(path) from None
        except _RangeNotSatisfiable:
            return  # the object exists and the offset is at (or past) its end
        body = response["Body"]
        try:
            while chunk := await self._call(partial(body.read, self.tuning.read_chunk)):
                yield chunk
        finally:
            body.close()

    async def write(self, path: str, chunks: AsyncIterable[bytes]) -> int:
        key = self._key(path)
        await self._ensure_bucket()
        buffer = bytearray()
        iterator = aiter(chunks)
        async for chunk in iterator:
            buffer += chunk
            if len(buffer) >= self.tuning.part_size:
                return await self._write_multipart(key, buffer, iterator)
        await self._call(
            partial(self._client.put_object, Bucket=self.bucket, Key=key, Body=bytes(buffer))
        )
        return len(buffer)

    async def move(self, source: str, destination: str) -> None:
        source_key, destination_key = self._key(source), self._key(destination)
        found = await self.stat(source)
        if found is None:
            raise ObjectNotFound(source)
        if source_key == destination_key:
            return
        if found.size > self.tuning.copy_threshold:
            await self._copy_multipart(source_key, destination_key, found.size)
        else:
            copy_source: CopySourceTypeDef = {"Bucket": self.bucket, "Key": source_key}
            await self._call(
                partial(
                    self._client.copy_object,
                    Bucket=self.bucket,
                    Key=destination_key,
                    CopySource=copy_source,
                )
            )
        await self._delete_key(source_key)

    async def delete(self, path: str) -> None:
        key = self._key(path)
        await self._ensure_bucket()
        await self._delete_key(key)

    async def list(self, prefix: str) -> AsyncIterator[StoredObject]:
        await self._ensure_bucket()
        full_prefix = f"{self.prefix}/{prefix}" if self.prefix else prefix
        strip = len(self.prefix) + 1 if self.prefix else 0
        request: dict[str, Any] = {
            "Bucket": self.bucket,
            "Prefix": full_prefix,
            "MaxKeys": self.tuning.list_page,
        }
        while True:
            page = await self._call(partial(self._client.list_objects_v2, **request))
            for item in page.get("Contents", []):
                key = item.get("Key", "")
                if key.endswith("/"):
                    continue  # a "directory" marker, not an object
                yield StoredObject(
                    key[strip:], item.get("Size", 0), item["LastModified"].timestamp()
                )
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return
            request["ContinuationToken"] = token

    def local_path(self, path: str) -> str | None:
        return None

    async def close(self) -> None:
        await anyio.to_thread.run_sync(self._client.close)

    # -- helpers -----------------------------------------------------------------------------

    def _key(self, path: str) -> str:
        segments = path.split("/")
        if not path or path.startswith("/") or any(s in ("", ".", "..") for s in segments):
            raise StorageError(f"invalid object path: {path!r}")
        return f"{self.prefix}/{path}" if self.prefix else path

    async def _call(self, call: Callable[[], T]) -> T:
        """Run one SDK call in a worker thread, translating its errors into StorageError."""
        try:
            return await anyio.to_thread.run_sync(call)
        except ClientError as error:
            raise _translate(error, self.bucket) from error
        except BotoCoreError as error:
            raise StorageError(f"s3://{self.bucket}: {error}") from error

    async def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        try:
            await self._call(partial(self._client.head_bucket, Bucket=self.bucket))
        except ObjectNotFound:
            await self._create_bucket()
        self._bucket_ready = True

    async def _create_bucket(self) -> None:
        request: dict[str, Any] = {"Bucket": self.bucket}
        if self.region and self.region != "us-east-1":
            request["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        with contextlib.suppress(_BucketExists):  # another replica created it first
            await self._call(partial(self._client.create_bucket, **request))

    async def _delete_key(self, key: str) -> None:
        with contextlib.suppress(ObjectNotFound):
            await self._call(partial(self._client.delete_object, Bucket=self.bucket, Key=key))

    async def _write_multipart(
        self, key: str, buffer: bytearray, rest: AsyncIterator[bytes]
    ) -> int:
        """Upload `buffer` and then the rest of the stream as parts; abort on any failure."""
        created = await self._call(
            partial(self._client.create_multipart_upload, Bucket=self.bucket, Key=key)
        )
        upload_id = created["UploadId"]
        part_size = self.tuning.part_size
        parts: list[CompletedPartTypeDef] = []
        written = 0
        try:
            while True:
                while len(buffer) >= part_size:
                    part = bytes(memoryview(buffer)[:part_size])
                    del buffer[:part_size]
                    parts.append(await self._upload_part(key, upload_id, len(parts) + 1, part))
                    written += len(part)
                chunk = await anext(rest, None)
                if chunk is None:
                    break
                buffer += chunk
            if buffer or not parts:
                parts.append(await self._upload_part(key, upload_id, len(parts) + 1, bytes(buffer)))
                written += len(buffer)
            await self._call(
                partial(
                    self._client.complete_multipart_upload,
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
            )
        except BaseException:
            await self._abort(key, upload_id)
            raise
        return written

    async def _upload_part(
        self, key: str, upload_id: str, number: int, data: bytes
    ) -> CompletedPartTypeDef:
        response = await self._call(
            partial(
                self._client.upload_part,
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=number,
                Body=data,
            )
        )
        return {"ETag": response["ETag"], "PartNumber": number}

    async def _copy_multipart(self, source_key: str, destination_key: str, size: int) -> None:
        created = await self._call(
            partial(self._client.create_multipart_upload, Bucket=self.bucket, Key=destination_key)
        )
        upload_id = created["UploadId"]
        step = self.tuning.copy_part_size
        parts: list[CompletedPartTypeDef] = []
        try:
            for number, start in enumerate(range(0, size, step), start=1):
                end = min(start + step, size) - 1
                response = await self._call(
                    partial(
                        self._client.upload_part_copy,
                        Bucket=self.bucket,
                        Key=destination_key,
                        UploadId=upload_id,
                        PartNumber=number,
                        CopySource={"Bucket": self.bucket, "Key": source_key},
                        CopySourceRange=f"bytes={start}-{end}",
                    )
                )
                parts.append({"ETag": response["CopyPartResult"]["ETag"], "PartNumber": number})
            await self._call(
                partial(
                    self._client.complete_multipart_upload,
                    Bucket=self.bucket,
                    Key=destination_key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
            )
        except BaseException:
            await self._abort(destination_key, upload_id)
            raise

    async def _abort(self, key: str, upload_id: str) -> None:
        """Abort an upload even while the surrounding task is being cancelled."""
        # A failed abort leaves parts that the bucket's lifecycle rules clean up.
        with anyio.CancelScope(shield=True), contextlib.suppress(StorageError):
            await self._call(
                partial(
                    self._client.abort_multipart_upload,
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                )
            )


class _RangeNotSatisfiable(StorageError):
    pass


class _BucketExists(StorageError):
    pass


def _translate(error: ClientError, bucket: str) -> StorageError:
    details = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    message = f"s3://{bucket}: {details.get('Message') or code or error}"
    if code in _MISSING_CODES:
        return ObjectNotFound(message)
    if code == "InvalidRange" or status == 416:
        return _RangeNotSatisfiable(message)
    if code in _BUCKET_EXISTS_CODES:
        return _BucketExists(message)
    return StorageError(message)


def _make_client(endpoint: str | None, region: str | None) -> S3Client:
    config = Config(
        signature_version="s3v4",
        # Custom endpoints rarely resolve bucket.host names; AWS itself picks per bucket.
        s3={"addressing_style": "path" if endpoint else "auto"},
        retries={"mode": "standard", "max_attempts": 5},
        max_pool_connections=32,
        # S3-compatible servers vary in their support of the newer default checksums.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    session = boto3.session.Session()
    return session.client("s3", endpoint_url=endpoint, region_name=region, config=config)
