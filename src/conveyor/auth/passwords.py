"""Password hashing (Argon2id) with a short-lived cache of successful checks.

Registry clients send Basic credentials on every request; a fresh Argon2 check each time would
cost ~50 ms of CPU per request, so a success is remembered for a minute, keyed by a hash that
includes the stored hash (a password change invalidates it at once).
"""

from __future__ import annotations

import hashlib
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
_CACHE_SECONDS = 60.0
_CACHE_MAX = 10_000
_verified: dict[str, float] = {}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    key = hashlib.sha256(f"{stored_hash}\0{password}".encode()).hexdigest()
    now = time.monotonic()
    if _verified.get(key, 0.0) > now:
        return True
    try:
        _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if len(_verified) >= _CACHE_MAX:
        _verified.clear()
    _verified[key] = now + _CACHE_SECONDS
    return True
