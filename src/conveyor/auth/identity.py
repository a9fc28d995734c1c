"""Who is making a request."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Identity:
    name: str  # "" for anonymous, as in the token spec's `sub`
    user_id: int | None = None
    is_admin: bool = False

    @property
    def anonymous(self) -> bool:
        return self.user_id is None


ANONYMOUS = Identity("")
