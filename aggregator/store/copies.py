"""The copy search: the index keys of new entries and who is filed under them, the
candidates they name, the full comparison with each, and which copy an article shows."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import groupby
from typing import cast

from sqlalchemy import Table, delete, select, text
from sqlalchemy.orm import Session, load_only

from aggregator.dedup import (
    Postings,
    fingerprint,
    index_keys,
    lookup_keys,
    needs_shingles,
    paragraphs,
    rank_candidates,
    same_article,
    unpack_sketch,
    words_of,
)
from aggregator.fulltext.shown import shown_html
from aggregator.models import CleanEntry, Fingerprint
from aggregator.store.base import (
    COMMON_KEYS,
    ENTRIES,
    ENTRY_KEYS,
    RECENT_KEYS,
    _chunks,
    _rows_among,
)
from aggregator.store.schema import EntryRow, FeedRow


@dataclass(frozen=True)
class _Candidate:
    """A stored entry that a new one may be a copy of: what deciding needs, as plain values."""

    id: int
    feed_id: int
    identity: str
    article_id: int | None
    dated: datetime
    first_seen: datetime
    fingerprint: Fingerprint


def _candidates(session: Session, ids: set[int]) -> dict[int, _Candidate]:
    # Plain rows, not ORM objects: a first poll compares each new entry with several.
    dialect = session.get_bind().dialect
    to_time = ENTRIES.c.dated.type.dialect_impl(dialect).result_processor(dialect, None)
    assert to_time is not None  # UTCDateTime always makes the time aware
    query = (f"SELECT id, feed_id, identity, article_id, dated, first_seen, canonical_link, "
             f"title_key, sketch, shingle_count FROM {ENTRIES.name} WHERE id")
    return {
        row[0]: _Candidate(
            row[0], row[1], row[2], row[3], cast(datetime, to_time(row[4])),
            cast(datetime, to_time(row[5])),
            Fingerprint(link=row[6], title=row[7] or "", size=row[9] or 0,
                        sketch=unpack_sketch(row[8]), lead=None))
        for row in _rows_among(session, query, sorted(ids), "integer")
    }


@dataclass(frozen=True)
class _Search:
    """What the copy search of a document's new entries needs once they are filed."""

    keys: dict[str, list[int]]  # each new entry's index keys, by identity
    postings: Postings  # who is filed under those keys
    worth: dict[str, list[int]]  # the stored entries worth comparing with each
    candidates: dict[int, _Candidate]  # those entries, by id


def _search_copies(session: Session, fresh: Sequence[CleanEntry], *, siblings: set[int]
                   ) -> _Search:
    """Look up the index keys of new entries and the stored entries they name, but
    `siblings` (the document's own)."""
    keys, postings = _postings(session, {e.identity: e.fingerprint for e in fresh
                                         if e.fingerprint is not None})
    worth = {e.identity: rank_candidates(e.fingerprint, postings, keys[e.identity], siblings)
             for e in fresh if e.fingerprint is not None}
    candidates = _candidates(session, {i for ids in worth.values() for i in ids})
    return _Search(keys, postings, worth, candidates)


def _find_copy(session: Session, entry: CleanEntry, ids: Sequence[int],
               candidates: dict[int, _Candidate]) -> _Candidate | None:
    """The stored entry `entry` is a copy of, earliest first, among those of `ids` (at
    most dedup.MAX_CANDIDATES: the bound on full comparisons)."""
    if entry.fingerprint is None:
        return None
    return _find_text_copy(session, entry.fingerprint, entry.content or entry.summary, ids,
                           candidates)


def _find_text_copy(session: Session, fingerprinted: Fingerprint, html: str,
                    ids: Sequence[int], candidates: dict[int, _Candidate]
                    ) -> _Candidate | None:
    """The stored entry a text (its fingerprint and HTML) copies, as _find_copy says."""
    # Compared through a copy: the set of its shingles that comparing makes (30 KB) goes
    # with the search, not with the entry, which lives until its whole group is stored.
    found = replace(fingerprinted)
    for row in sorted((candidates[i] for i in ids if i in candidates),
                      key=lambda r: (r.dated, r.first_seen, r.id)):
        stored = row.fingerprint
        if needs_shingles(found, stored):
            stored = _with_shingles(session, row)

        def texts(row: _Candidate = row) -> tuple[list[str], list[str]]:
            return words_of(html), _stored_words(session, row.id)

        if same_article(found, stored, texts):
            return row
    return None


# A stored entry's text as it shows it (fulltext.shown): its page's, else its feed's.
_SHOWN_TEXT = (EntryRow.content, EntryRow.summary, EntryRow.page_status, EntryRow.page_html)


def _stored_words(session: Session, entry_id: int) -> list[str]:
    """A stored entry's normalized words, from its text."""
    content, summary, status, page = session.execute(
        select(*_SHOWN_TEXT).where(EntryRow.id == entry_id)).one()
    return words_of(shown_html(content or "", summary or "", status, page))


def _with_shingles(session: Session, row: _Candidate) -> Fingerprint:
    """A candidate's fingerprint with all its shingles, from its text as stored."""
    title, link, content, summary, status, page, boilerplate = session.execute(
        select(EntryRow.title, EntryRow.link, *_SHOWN_TEXT, FeedRow.boilerplate)
        .join(FeedRow, EntryRow.feed_id == FeedRow.id).where(EntryRow.id == row.id)).one()
    whole = fingerprint(title, link, paragraphs(shown_html(content or "", summary or "",
                                                           status, page)),
                        frozenset(boilerplate or ()))
    return replace(row.fingerprint, shingles=whole.shingles)


def _postings(session: Session, found: Mapping[str, Fingerprint]
              ) -> tuple[dict[str, list[int]], Postings]:
    """Each entry's index keys (dedup.index_keys: its smallest hashes that are not
    common, ...) and who is filed under them.

    Common keys are looked up among the marked ones, one index probe each: their
    lists are never read.
    """
    wanted = sorted({key for fingerprint in found.values() for key in lookup_keys(fingerprint)})
    marked = f"SELECT key FROM {COMMON_KEYS.name} WHERE key"
    postings = Postings(common={key for (key,) in _rows_among(session, marked, wanted, "bigint")})
    keys = {name: index_keys(fingerprint, postings.common) for name, fingerprint in found.items()}
    chosen = sorted({key for some in keys.values() for key in some})
    for table in (ENTRY_KEYS, RECENT_KEYS):  # a key's list: its entries in both levels
        query = f"SELECT key, entry_id FROM {table.name} WHERE key"
        for key, entry_id in _rows_among(session, query, chosen, "bigint"):
            postings.lists.setdefault(key, []).append(entry_id)
    return keys, postings


# New entries are filed in recent_keys, a tree small enough for its pages to stay
# cached, and their keys moved into entry_keys together once it holds this many
# entries' (about 100,000 keys of prose): filed one by one into entry_keys, nearly
# every key of a large table wrote a page of its own at each commit (docs/dedup.md).
RECENT_ENTRIES = 5000
# ... or this share of the table (its newest id), when more: a move writes nearly every
# page of a large entry_keys whatever it moves, so a move's cost per entry stays the
# same as the table grows. At 200,000 entries: 12,500, 240,000 keys, 5 MB of pages.
RECENT_SHARE = 16


def _file_keys(session: Session, entries: Sequence[tuple[int, Sequence[int]]],
               postings: Postings, table: Table = ENTRY_KEYS) -> None:
    """File entries (id, index keys) under their keys but the common ones, in `table`
    (RECENT_KEYS for new entries), and mark the keys whose lists filled up (another
    poll of the transaction may have marked one)."""
    _insert_keys(session, table, [(entry_id, key) for entry_id, keys in entries
                                  for key in postings.file(entry_id, keys)])
    if postings.filled:
        # Plain SQL, which SQLite and PostgreSQL both take: importing SQLAlchemy's
        # PostgreSQL dialect for its insert() would weigh on every SQLite process.
        session.execute(text(f"INSERT INTO {COMMON_KEYS.name} (key) VALUES (:key) "
                             "ON CONFLICT DO NOTHING"),
                        [{"key": key} for key in sorted(postings.filled)])
        postings.filled.clear()


def _insert_keys(session: Session, table: Table, keys: Sequence[tuple[int, int]]) -> None:
    """Insert (entry id, key) rows, about twenty an entry, as directly as the driver allows.

    Two integers a row need no SQLAlchemy type processing, which would cost more than
    the insert: SQLite takes them through sqlite3's executemany, PostgreSQL as two
    arrays in one statement (psycopg's executemany sends each row on its own).
    """
    if not keys:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        entry_ids, values = zip(*keys, strict=True)
        connection.exec_driver_sql(
            f"INSERT INTO {table.name} (entry_id, key) "
            "SELECT * FROM unnest(%s::integer[], %s::bigint[])",
            (list(entry_ids), list(values)))
    else:
        connection.exec_driver_sql(f"INSERT INTO {table.name} (entry_id, key) VALUES (?, ?)",
                                   keys)


def _merge_recent_keys(session: Session, newest: int) -> None:
    """Move the recent level's keys into entry_keys, in key order, once it holds those
    of RECENT_ENTRIES entries, or of newest / RECENT_SHARE (`newest`: the id of the last
    entry inserted).

    In key order, the move writes each page of entry_keys it reaches once, for all
    the keys that fall in it. The oldest recent entry is one index probe away.
    """
    oldest = session.execute(select(RECENT_KEYS.c.entry_id)
                             .order_by(RECENT_KEYS.c.entry_id).limit(1)).scalar()
    if oldest is None or newest - oldest < max(RECENT_ENTRIES, newest // RECENT_SHARE):
        return
    connection = session.connection()
    connection.exec_driver_sql(
        f"INSERT INTO {ENTRY_KEYS.name} (key, entry_id) "
        f"SELECT key, entry_id FROM {RECENT_KEYS.name} ORDER BY key, entry_id")
    # Without a WHERE (and no foreign key), SQLite clears the table in one go.
    connection.exec_driver_sql(f"DELETE FROM {RECENT_KEYS.name}")


def _forget_keys(session: Session, entry_ids: Sequence[int]) -> None:
    """Take entries out of the index, both levels: they are removed, or filed anew."""
    for table in (ENTRY_KEYS, RECENT_KEYS):
        session.execute(delete(table).where(table.c.entry_id.in_(entry_ids)))


def _elect_canonicals(session: Session, article_ids: Collection[int],
                      now: datetime | None = None) -> None:
    """Show each article's copy published first (ties: first seen); the others are
    "also published on".

    With `now`, every copy of an article that changed at `now` (a copy added,
    updated or re-dated) or now shows another copy is marked changed at `now`:
    the shown copy's page lists the others, and a switch moves the article to
    another day, so the next render must find every day involved.
    """
    for chunk in _chunks(sorted(article_ids), 500):
        # Copies stored by one poll share first_seen: the feed name keeps the choice stable.
        copies = session.scalars(
            select(EntryRow).join(FeedRow, EntryRow.feed_id == FeedRow.id)
            .where(EntryRow.article_id.in_(chunk))
            .options(load_only(EntryRow.id, EntryRow.article_id, EntryRow.dated,
                               EntryRow.first_seen, EntryRow.is_canonical, EntryRow.changed))
            .order_by(EntryRow.article_id, EntryRow.dated, EntryRow.first_seen, FeedRow.name,
                      EntryRow.identity)
        ).all()
        for _, group in groupby(copies, key=lambda row: row.article_id):
            _elect(list(group), now)


def _elect(copies: Sequence[EntryRow], now: datetime | None) -> None:
    switched = False
    for index, row in enumerate(copies):
        if row.is_canonical != (index == 0):
            row.is_canonical = index == 0
            switched = True
    if now is not None and len(copies) > 1 and (
            switched or any(row.changed == now for row in copies)):
        for row in copies:
            row.changed = now
