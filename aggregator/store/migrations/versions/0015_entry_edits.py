"""When an entry's title or text last changed, apart from the copies found of it.

Revision ID: 0015
Revises: 0014

The published feeds dated an article's `updated` by `changed`, which also moves
when a copy of it is found on another blog: readers showed it as edited, and
the merged articles shared one `updated`. Entries stored before this revision
have no edit known (NULL): their feed's own dates stand.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.add_column(sa.Column("edited", sa.DateTime))


def downgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.drop_column("edited")
