"""git sources of source-bound repositories

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "build_sources",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("repository", sa.String(length=255), nullable=False),
        sa.Column("git_url", sa.String(length=2048), nullable=False),
        sa.Column("credentials_secret", sa.String(length=64), nullable=True),
        sa.Column("webhook_secret", sa.String(length=64), nullable=True),
        sa.Column("poll_seconds", sa.Integer(), nullable=True),
        sa.Column("last_refs", sa.JSON(), nullable=True),
        sa.Column("last_polled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("poll_error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("repository"),
    )


def downgrade() -> None:
    op.drop_table("build_sources")
