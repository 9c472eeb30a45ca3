"""Index keys whose list is full, marked in a table of their own.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# As dedup.POSTINGS_PER_KEY when this migration was written: a migration never changes.
POSTINGS_PER_KEY = 64


def upgrade() -> None:
    op.create_table("common_keys", sa.Column("key", sa.BigInteger, primary_key=True,
                                             autoincrement=False))
    op.execute(f"INSERT INTO common_keys (key) SELECT key FROM entry_keys GROUP BY key "
               f"HAVING count(*) >= {POSTINGS_PER_KEY}")


def downgrade() -> None:
    op.drop_table("common_keys")
