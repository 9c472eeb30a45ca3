"""Newsletter deliveries: each (newsletter, period) claimed once, then recorded.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("newsletter", sa.String(200), nullable=False),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("claimed_by", sa.String(200), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("delivered", sa.Integer, nullable=False),
        sa.Column("articles", sa.Integer, nullable=False),
        sa.Column("message_id", sa.Text, nullable=True),
        sa.Column("errors", sa.JSON, nullable=True),
        sa.UniqueConstraint("newsletter", "period", name="uq_deliveries_period"),
    )


def downgrade() -> None:
    op.drop_table("deliveries")
