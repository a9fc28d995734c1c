"""Who is making a request."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RobotGrant:
    """What a robot account holds: `actions` on the repositories of one namespace, no more."""

    namespace: str
    actions: frozenset[str]


@dataclass(frozen=True, slots=True)
class Identity:
    name: str  # "" for anonymous, as in the token spec's `sub`
    user_id: int | None = None
    is_admin: bool = False
    robot: RobotGrant | None = None  # set for robot accounts (which are not users)
    # The opaque credential it signed in with ("token:<id>", "robot:<id>"); None: a password.
    credential: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.user_id is None and self.robot is None

    @property
    def by_password(self) -> bool:
        """A user who proved their password (not a token, not a robot)."""
        return self.user_id is not None and self.credential is None


ANONYMOUS = Identity("")
