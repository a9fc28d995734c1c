"""The console's session cookie and CSRF tokens.

The cookie holds who signed in, until when, and the session's CSRF token, sealed with the
instance's secrets key (AES-GCM through `SecretBox`, bound to the name "console-session"): it
can be neither read nor forged without the key, and every replica of an instance shares it.
The cookie is HttpOnly and SameSite=Lax; every state-changing request must also carry the
session's CSRF token (a form field or the `X-CSRF-Token` header that htmx sends).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from conveyor.auth.secrets import SecretBox, SecretError

COOKIE = "conveyor_session"
LOGIN_COOKIE = "conveyor_login"  # the CSRF token of the sign-in form, before any session
SEAL_NAME = "console-session"
MAX_AGE_SECONDS = 12 * 3600
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True, slots=True)
class Session:
    user: str
    user_id: int
    csrf: str
    expires: float

    @property
    def expired(self) -> bool:
        return self.expires <= time.time()


def new_session(user: str, user_id: int) -> Session:
    return Session(user, user_id, new_token(), time.time() + MAX_AGE_SECONDS)


def new_token() -> str:
    return secrets.token_urlsafe(24)


def seal(box: SecretBox, session: Session) -> str:
    body = json.dumps(
        {"u": session.user, "i": session.user_id, "c": session.csrf, "e": session.expires},
        separators=(",", ":"),
    )
    nonce, ciphertext = box.seal(SEAL_NAME, body)
    return base64.urlsafe_b64encode(nonce + ciphertext).decode().rstrip("=")


def unseal(box: SecretBox, cookie: str | None) -> Session | None:
    """The session in a cookie, or None when it is missing, forged, damaged or expired."""
    if not cookie or len(cookie) > 4096:
        return None
    try:
        raw = base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4))
        doc = json.loads(box.open(SEAL_NAME, raw[:12], raw[12:]))
        session = Session(str(doc["u"]), int(doc["i"]), str(doc["c"]), float(doc["e"]))
    except (binascii.Error, ValueError, SecretError, KeyError, TypeError):
        return None
    return None if session.expired else session


def tokens_match(expected: str, given: str | None) -> bool:
    return bool(expected) and given is not None and hmac.compare_digest(expected, given)
