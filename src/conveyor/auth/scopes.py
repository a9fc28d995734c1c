"""Resource scopes of the Docker token spec: `repository:shop/web:pull,push`."""

from __future__ import annotations

import re
from dataclasses import dataclass

_TYPE = re.compile(r"[a-z0-9]+(?:\([a-z0-9]+\))?")
_ACTION = re.compile(r"[a-z]*|\*")


class ScopeError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Access:
    type: str
    name: str
    actions: tuple[str, ...]

    def to_claim(self) -> dict[str, object]:
        return {"type": self.type, "name": self.name, "actions": list(self.actions)}

    def __str__(self) -> str:
        return f"{self.type}:{self.name}:{','.join(self.actions)}"


def parse_scope(text: str) -> list[Access]:
    """Parse one `scope` value, which may hold several space-separated resource scopes."""
    return [_parse_one(item) for item in text.split()]


def _parse_one(item: str) -> Access:
    # The name may hold one colon (host:port/repo), so take the type from the front and the
    # actions from the end.
    if item.count(":") < 2:
        raise ScopeError(f"invalid scope {item[:100]!r}")
    type_, rest = item.split(":", 1)
    name, actions_text = rest.rsplit(":", 1)
    if not _TYPE.fullmatch(type_) or not name:
        raise ScopeError(f"invalid scope {item[:100]!r}")
    actions = tuple(a for a in actions_text.split(",") if a)
    if not all(_ACTION.fullmatch(a) for a in actions):
        raise ScopeError(f"invalid scope actions {actions_text[:100]!r}")
    if type_.startswith("repository("):
        type_ = "repository"  # the resource class is deprecated and ignored
    return Access(type_, name, actions)
