"""What an incremental render asks: entries changed since a moment, and the dates
entries left when they were re-dated.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_entries_changed", "entries", ["changed"])
    op.create_table(
        "entry_moves",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("dated", sa.DateTime, nullable=False),
        sa.Column("moved_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_entry_moves_moved_at", "entry_moves", ["moved_at"])


def downgrade() -> None:
    op.drop_index("ix_entry_moves_moved_at", table_name="entry_moves")
    op.drop_table("entry_moves")
    op.drop_index("ix_entries_changed", table_name="entries")
