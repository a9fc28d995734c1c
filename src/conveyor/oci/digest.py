"""Content digests as the OCI image spec defines them (`algorithm:encoded`)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Final

# Only the algorithms the image spec registers; anything else is "unsupported", not "invalid".
_ENCODED_PATTERNS: Final = {
    "sha256": re.compile(r"[a-f0-9]{64}"),
    "sha512": re.compile(r"[a-f0-9]{128}"),
}
_GRAMMAR: Final = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")


class DigestError(ValueError):
    """A string that is not a digest, or names an algorithm we do not support."""

    def __init__(self, message: str, *, unsupported: bool = False) -> None:
        super().__init__(message)
        self.unsupported = unsupported


@dataclass(frozen=True, slots=True)
class Digest:
    algorithm: str
    encoded: str

    @classmethod
    def parse(cls, text: str) -> Digest:
        if not _GRAMMAR.fullmatch(text):
            raise DigestError(f"invalid digest {text[:80]!r}")
        algorithm, encoded = text.split(":", 1)
        pattern = _ENCODED_PATTERNS.get(algorithm)
        if pattern is None:
            raise DigestError(f"unsupported digest algorithm {algorithm!r}", unsupported=True)
        if not pattern.fullmatch(encoded):
            raise DigestError(f"invalid {algorithm} digest {text[:80]!r}")
        return cls(algorithm, encoded)

    @classmethod
    def of(cls, data: bytes, algorithm: str = "sha256") -> Digest:
        return cls(algorithm, hashlib.new(algorithm, data).hexdigest())

    def hasher(self) -> hashlib._Hash:
        return hashlib.new(self.algorithm)

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.encoded}"


def is_digest(text: str) -> bool:
    """True when text looks like a digest reference rather than a tag (it has a colon)."""
    return ":" in text
