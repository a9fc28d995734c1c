"""Push webhook requests as GitHub, GitLab, Gitea and Gitee send them (bodies and headers built
from their documented formats), signed the way each host signs, independently of Conveyor's code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any
from urllib.parse import quote_plus

ZERO = "0" * 40


def _commit(sha: str) -> dict[str, Any]:
    return {
        "id": sha,
        "message": "Update the Dockerfile\n",
        "timestamp": "2020-10-15T16:25:31+08:00",
        "url": f"https://git.example.com/shop/web/commit/{sha}",
        "author": {"name": "Dev", "email": "dev@example.com", "username": "dev"},
        "added": [],
        "removed": [],
        "modified": ["docker/Build.docker"],
    }


def github_push(ref: str, after: str, before: str = ZERO) -> dict[str, Any]:
    """GitHub's `push` event payload (docs.github.com, webhook events and payloads)."""
    deleted = after == ZERO
    return {
        "ref": ref,
        "before": before,
        "after": after,
        "created": before == ZERO,
        "deleted": deleted,
        "forced": False,
        "base_ref": None,
        "compare": f"https://github.com/shop/web/compare/{before[:12]}...{after[:12]}",
        "commits": [] if deleted else [_commit(after)],
        "head_commit": None if deleted else _commit(after),
        "repository": {"id": 1296269, "name": "web", "full_name": "shop/web", "private": True},
        "pusher": {"name": "octocat", "email": "octocat@github.com"},
        "sender": {"login": "octocat", "id": 1, "type": "User"},
    }


def github_headers(body: bytes, secret: str, event: str = "push") -> dict[str, str]:
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/044aadd",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-GitHub-Hook-ID": "292430182",
        "X-Hub-Signature-256": f"sha256={signature}",
    }


def gitlab_push(
    ref: str, after: str, before: str = ZERO, tag_object: str | None = None
) -> dict[str, Any]:
    """GitLab's Push Hook / Tag Push Hook payload (docs.gitlab.com, webhook events)."""
    is_tag = ref.startswith("refs/tags/")
    deleted = after == ZERO
    return {
        "object_kind": "tag_push" if is_tag else "push",
        "event_name": "tag_push" if is_tag else "push",
        "before": before,
        "after": tag_object or after,
        "ref": ref,
        "ref_protected": True,
        "checkout_sha": None if deleted else after,
        "message": None,
        "user_id": 4,
        "user_name": "John Smith",
        "user_username": "jsmith",
        "user_email": "",
        "project_id": 15,
        "project": {"id": 15, "name": "web", "path_with_namespace": "shop/web"},
        "commits": [] if deleted else [_commit(after)],
        "total_commits_count": 0 if deleted else 1,
        "repository": {"name": "web", "url": "git@example.com:shop/web.git"},
    }


def gitlab_headers(token: str, tag: bool = False) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "GitLab/16.6.0",
        "X-Gitlab-Event": "Tag Push Hook" if tag else "Push Hook",
        "X-Gitlab-Event-UUID": str(uuid.uuid4()),
        "X-Gitlab-Instance": "https://gitlab.example.com",
        "X-Gitlab-Token": token,
    }


def gitea_push(ref: str, after: str, before: str = ZERO) -> dict[str, Any]:
    """Gitea's push payload (docs.gitea.com, webhooks)."""
    return {
        "ref": ref,
        "before": before,
        "after": after,
        "compare_url": "https://gitea.example.com/shop/web/compare/a...b",
        "commits": [_commit(after)],
        "head_commit": _commit(after),
        "repository": {"id": 140, "name": "web", "full_name": "shop/web", "private": False},
        "pusher": {"id": 1, "login": "gitea", "username": "gitea"},
        "sender": {"id": 1, "login": "gitea", "username": "gitea"},
    }


def gitea_headers(body: bytes, secret: str) -> dict[str, str]:
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Gitea-Delivery": str(uuid.uuid4()),
        "X-Gitea-Event": "push",
        "X-Gitea-Signature": signature,
        # Gitea also sends the GitHub and Gogs names of the event, for tools that know those.
        "X-GitHub-Event": "push",
        "X-Gogs-Event": "push",
    }


def gitee_push(ref: str, after: str, before: str = ZERO) -> dict[str, Any]:
    """Gitee's Push Hook payload (help.gitee.com, WebHook push data format)."""
    return {
        "hook_name": "tag_push_hooks" if ref.startswith("refs/tags/") else "push_hooks",
        "hook_id": 1,
        "ref": ref,
        "before": before,
        "after": after,
        "created": before == ZERO,
        "deleted": after == ZERO,
        "compare": "https://gitee.com/shop/web/compare/a...b",
        "commits": [_commit(after)],
        "head_commit": _commit(after),
        "total_commits_count": 1,
        "repository": {"id": 1, "name": "web", "path": "web", "full_name": "shop/web"},
        "pusher": {"id": 1, "name": "dev", "username": "dev"},
        "sender": {"id": 1, "login": "dev", "name": "dev"},
        "password": "",
        "timestamp": str(int(time.time() * 1000)),
    }


def gitee_headers(secret: str, *, signed: bool, timestamp_ms: int | None = None) -> dict[str, str]:
    """Password mode (the secret itself) or signature mode (timestamp + HMAC, URL-encoded)."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "git-oschina-hook",
        "X-Gitee-Event": "Push Hook",
    }
    if not signed:
        return {**headers, "X-Gitee-Token": secret}
    stamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest()
    return {
        **headers,
        "X-Gitee-Token": quote_plus(base64.b64encode(digest).decode()),
        "X-Gitee-Timestamp": stamp,
    }


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()
