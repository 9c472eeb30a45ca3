"""Article pages: the whole text of a teaser entry, fetched from its page, kept apart.

Revision ID: 0014
Revises: 0013

Stored entries start as not needing their page: only entries stored from now on are
judged truncated or not (fulltext/), so an upgrade fetches nothing by itself.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_COLUMNS = ("page_status", "page_reason", "page_html", "page_excerpt", "page_etag",
            "page_last_modified", "page_fetched")


def upgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.add_column(sa.Column("page_status", sa.String(20)))
        batch.add_column(sa.Column("page_reason", sa.Text))
        batch.add_column(sa.Column("page_html", sa.Text))
        batch.add_column(sa.Column("page_excerpt", sa.Text))
        batch.add_column(sa.Column("page_etag", sa.Text))
        batch.add_column(sa.Column("page_last_modified", sa.Text))
        batch.add_column(sa.Column("page_fetched", sa.DateTime))
    op.execute("UPDATE entries SET page_status = 'not-needed'")
    op.create_index("ix_entries_page_status", "entries", ["page_status", "feed_id"])


def downgrade() -> None:
    op.drop_index("ix_entries_page_status", "entries")
    with op.batch_alter_table("entries") as batch:
        for name in _COLUMNS:
            batch.drop_column(name)
