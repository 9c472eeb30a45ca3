"""Two levels of index keys: new entries' keys in recent_keys, moved into entry_keys
in key order now and then; entry_keys without its foreign key.

Filing an entry's keys straight into entry_keys wrote a random page of a tree that
grows with the table: at 200,000 entries nearly every key a page of its own, written
twice (log, then database) at each commit. The recent level is small and its pages
stay cached. Moving its keys checked each one's entry, a random page of `entries`:
60% of the move. The store removes an entry's keys itself wherever it removes or
re-files the entry, so the check and its cascade are dropped.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def _keys_table(name: str, *, referenced: bool) -> None:
    """A (key, entry_id) table clustered by key, with its entry's foreign key or not."""
    entry = (sa.ForeignKey("entries.id", ondelete="CASCADE"),) if referenced else ()
    op.create_table(
        name,
        sa.Column("key", sa.BigInteger, nullable=False, primary_key=True, autoincrement=False),
        sa.Column("entry_id", sa.Integer, *entry, nullable=False, primary_key=True,
                  autoincrement=False),
        sqlite_with_rowid=False)


def _rebuild_entry_keys(*, referenced: bool, also: str | None = None) -> None:
    """entry_keys copied into a table with or without the foreign key (with the rows of
    table `also` too, and only the keys of stored entries if with); SQLite can drop or
    add one no other way."""
    _keys_table("entry_keys_new", referenced=referenced)
    rows = "SELECT key, entry_id FROM entry_keys"
    if also:
        rows += f" UNION SELECT key, entry_id FROM {also}"
    if referenced:  # the keys of entries gone would break the foreign key
        rows = f"SELECT * FROM ({rows}) AS k WHERE entry_id IN (SELECT id FROM entries)"
    op.execute(f"INSERT INTO entry_keys_new (key, entry_id) {rows} ORDER BY key, entry_id")
    op.drop_table("entry_keys")
    op.rename_table("entry_keys_new", "entry_keys")
    op.create_index("ix_entry_keys_entry", "entry_keys", ["entry_id"])


def upgrade() -> None:
    _rebuild_entry_keys(referenced=False)
    _keys_table("recent_keys", referenced=False)
    op.create_index("ix_recent_keys_entry", "recent_keys", ["entry_id"])


def downgrade() -> None:
    _rebuild_entry_keys(referenced=True, also="recent_keys")
    op.drop_table("recent_keys")
