"""Enclosures, thumbnails and language of entries; signatures without the date.

Revision ID: 0004
Revises: 0003

The signature no longer covers the published date (a re-dated post is not
"updated"), so the stored ones are recomputed: otherwise every entry would look
changed at its next poll.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aggregator.store.migrations.frozen_0004 import entry_signature

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.add_column(sa.Column("language", sa.String(35)))
        batch.add_column(sa.Column("enclosures", sa.JSON))
        batch.add_column(sa.Column("thumbnail", sa.Text))
    connection = op.get_bind()
    entries = sa.table("entries", sa.column("id"), sa.column("title"), sa.column("link"),
                       sa.column("author"), sa.column("content"), sa.column("summary"),
                       sa.column("signature"))
    rows = connection.execute(sa.select(entries.c.id, entries.c.title, entries.c.link,
                                        entries.c.author, entries.c.content,
                                        entries.c.summary)).all()
    for row in rows:
        signature = entry_signature(row.title, row.link, row.author, row.content or "",
                                    row.summary or "", [""])
        connection.execute(entries.update().where(entries.c.id == row.id)
                           .values(signature=signature))


def downgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        for name in ("thumbnail", "enclosures", "language"):
            batch.drop_column(name)
