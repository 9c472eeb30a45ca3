"""Index keys clustered by (key, entry_id), without SQLite's rowid.

The table held a rowid, an index by key and one by entry: every key filed wrote
three B-trees, and the index by key repeated the table. Now the table is that
index, and the one by entry stays for the cascade on delete.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _create(name: str, *, clustered: bool) -> None:
    entry = sa.Column("entry_id", sa.Integer, sa.ForeignKey("entries.id", ondelete="CASCADE"),
                      nullable=False, primary_key=clustered, autoincrement=False)
    key = sa.Column("key", sa.BigInteger, nullable=False, primary_key=clustered,
                    autoincrement=False)
    if clustered:
        op.create_table(name, key, entry, sqlite_with_rowid=False)
    else:
        op.create_table(name, sa.Column("id", sa.Integer, primary_key=True), entry, key)


def upgrade() -> None:
    _create("entry_keys_clustered", clustered=True)
    # DISTINCT: nothing kept an entry from being filed twice under one key before.
    op.execute("INSERT INTO entry_keys_clustered (key, entry_id) "
               "SELECT DISTINCT key, entry_id FROM entry_keys")
    op.drop_table("entry_keys")
    op.rename_table("entry_keys_clustered", "entry_keys")
    op.create_index("ix_entry_keys_entry", "entry_keys", ["entry_id"])


def downgrade() -> None:
    _create("entry_keys_rowid", clustered=False)
    op.execute("INSERT INTO entry_keys_rowid (entry_id, key) SELECT entry_id, key FROM entry_keys")
    op.drop_table("entry_keys")
    op.rename_table("entry_keys_rowid", "entry_keys")
    op.create_index("ix_entry_keys_key", "entry_keys", ["key", "entry_id"])
    op.create_index("ix_entry_keys_entry", "entry_keys", ["entry_id"])
