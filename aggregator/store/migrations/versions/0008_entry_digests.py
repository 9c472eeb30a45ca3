"""What each feed's last document held, entry by entry, so unchanged entries are not
cleaned again.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("entry_digests", sa.JSON))


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("entry_digests")
