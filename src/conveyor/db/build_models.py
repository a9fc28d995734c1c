"""Git sources bound to repositories: where a build fetches from and how pushes are noticed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from conveyor.db.models import Base, utcnow


class BuildSource(Base):
    """One repository's git source. A repository with a source is source-bound (DESIGN §1)."""

    __tablename__ = "build_sources"
    # Random and unguessable: it is the path of the source's inbound webhook, /hooks/git/<id>.
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    repository: Mapped[str] = mapped_column(String(255), unique=True)
    git_url: Mapped[str] = mapped_column(String(2048))
    # Names of stored secrets (conveyor.db.chain_models.Secret), never the values.
    credentials_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    webhook_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    poll_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Polling: the refs `git ls-remote` reported last time ({ref: commit}); None before the first.
    last_refs: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    last_polled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    poll_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
