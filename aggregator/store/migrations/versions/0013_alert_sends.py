"""The articles each alert told each of its targets of (alert_sends).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_sends",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("alert", sa.String(200), nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("article_id", sa.Integer, nullable=False),
        sa.Column("claimed_at", sa.DateTime, nullable=False),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("claimed_until", sa.DateTime),
        sa.Column("sent_at", sa.DateTime),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.UniqueConstraint("alert", "target", "article_id", name="uq_alert_sends"),
    )
    op.create_index("ix_alert_sends_claimed_by", "alert_sends", ["claimed_by"])


def downgrade() -> None:
    op.drop_index("ix_alert_sends_claimed_by", table_name="alert_sends")
    op.drop_table("alert_sends")
