"""Feeds and entries, as the first release stored them.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("site_url", sa.Text),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("last_polled", sa.DateTime),
        sa.Column("last_success", sa.DateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("next_poll", sa.DateTime),
    )
    op.create_table(
        "entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("feed_id", sa.Integer, sa.ForeignKey("feeds.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("identity", sa.String(520), nullable=False),
        sa.Column("signature", sa.String(64), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("link", sa.Text),
        sa.Column("author", sa.Text),
        sa.Column("published", sa.DateTime),
        sa.Column("updated", sa.DateTime),
        sa.Column("first_seen", sa.DateTime, nullable=False),
        sa.Column("dated", sa.DateTime, nullable=False),
        sa.Column("changed", sa.DateTime, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("excerpt", sa.Text, nullable=False),
        sa.UniqueConstraint("feed_id", "identity", name="uq_entries_feed_identity"),
    )
    op.create_index("ix_entries_dated", "entries", ["dated"])


def downgrade() -> None:
    op.drop_table("entries")
    op.drop_table("feeds")
