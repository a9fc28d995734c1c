"""Git refs and commits as they arrive from webhooks, polling and the CLI, checked before use.

A ref or commit ends up as an argument of `git fetch`; only well-formed ones get that far.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

RefType = Literal["branch", "tag"]
PREFIXES: dict[RefType, str] = {"branch": "refs/heads/", "tag": "refs/tags/"}
_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_ZERO = re.compile(r"0{40}|0{64}")
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")
MAX_REF_LENGTH = 255


class RefError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class GitRef:
    type: RefType
    name: str  # without the refs/heads/ or refs/tags/ prefix

    @property
    def full(self) -> str:
        return PREFIXES[self.type] + self.name


def valid_ref_name(name: str) -> bool:
    """The rules of `git check-ref-format` for the part after refs/heads/ or refs/tags/."""
    if not name or len(name) > MAX_REF_LENGTH or name == "@":
        return False
    if _FORBIDDEN.search(name) or ".." in name or "@{" in name or "//" in name:
        return False
    if name.startswith("/") or name.endswith(("/", ".")):
        return False
    return all(not part.startswith(".") and not part.endswith(".lock") for part in name.split("/"))


def parse_ref(ref: str) -> GitRef:
    """`refs/heads/NAME` or `refs/tags/NAME`."""
    for kind, prefix in PREFIXES.items():
        if ref.startswith(prefix):
            name = ref[len(prefix) :]
            if not valid_ref_name(name):
                raise RefError(f"{ref[:300]!r} is not a valid git ref name")
            return GitRef(kind, name)
    raise RefError(f"{ref[:300]!r} is neither a branch (refs/heads/...) nor a tag (refs/tags/...)")


def is_commit(value: str) -> bool:
    return _COMMIT.fullmatch(value) is not None


def is_deletion(commit: str | None) -> bool:
    """The all-zero object id that git hosts send as `after` when a ref is deleted."""
    return commit is not None and _ZERO.fullmatch(commit) is not None


def check_commit(value: str) -> str:
    commit = value.strip().lower()
    if not is_commit(commit):
        raise RefError(f"{value[:80]!r} is not a full commit id (40 or 64 hex digits)")
    return commit
