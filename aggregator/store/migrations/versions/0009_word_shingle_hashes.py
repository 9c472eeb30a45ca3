"""Shingles hashed word by word (dedup.shingle_hashes): every stored entry is
fingerprinted again, and filed under its new sketch keys.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from aggregator.store.migrations.frozen_0009 import (
    INDEX_KEYS,
    fingerprint,
    pack_sketch,
    paragraphs,
    unpack_sketch,
)

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BATCH = 500
# As store.POSTINGS_PER_KEY: a key shared by more entries is a common phrase's.
POSTINGS_PER_KEY = 64

ENTRIES = sa.table("entries", sa.column("id"), sa.column("feed_id"), sa.column("title"),
                   sa.column("link"), sa.column("content"), sa.column("summary"),
                   sa.column("sketch"), sa.column("shingle_count"))
FEEDS = sa.table("feeds", sa.column("id"), sa.column("boilerplate", sa.JSON))
KEYS = sa.table("entry_keys", sa.column("entry_id"), sa.column("key"))


def upgrade() -> None:
    connection = op.get_bind()
    boilerplate = {feed_id: frozenset(known or ())
                   for feed_id, known in connection.execute(sa.select(FEEDS.c.id,
                                                                      FEEDS.c.boilerplate))}
    last = 0
    while True:
        rows = connection.execute(
            sa.select(ENTRIES).where(ENTRIES.c.id > last).order_by(ENTRIES.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        _fingerprint_again(connection, rows, boilerplate)
        last = rows[-1].id


def _fingerprint_again(connection: sa.Connection, rows: Sequence[Any],
                       boilerplate: dict[int, frozenset[int]]) -> None:
    """New sketches for `rows`; their old sketch keys replaced by the new ones.

    Their link, title and lead keys do not depend on the shingle hash and stay.
    """
    found = {row.id: fingerprint(row.title, row.link,
                                 paragraphs(row.content or row.summary or ""),
                                 boilerplate.get(row.feed_id, frozenset()))
             for row in rows}
    stale = [{"entry": row.id, "stale_key": key} for row in rows
             for key in dict.fromkeys(unpack_sketch(row.sketch)[:INDEX_KEYS])]
    if stale:  # one (entry, key) row at a time: found through the key index
        connection.execute(KEYS.delete().where(KEYS.c.entry_id == sa.bindparam("entry"),
                                               KEYS.c.key == sa.bindparam("stale_key")),
                           stale)
    connection.execute(
        ENTRIES.update().where(ENTRIES.c.id == sa.bindparam("entry"))
        .values(sketch=sa.bindparam("new_sketch"), shingle_count=sa.bindparam("size")),
        [{"entry": row.id, "new_sketch": pack_sketch(found[row.id].sketch),
          "size": found[row.id].size} for row in rows])
    wanted = {row.id: list(dict.fromkeys(found[row.id].sketch[:INDEX_KEYS])) for row in rows}
    keys = sorted({key for keys in wanted.values() for key in keys})
    filed: dict[int, int] = {}
    for start in range(0, len(keys), BATCH):
        chunk = keys[start:start + BATCH]
        counted = connection.execute(sa.select(KEYS.c.key, sa.func.count())
                                     .where(KEYS.c.key.in_(chunk)).group_by(KEYS.c.key))
        filed.update((key, count) for key, count in counted)
    new_rows = []
    for entry_id, entry_keys in wanted.items():  # oldest first, as the store files them
        for key in entry_keys:
            if filed.get(key, 0) < POSTINGS_PER_KEY:
                filed[key] = filed.get(key, 0) + 1
                new_rows.append({"entry_id": entry_id, "key": key})
    if new_rows:
        connection.execute(KEYS.insert(), new_rows)


def downgrade() -> None:
    """Nothing to undo in the schema. The fingerprints stay word-hashed: the code of
    0008, which hashed each run whole, then finds copies of them by link, title and
    lead only (the earlier hash is gone from this code, so it cannot restore them)."""
