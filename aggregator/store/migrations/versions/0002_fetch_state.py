"""What polite fetching remembers: moves, retirement, body hash, interval hints.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS: list[sa.Column[Any]] = [
    sa.Column("moved_to", sa.Text),
    sa.Column("moved_at", sa.DateTime),
    sa.Column("gone_at", sa.DateTime),
    sa.Column("content_hash", sa.String(64)),
    sa.Column("interval_hint", sa.Integer),
    sa.Column("config_hash", sa.String(64)),
    sa.Column("last_status", sa.Integer),
    sa.Column("failing_since", sa.DateTime),
]


def upgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        for column in COLUMNS:
            batch.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        for column in COLUMNS:
            batch.drop_column(column.name)
