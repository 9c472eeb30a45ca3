"""Saving a poll: its new entries inserted (each filed under its article), changed ones
updated in place, re-dated ones filed anew, and the feed's new state."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, load_only

from aggregator.dedup import Postings, pack_sketch
from aggregator.models import CleanEntry, FeedPoll, Fingerprint, PollRecord, SaveCounts
from aggregator.poll.decide import filing_date, is_redated
from aggregator.poll.values import MAX_LANGUAGE
from aggregator.store.base import (
    ENTRIES,
    FILING_LOCK,
    RECENT_KEYS,
    StoreBase,
    _rows_among,
    wrap_errors,
)
from aggregator.store.copies import (
    _Candidate,
    _elect_canonicals,
    _file_keys,
    _find_copy,
    _forget_keys,
    _merge_recent_keys,
    _postings,
    _Search,
    _search_copies,
)
from aggregator.store.feeds import _apply_record, _feed_rows
from aggregator.store.schema import EntryMoveRow, EntryRow


class EntriesMixin(StoreBase):
    """The Store's methods that save polls."""

    @wrap_errors("store the poll")
    def save_poll(self, name: str, record: PollRecord, entries: Sequence[CleanEntry] = (),
                  unchanged: Collection[str] = ()) -> SaveCounts:
        """Store a poll's entries and the feed's new state in one transaction.

        `unchanged` names the document's other entries, stored by an earlier poll
        as they are now. A process killed mid-run leaves each feed either fully
        polled or not at all: re-running adds nothing twice and loses nothing.
        """
        return self.save_polls([FeedPoll(name, record, entries, unchanged)])[0]

    @wrap_errors("store the polls")
    def save_polls(self, polls: Sequence[FeedPoll]) -> list[SaveCounts]:
        """Store several feeds' polls in one transaction: all of them, or none.

        A poll of many feeds commits once per group instead of once per feed:
        each commit writes the index pages it touched, and a thousand feeds
        answering 304 would otherwise cost a thousand commits.
        """
        try:
            return self._save_polls(polls)
        except IntegrityError:
            # Another worker stored some of these between our read and our write;
            # the unique constraint caught it, and a second pass sees its rows.
            return self._save_polls(polls)

    def _save_polls(self, polls: Sequence[FeedPoll]) -> list[SaveCounts]:
        counts = []
        with self._session.begin() as session:
            if any(poll.entries for poll in polls):
                _lock_filing(session)
            rows = _feed_rows(session, [poll.name for poll in polls])
            for poll in polls:
                feed = rows[poll.name]
                counts.append(_save_entries(session, feed.id, poll.entries,
                                            poll.record.polled_at, unchanged=poll.unchanged))
                _apply_record(feed, poll.record)
        return counts


def _lock_filing(session: Session) -> None:
    """File one poll's entries at a time across every process: call first in a transaction.

    Finding a copy needs the other processes' entries committed: two workers storing
    copies of one post at the same moment would each see none and show it twice.
    The lock lasts the transaction, a few milliseconds; fetching and parsing, the
    long part of a poll, stay parallel. PostgreSQL: an advisory transaction lock.
    SQLite: the write lock taken at the start (BEGIN IMMEDIATE), not at the first write.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FILING_LOCK})
    elif dialect == "sqlite":
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")


def _save_entries(session: Session, feed_id: int, entries: Sequence[CleanEntry],
                  now: datetime, *, restamp: bool = True,
                  unchanged: Collection[str] = ()) -> SaveCounts:
    """Insert new entries, update changed ones in place, and file each under its article.

    A new entry that matches a stored one of another feed becomes a copy of that
    article; one that matches a stored entry of the same feed whose id is no
    longer in the document (`entries` and `unchanged`) is that entry under a new
    id (the feed migrated).
    """
    if not entries:
        return SaveCounts()
    # Entries of one document are never copies of each other: their ids are left out.
    document = _ids_by_identity(session, feed_id, sorted({e.identity for e in entries}
                                                         | set(unchanged)))
    existing = _stored_rows(session, [document[e.identity] for e in entries
                                      if e.identity in document])
    search = _search_copies(session, [e for e in entries if e.identity not in existing],
                            siblings=set(document.values()))
    counts, articles, added = _merge_entries(session, feed_id, entries, existing, search, now)
    _insert_added(session, feed_id, added, search.postings, search.keys, now)
    _elect_canonicals(session, articles, now if restamp else None)
    return SaveCounts(new=counts["new"], updated=counts["updated"],
                      duplicates=counts["duplicates"], recognized=counts["recognized"])


def _merge_entries(session: Session, feed_id: int, entries: Sequence[CleanEntry],
                   existing: Mapping[str, EntryRow], search: _Search, now: datetime
                   ) -> tuple[Counter[str], set[int], list[tuple[CleanEntry, _Candidate | None]]]:
    """Update the document's stored entries in place; return what each kind of entry
    counts, the articles whose shown copy may change, and the entries to insert, each
    with the stored entry it is a copy of."""
    counts: Counter[str] = Counter()
    articles: set[int] = set()
    added: list[tuple[CleanEntry, _Candidate | None]] = []
    for entry in entries:
        row = existing.get(entry.identity)
        if row is None:
            match = _find_copy(session, entry, search.worth.get(entry.identity, ()),
                               search.candidates)
            if match is not None and match.feed_id == feed_id:
                # The feed re-issued a stored entry under a new id (http→https, a new
                # platform): the stored one takes the new id, nothing is added.
                stored = session.get_one(EntryRow, match.id)
                stored.identity = entry.identity
                if stored.signature != entry.signature:
                    _update_row(session, stored, entry, now)
                counts["recognized"] += 1
                articles.add(match.article_id or match.id)
                continue
            added.append((entry, match))
            counts["duplicates" if match else "new"] += 1
            if match is not None:
                articles.add(match.article_id or match.id)
        elif row.signature != entry.signature:
            _update_row(session, row, entry, now)
            counts["updated"] += 1
            articles.add(row.article_id or row.id)
        elif _redate(session, row, entry, now):
            articles.add(row.article_id or row.id)
    return counts, articles, added


def _stored_rows(session: Session, ids: Sequence[int]) -> dict[str, EntryRow]:
    """Stored entries of the document, by identity, as ORM rows to update in place.

    Their ids come first, through the driver: new entries (all of a first poll's) need
    no ORM query, which would also flush the group's pending changes one feed at a time.
    """
    if not ids:
        return {}
    # Only what comparing needs: an unchanged entry (most of them) costs no text.
    return {row.identity: row for row in session.scalars(
        select(EntryRow).where(EntryRow.id.in_(ids)).options(load_only(*_SAVED_COLUMNS)))}


def _ids_by_identity(session: Session, feed_id: int, identities: Sequence[str]
                     ) -> dict[str, int]:
    """The ids of the feed's stored entries among `identities`, through the driver."""
    query = f"SELECT identity, id FROM {ENTRIES.name} WHERE feed_id = {int(feed_id)} AND identity"
    return {identity: entry_id for identity, entry_id
            in _rows_among(session, query, identities, "text")}


# What _save_entries reads of a stored entry of the document; the rest loads if written.
_SAVED_COLUMNS = (
    EntryRow.id, EntryRow.feed_id, EntryRow.identity, EntryRow.signature,
    EntryRow.published, EntryRow.first_seen, EntryRow.dated, EntryRow.changed,
    EntryRow.article_id,
)


def _insert_added(session: Session, feed_id: int,
                  added: Sequence[tuple[CleanEntry, _Candidate | None]],
                  postings: Postings, keys: Mapping[str, Sequence[int]],
                  now: datetime) -> None:
    """Insert new entries with their article and index keys: three statements in all.

    A copy joins its match's article; any other entry founds an article, named by
    its own id, known once inserted.
    """
    if not added:
        return
    session.flush()  # the ORM's pending changes (updates, moves) first, in order
    # One executemany, then the new ids by identity: asked to return them in order,
    # SQLAlchemy inserts the rows one statement each on SQLite.
    session.execute(insert(ENTRIES),
                    [_new_values(feed_id, entry, now, match) for entry, match in added])
    identities = [entry.identity for entry, _ in added]
    new_ids = _ids_by_identity(session, feed_id, identities)
    ids = [new_ids[identity] for identity in identities]
    if any(match is None for _, match in added):
        # The founders of new articles name them; no other row of the feed lacks one.
        session.connection().exec_driver_sql(
            f"UPDATE {ENTRIES.name} SET article_id = id "
            f"WHERE feed_id = {int(feed_id)} AND article_id IS NULL")
    _file_keys(session, [(entry_id, keys.get(entry.identity, ()))
                         for entry_id, (entry, _) in zip(ids, added, strict=True)],
               postings, RECENT_KEYS)
    _merge_recent_keys(session, max(ids))


def _new_values(feed_id: int, entry: CleanEntry, now: datetime,
                match: _Candidate | None) -> dict[str, object]:
    """The columns of a new entry's row (its article: its match's, else set once inserted)."""
    found = entry.fingerprint
    return {
        "feed_id": feed_id, "identity": entry.identity, "signature": entry.signature,
        "title": entry.title, "link": entry.link, "author": entry.author,
        "published": entry.published, "updated": entry.updated,
        "first_seen": now, "dated": filing_date(entry.published, entry.updated, now),
        "changed": now,
        "content": entry.content, "summary": entry.summary, "excerpt": entry.excerpt,
        "article_id": (match.article_id or match.id) if match else None,
        "is_canonical": True, **_page_wanted(entry),
        **(_fingerprint_values(found) if found else _NO_FINGERPRINT),
        **_media_values(entry),
    }


def _update_row(session: Session, row: EntryRow, entry: CleanEntry, now: datetime) -> None:
    if (row.title, row.content, row.summary) != (entry.title, entry.content, entry.summary):
        row.edited = now  # a new link, author or image alone is no edit to readers
    row.signature = entry.signature
    row.title, row.link, row.author = entry.title, entry.link, entry.author
    row.published, row.updated = entry.published, entry.updated
    _file_under(session, row, filing_date(entry.published, entry.updated,
                                          row.first_seen, row.dated), now)
    row.content, row.summary, row.excerpt = entry.content, entry.summary, entry.excerpt
    row.changed = now
    # The entry changed: its page is judged again (its validators kept, for a 304).
    for name, value in _page_wanted(entry).items():
        setattr(row, name, value)
    _set_media(row, entry)
    if entry.fingerprint is not None:
        _set_fingerprint(row, entry.fingerprint)
        _forget_keys(session, [row.id])
        # Filed anew as a new entry is, under its keys that are not common; in entry_keys,
        # since the recent level's oldest entry says when it is due to be merged.
        keys, postings = _postings(session, {entry.identity: entry.fingerprint})
        _file_keys(session, [(row.id, keys[entry.identity])], postings)


def _page_wanted(entry: CleanEntry) -> dict[str, object]:
    """Whether a new or changed entry's page is worth fetching when its feed's full_text
    is auto (the queue fetches every page of a feed set to always)."""
    if entry.truncated:
        return {"page_status": "pending", "page_reason": entry.truncated}
    return {"page_status": "not-needed", "page_reason": None}


def _set_media(row: EntryRow, entry: CleanEntry) -> None:
    for name, value in _media_values(entry).items():
        setattr(row, name, value)


def _media_values(entry: CleanEntry) -> dict[str, object]:
    return {
        "language": entry.language[:MAX_LANGUAGE] if entry.language else None,
        "enclosures": [{"url": e.url, "type": e.type, "length": e.length}
                       for e in entry.enclosures] or None,
        "thumbnail": entry.thumbnail,
        "categories": list(entry.categories) or None,
    }


def _redate(session: Session, row: EntryRow, entry: CleanEntry, now: datetime) -> bool:
    """File an entry that did not change under the date its feed now gives, when that
    moves it (see decide.is_redated); whether it moved."""
    dated = filing_date(entry.published, entry.updated, row.first_seen, row.dated)
    if not is_redated(row.published, row.dated, entry.published, dated):
        return False
    row.published = entry.published or row.published
    _file_under(session, row, dated, now)
    return True


def _file_under(session: Session, row: EntryRow, dated: datetime, now: datetime) -> None:
    """File a stored entry under `dated`, noting the date it leaves for the next render."""
    if row.dated == dated:
        return
    session.add(EntryMoveRow(dated=row.dated, moved_at=now))
    row.dated, row.changed = dated, now


def _set_fingerprint(row: EntryRow, found: Fingerprint | None) -> None:
    if found is None:
        return
    for name, value in _fingerprint_values(found).items():
        setattr(row, name, value)


def _fingerprint_values(found: Fingerprint) -> dict[str, object]:
    return {"canonical_link": found.link, "title_key": found.title,
            "sketch": pack_sketch(found.sketch), "shingle_count": found.size}


# A new entry's row without a fingerprint: every row of one insert names the same columns.
_NO_FINGERPRINT = {"canonical_link": None, "title_key": None, "sketch": None, "shingle_count": 0}
