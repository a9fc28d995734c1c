"""Where things live in the blob store."""

from __future__ import annotations

from conveyor.oci.digest import Digest


def blob_path(digest: Digest) -> str:
    return f"blobs/{digest.algorithm}/{digest.encoded[:2]}/{digest.encoded}"


def upload_dir(upload_id: str) -> str:
    return f"uploads/{upload_id}/"


def upload_part(upload_id: str, offset: int) -> str:
    return f"uploads/{upload_id}/part-{offset:020d}"


def upload_joined(upload_id: str) -> str:
    return f"uploads/{upload_id}/joined"


def digest_from_blob_path(path: str) -> Digest | None:
    parts = path.split("/")
    if len(parts) != 4 or parts[0] != "blobs":
        return None
    try:
        return Digest.parse(f"{parts[1]}:{parts[3]}")
    except ValueError:
        return None
