"""Repository names and tags, with the grammar of the OCI distribution spec."""

from __future__ import annotations

import re
from typing import Final

NAME_PATTERN: Final = re.compile(
    r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*"
)
TAG_PATTERN: Final = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")
MAX_NAME_LENGTH: Final = 255


class ReferenceError_(ValueError):
    """A repository name or tag that breaks the distribution spec grammar."""


def is_valid_name(name: str) -> bool:
    return len(name) <= MAX_NAME_LENGTH and NAME_PATTERN.fullmatch(name) is not None


def is_valid_tag(tag: str) -> bool:
    return TAG_PATTERN.fullmatch(tag) is not None


def split_namespace(name: str) -> tuple[str, str]:
    """`shop/web/api` -> (`shop`, `web/api`); a one-component name has namespace `library`."""
    if "/" not in name:
        return "library", name
    namespace, rest = name.split("/", 1)
    return namespace, rest
