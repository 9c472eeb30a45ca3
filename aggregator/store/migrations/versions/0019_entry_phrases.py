"""Each entry's key phrases, kept for the week's trends: every render process found
them again with YAKE (~2-4 ms an article, five weeks of articles), 20 of the 25 s of
rendering a day of 10,000 entries.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "entry_phrases",
        sa.Column("entry_id", sa.Integer, sa.ForeignKey("entries.id", ondelete="CASCADE"),
                  nullable=False, primary_key=True, autoincrement=False),
        sa.Column("text_digest", sa.BigInteger, nullable=False),
        sa.Column("phrases", sa.JSON, nullable=False))


def downgrade() -> None:
    op.drop_table("entry_phrases")
