"""Opaque credentials (robot and personal tokens): random text shown once, kept as a hash.

The tokens carry 256 random bits, so a plain SHA-256 is enough to store them (no password
stretching is needed against guessing) and a check costs one indexed lookup, not 50 ms of Argon2.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ROBOT_PREFIX = "cvr_"
PERSONAL_PREFIX = "cvt_"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def matches(token: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(token), stored_digest)
