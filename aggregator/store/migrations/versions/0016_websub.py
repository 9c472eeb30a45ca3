"""WebSub: our subscriptions to the hubs feeds declare, and our pings to our own hub.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "websub_subscriptions",
        sa.Column("feed_name", sa.String(200), primary_key=True),
        sa.Column("hub", sa.Text, nullable=False),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("token", sa.String(64), nullable=False, unique=True),
        sa.Column("secret", sa.String(200), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("requested_at", sa.DateTime, nullable=False),
        sa.Column("lease_seconds", sa.Integer),
        sa.Column("expires_at", sa.DateTime),
        sa.Column("error", sa.Text),
    )
    op.create_table(
        "websub_pings",
        sa.Column("url", sa.String(2000), primary_key=True),
        sa.Column("hub", sa.Text, nullable=False),
        sa.Column("pinged_at", sa.DateTime, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("websub_pings")
    op.drop_table("websub_subscriptions")
