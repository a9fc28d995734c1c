"""Push payloads of GitHub, GitLab, Gitea and Gitee, reduced to what a build needs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conveyor.build.refs import is_deletion
from conveyor.build.signatures import Host, lower_keys

_PUSH_EVENTS = {
    Host.GITHUB: ("x-github-event", {"push"}),
    Host.GITEA: ("x-gitea-event", {"push"}),
    Host.GITLAB: ("x-gitlab-event", {"Push Hook", "Tag Push Hook"}),
    Host.GITEE: ("x-gitee-event", {"Push Hook", "Tag Push Hook"}),
}


class PayloadError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Push:
    ref: str  # full: refs/heads/... or refs/tags/...
    commit: str  # the commit to build (for a deletion: the all-zero id)
    pusher: str | None

    @property
    def deleted(self) -> bool:
        return is_deletion(self.commit)


def is_push(host: Host, headers: Mapping[str, str]) -> bool:
    header, names = _PUSH_EVENTS[host]
    return lower_keys(headers).get(header, "") in names


def parse_push(host: Host, body: bytes) -> Push:
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"the body is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise PayloadError("the body is not a JSON object")
    ref = doc.get("ref")
    after = doc.get("after")
    if not isinstance(ref, str) or not isinstance(after, str):
        raise PayloadError("a push body needs 'ref' and 'after'")
    if doc.get("deleted") is True or is_deletion(after):
        return Push(ref, "0" * 40, _pusher(host, doc))
    return Push(ref, _commit(host, doc, after), _pusher(host, doc))


def _commit(host: Host, doc: dict[str, Any], after: str) -> str:
    """The commit itself: for an annotated tag, `after` may be the tag object."""
    if host is Host.GITLAB and isinstance(doc.get("checkout_sha"), str):
        return str(doc["checkout_sha"])
    head = doc.get("head_commit")
    if isinstance(head, dict) and isinstance(head.get("id"), str):
        return str(head["id"])
    return after


def _pusher(host: Host, doc: dict[str, Any]) -> str | None:
    if host is Host.GITLAB:
        name = doc.get("user_username") or doc.get("user_name")
        return str(name) if name else None
    pusher = doc.get("pusher")
    if isinstance(pusher, dict):
        name = pusher.get("login") or pusher.get("username") or pusher.get("name")
        return str(name) if name else None
    return None
