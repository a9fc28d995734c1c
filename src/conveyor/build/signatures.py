"""Inbound webhook verification, each host with its own scheme (DESIGN §5.1).

* GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`.
* Gitea: `X-Gitea-Signature: <hex HMAC-SHA256 of the body>` (newer Gitea also sends GitHub's).
* GitLab: `X-Gitlab-Token: <the secret>`, compared in constant time.
* Gitee: `X-Gitee-Token` holds the secret itself (password mode), or, with `X-Gitee-Timestamp`
  (milliseconds), base64 of HMAC-SHA256(secret, "<timestamp>\\n<secret>"), possibly URL-encoded;
  the timestamp must be within an hour. Gitee's signature does not cover the body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from enum import StrEnum
from urllib.parse import unquote

GITEE_WINDOW_SECONDS = 3600


class Host(StrEnum):
    GITHUB = "github"
    GITLAB = "gitlab"
    GITEA = "gitea"
    GITEE = "gitee"


# Checked in this order: Gitea also sends X-GitHub-Event, for tools that only know GitHub.
_EVENT_HEADERS = (
    (Host.GITEE, "x-gitee-event"),
    (Host.GITEA, "x-gitea-event"),
    (Host.GITLAB, "x-gitlab-event"),
    (Host.GITHUB, "x-github-event"),
)


def lower_keys(headers: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}


def detect_host(headers: Mapping[str, str]) -> Host | None:
    names = lower_keys(headers)
    for host, header in _EVENT_HEADERS:
        if header in names:
            return host
    return None


def hmac_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def gitee_signature(secret: str, timestamp: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def verify(
    host: Host,
    headers: Mapping[str, str],
    body: bytes,
    secret: str,
    now: float | None = None,
) -> bool:
    """True when the request carries a valid proof of `secret` for its host's scheme."""
    names = lower_keys(headers)
    if host is Host.GITHUB:
        return _same(names.get("x-hub-signature-256", ""), "sha256=" + hmac_hex(secret, body))
    if host is Host.GITEA:
        given = names.get("x-gitea-signature")
        if given is not None:
            return _same(given.strip().lower(), hmac_hex(secret, body))
        return _same(names.get("x-hub-signature-256", ""), "sha256=" + hmac_hex(secret, body))
    if host is Host.GITLAB:
        return _same(names.get("x-gitlab-token", ""), secret)
    return _verify_gitee(names, secret, time.time() if now is None else now)


def _verify_gitee(names: Mapping[str, str], secret: str, now: float) -> bool:
    token = names.get("x-gitee-token", "")
    if not token:
        return False
    if _same(token, secret):
        return True
    timestamp = names.get("x-gitee-timestamp", "").strip()
    if not timestamp.isdigit() or abs(now - int(timestamp) / 1000) > GITEE_WINDOW_SECONDS:
        return False
    expected = gitee_signature(secret, timestamp)
    return _same(token, expected) or _same(unquote(token), expected)
