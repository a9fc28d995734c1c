"""Secrets (git, endpoint and webhook credentials) encrypted at rest with AES-256-GCM.

The key comes from the configuration (`[secrets] key`, base64 of 32 bytes) or, for the embedded
default, from a key file made once in the data directory. The value is bound to the secret's
name (associated data), so a ciphertext copied to another name does not decrypt.

Key rotation: set the new key as `[secrets] key` and the old one in `[secrets] previous_keys`
(every replica and runner), then run `conveyor secret rotate-key`: values are sealed with the
current key only and opened with any of them, so nothing is unreadable during the change. The
data directory's key file, when one exists beside a configured key, is readable too.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets as random
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from conveyor.db.chain_models import Secret
from conveyor.db.upsert import upsert

MAX_SECRET_BYTES = 64 * 1024


class SecretError(ValueError):
    pass


class SecretBox:
    def __init__(self, key: bytes, previous: Sequence[bytes] = ()) -> None:
        for candidate in (key, *previous):
            if len(candidate) != 32:
                raise SecretError("a secrets key must be 32 bytes (base64 in the configuration)")
        self._aead = AESGCM(key)
        self.key_id = _key_id(key)
        older = [k for k in dict.fromkeys(previous) if k != key]
        self._readers = [self._aead, *(AESGCM(k) for k in older)]
        self.previous_key_ids = tuple(_key_id(k) for k in older)

    @classmethod
    def from_settings(
        cls, configured: str, data_dir: Path, previous_keys: Sequence[str] = ()
    ) -> SecretBox:
        previous = [_decode(text, "[secrets] previous_keys") for text in previous_keys]
        if not configured:
            return cls(_key_file(data_dir / "secret.key"), previous)
        key_file = data_dir / "secret.key"
        if key_file.exists():  # moving from the embedded key file to a configured key
            previous.append(base64.b64decode(key_file.read_bytes().strip()))
        return cls(_decode(configured, "[secrets] key"), previous)

    def seal(self, name: str, value: str) -> tuple[bytes, bytes]:
        nonce = os.urandom(12)
        return nonce, self._aead.encrypt(nonce, value.encode(), name.encode())

    def open(self, name: str, nonce: bytes, ciphertext: bytes) -> str:
        for aead in self._readers:
            try:
                return aead.decrypt(nonce, ciphertext, name.encode()).decode()
            except InvalidTag:
                continue
        raise SecretError(f"secret {name!r} cannot be decrypted with the configured keys")


def _key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


def _decode(text: str, setting: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except ValueError:
        raise SecretError(f"{setting} is not valid base64") from None


def _key_file(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(base64.b64encode(random.token_bytes(32)))
    return base64.b64decode(path.read_bytes().strip())


async def put_secret(session: AsyncSession, box: SecretBox, name: str, value: str) -> None:
    if len(value.encode()) > MAX_SECRET_BYTES:
        raise SecretError("secret values are at most 64 KiB")
    nonce, ciphertext = box.seal(name, value)
    await upsert(
        session,
        Secret,
        ["name"],
        name=name,
        nonce=nonce,
        ciphertext=ciphertext,
        key_id=box.key_id,
        updated_at=datetime.now(UTC),
    )


async def read_secret(session: AsyncSession, box: SecretBox, name: str) -> str | None:
    row = await session.get(Secret, name)
    return None if row is None else box.open(name, row.nonce, row.ciphertext)


async def list_secrets(session: AsyncSession) -> list[Secret]:
    return list((await session.execute(select(Secret).order_by(Secret.name))).scalars())


async def remove_secret(session: AsyncSession, name: str) -> bool:
    result = await session.execute(delete(Secret).where(Secret.name == name))
    return bool(result.rowcount)  # type: ignore[attr-defined]
