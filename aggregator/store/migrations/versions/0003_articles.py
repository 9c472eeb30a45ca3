"""Articles across feeds: fingerprints, candidate keys, canonical copies, feed boilerplate.

Revision ID: 0003
Revises: 0002

Entries stored before this revision become one article each, fingerprinted
here so that copies arriving later are recognized.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aggregator.store.migrations.frozen_0009 import (
    fingerprint,
    index_keys,
    pack_sketch,
    paragraphs,
)

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.add_column(sa.Column("article_id", sa.Integer))
        batch.add_column(sa.Column("is_canonical", sa.Boolean, nullable=False,
                                   server_default=sa.true()))
        batch.add_column(sa.Column("canonical_link", sa.Text))
        batch.add_column(sa.Column("title_key", sa.Text))
        batch.add_column(sa.Column("sketch", sa.LargeBinary))
        batch.add_column(sa.Column("shingle_count", sa.Integer, nullable=False,
                                   server_default="0"))
        batch.create_index("ix_entries_article", ["article_id"])
        batch.create_index("ix_entries_canonical_dated", ["is_canonical", "dated"])
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("boilerplate", sa.JSON))
    op.create_table(
        "entry_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("entry_id", sa.Integer, sa.ForeignKey("entries.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("key", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_entry_keys_key", "entry_keys", ["key", "entry_id"])
    op.create_index("ix_entry_keys_entry", "entry_keys", ["entry_id"])
    _fingerprint_existing()


def _fingerprint_existing() -> None:
    connection = op.get_bind()
    entries = sa.table("entries", sa.column("id"), sa.column("title"), sa.column("link"),
                       sa.column("content"), sa.column("summary"), sa.column("article_id"),
                       sa.column("canonical_link"), sa.column("title_key"),
                       sa.column("sketch"), sa.column("shingle_count"))
    keys = sa.table("entry_keys", sa.column("entry_id"), sa.column("key"))
    rows = connection.execute(sa.select(entries.c.id, entries.c.title, entries.c.link,
                                        entries.c.content, entries.c.summary)).all()
    for row in rows:
        found = fingerprint(row.title, row.link, paragraphs(row.content or row.summary or ""))
        connection.execute(entries.update().where(entries.c.id == row.id).values(
            article_id=row.id, canonical_link=found.link, title_key=found.title,
            sketch=pack_sketch(found.sketch), shingle_count=found.size))
        if index_keys(found):
            connection.execute(keys.insert(), [{"entry_id": row.id, "key": key}
                                               for key in index_keys(found)])


def downgrade() -> None:
    op.drop_table("entry_keys")
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("boilerplate")
    with op.batch_alter_table("entries") as batch:
        batch.drop_index("ix_entries_canonical_dated")
        batch.drop_index("ix_entries_article")
        for name in ("shingle_count", "sketch", "title_key", "canonical_link",
                     "is_canonical", "article_id"):
            batch.drop_column(name)
