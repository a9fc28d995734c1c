"""Push an OCI layout (one index and its images) to this instance's registry over /v2.

Blobs the repository already has are skipped (HEAD), the others go up in one streamed POST each
(`?digest=`, the spec's monolithic upload); then every image manifest by digest, then the index
under each tag, last, once everything it references exists.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

CHUNK = 1024 * 1024
TokenSource = Callable[[], Awaitable[str]]


class UploadError(RuntimeError):
    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True, slots=True)
class Pushed:
    digest: str
    platforms: list[str]
    uploaded: int  # blobs sent
    skipped: int  # blobs the repository had


def _blob(layout: Path, digest: str) -> Path:
    algorithm, _, encoded = digest.partition(":")
    if algorithm != "sha256" or len(encoded) != 64 or not encoded.isalnum():
        raise UploadError(f"unexpected digest {digest[:80]!r} in the layout")
    return layout / "blobs" / algorithm / encoded


def _platform(descriptor: dict[str, Any]) -> str:
    platform = descriptor.get("platform") or {}
    name = f"{platform.get('os', '?')}/{platform.get('architecture', '?')}"
    return name + (f"/{platform['variant']}" if platform.get("variant") else "")


def read_index(layout: Path) -> tuple[dict[str, Any], bytes]:
    top = json.loads((layout / "index.json").read_text())
    entries = top.get("manifests") or []
    if len(entries) != 1:
        raise UploadError(f"the layout holds {len(entries)} images, not one index")
    raw = _blob(layout, entries[0]["digest"]).read_bytes()
    return entries[0], raw


class Uploader:
    def __init__(
        self,
        http: httpx.AsyncClient,
        registry_url: str,
        repository: str,
        token: TokenSource,
        log: Callable[[str], None],
    ) -> None:
        self.http = http
        self.base = f"{registry_url.rstrip('/')}/v2/{repository}"
        self.token = token
        self.log = log
        self.uploaded = 0
        self.skipped = 0

    async def push(self, layout: Path, tags: list[str]) -> Pushed:
        entry, raw = read_index(layout)
        index = json.loads(raw)
        media_type = str(entry.get("mediaType") or index.get("mediaType"))
        children = index.get("manifests") or []
        for child in children:
            await self._image(layout, child)
        digest = "sha256:" + hashlib.sha256(raw).hexdigest()
        for tag in tags:
            await self._put_manifest(tag, raw, media_type, digest)
            self.log(f"tagged {tag} -> {digest}")
        platforms = [_platform(child) for child in children]
        return Pushed(digest, platforms, self.uploaded, self.skipped)

    async def _image(self, layout: Path, descriptor: dict[str, Any]) -> None:
        digest = str(descriptor["digest"])
        raw = _blob(layout, digest).read_bytes()
        manifest = json.loads(raw)
        for blob in [manifest["config"], *manifest.get("layers", [])]:
            await self._blob(layout, str(blob["digest"]), int(blob["size"]))
        await self._put_manifest(digest, raw, str(descriptor["mediaType"]), digest)
        self.log(f"pushed the {_platform(descriptor)} image {digest}")

    async def _blob(self, layout: Path, digest: str, size: int) -> None:
        head = await self._send("HEAD", f"{self.base}/blobs/{digest}")
        if head.status_code == 200:
            self.skipped += 1
            return
        path = _blob(layout, digest)
        reply = await self._send(
            "POST",
            f"{self.base}/blobs/uploads/",
            params={"digest": digest},
            content=_chunks(path),
            headers={"Content-Length": str(size), "Content-Type": "application/octet-stream"},
        )
        if reply.status_code != 201:
            raise UploadError(f"the registry refused blob {digest}: {_why(reply)}")
        self.uploaded += 1
        self.log(f"uploaded {digest} ({size} bytes)")

    async def _put_manifest(self, reference: str, raw: bytes, media_type: str, digest: str) -> None:
        reply = await self._send(
            "PUT",
            f"{self.base}/manifests/{reference}",
            content=raw,
            headers={"Content-Type": media_type},
        )
        if reply.status_code != 201:
            raise UploadError(f"the registry refused manifest {reference}: {_why(reply)}")
        if reply.headers.get("docker-content-digest", digest) != digest:
            raise UploadError(f"the registry stored {reference} under another digest")

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**kwargs.pop("headers", {}), "Authorization": f"Bearer {await self.token()}"}
        try:
            return await self.http.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise UploadError(
                f"cannot reach the registry at {self.base}: {type(exc).__name__}", transient=True
            ) from None


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _why(reply: httpx.Response) -> str:
    try:
        errors = reply.json().get("errors") or [{}]
        return f"{reply.status_code} {errors[0].get('code', '')} {errors[0].get('message', '')}"
    except (ValueError, AttributeError):
        return f"{reply.status_code} {reply.text[:200]}"
