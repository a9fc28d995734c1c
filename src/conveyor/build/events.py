"""A push event: a commit on a ref of a source-bound repository, however it was noticed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from conveyor.build.refs import GitRef


@dataclass(frozen=True, slots=True)
class PushEvent:
    repository: str
    ref: GitRef
    commit: str
    pushed_at: datetime
    via: str  # webhook:github | webhook:gitlab | ... | poll | cli | manual
    pusher: str | None = None

    def trigger(self, rule_number: int, first_tag: str | None) -> dict[str, Any]:
        """The record's trigger (DESIGN §4.4); `rule` counts from 1, as the CLI does."""
        trigger: dict[str, Any] = {
            "type": "git",
            "repository": self.repository,
            "ref": self.ref.full,
            "commit": self.commit,
            "rule": rule_number,
            "pushedAt": self.pushed_at.isoformat(),
            "via": self.via,
        }
        if first_tag:
            trigger["tag"] = first_tag
        if self.pusher:
            trigger["pusher"] = self.pusher
        return trigger
