"""The only module that queries the database; ORM rows never leave it."""

from __future__ import annotations

import fcntl
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import Any, TypeVar, cast

from sqlalchemy import (
    Table,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    union,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, load_only, sessionmaker

from aggregator.config import FeedConfig
from aggregator.db import (
    CommonKeyRow,
    EntryKeyRow,
    EntryMoveRow,
    EntryRow,
    FeedRow,
    make_engine,
    migrate,
    schema_revision,
)
from aggregator.dedup import (
    Postings,
    fingerprint,
    index_keys,
    lookup_keys,
    needs_shingles,
    pack_sketch,
    paragraphs,
    rank_candidates,
    same_article,
    unpack_sketch,
    words_of,
)
from aggregator.models import (
    CleanEntry,
    Copy,
    Enclosure,
    FeedPoll,
    FeedState,
    Fingerprint,
    PollRecord,
    SaveCounts,
    StoredEntry,
)

MAX_BOILERPLATE = 1000  # paragraph hashes remembered per feed
# The table, not the class, for inserting keys: a plain executemany, without the
# ORM's bulk path (a tenth of the time of storing a poll).
ENTRY_KEYS = cast(Table, EntryKeyRow.__table__)
COMMON_KEYS = cast(Table, CommonKeyRow.__table__)
ENTRIES = cast(Table, EntryRow.__table__)
# PostgreSQL advisory lock keys (db.py's migration lock is 7423610).
RENDER_LOCK = 7423611
PRUNE_LOCK = 7423612
FILING_LOCK = 7423613


@dataclass(frozen=True)
class Health:
    """Counts of the database's state, for monitoring."""

    feeds: int
    failing: int
    retired: int
    entries: int
    last_polled: datetime | None


class Store:
    """Feeds and entries, behind verb-named methods that take and return dataclasses."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._session = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str, *, upgrade: bool = True) -> Store:
        """Connect to `url`, creating or upgrading the tables unless `upgrade` is False."""
        return cls(make_engine(url, upgrade=upgrade))

    def upgrade_schema(self) -> tuple[str | None, str | None]:
        """Apply the migrations the database lacks; its revision before and after."""
        before = schema_revision(self.engine)
        migrate(self.engine)
        return before, schema_revision(self.engine)

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    def sync_feeds(self, feeds: Iterable[FeedConfig]) -> None:
        """Make the feed rows match feeds.yaml.

        A changed URL starts that feed afresh; any edit of its entry lifts a 410 retirement.
        """
        feeds = list(feeds)
        try:
            self._sync_feeds(feeds)
        except IntegrityError:
            # Another process (the daemon, `status`) added the same new feed first.
            self._sync_feeds(feeds)

    def _sync_feeds(self, feeds: Sequence[FeedConfig]) -> None:
        with self._session.begin() as session:
            rows = {row.name: row for row in session.scalars(select(FeedRow))}
            for feed in feeds:
                row = rows.get(feed.name)
                if row is None:
                    row = FeedRow(name=feed.name, url=feed.url, tags=list(feed.tags),
                                  failures=0)
                    session.add(row)
                elif row.url != feed.url:
                    _forget_polls(row)
                    row.url = feed.url
                if list(row.tags or []) != list(feed.tags):
                    row.tags = list(feed.tags)
                fingerprint = feed.fingerprint()
                if row.config_hash != fingerprint:
                    row.config_hash = fingerprint
                    if row.gone_at is not None:
                        row.gone_at = row.next_poll = None

    def feed_states(self, names: Collection[str] | None = None, *,
                    count_entries: bool = True) -> dict[str, FeedState]:
        """The polling state of the stored feeds (or of `names`), by name.

        Counting entries reads the whole entries index: pollers, which do not
        need the counts, skip it.
        """
        with self._session() as session:
            counts: dict[int, int] = {}
            if count_entries:
                # A Result has .keys(), so dict(result) would take it for a mapping.
                counts = {
                    feed_id: count
                    for feed_id, count in session.execute(
                        select(EntryRow.feed_id, func.count()).group_by(EntryRow.feed_id)
                    )
                }
            query = select(FeedRow).order_by(FeedRow.name)
            if names is not None:
                query = query.where(FeedRow.name.in_(list(names)))
            return {
                row.name: _feed_state(row, counts.get(row.id, 0))
                for row in session.scalars(query)
            }

    def claim_feeds(self, names: Sequence[str], worker: str, now: datetime,
                    lease: timedelta, *, due_only: bool = True) -> dict[str, FeedState]:
        """Lease those of `names` that no other worker holds (and, with `due_only`,
        that are still due); return the states, as of the claim, of those leased to
        `worker` (entry counts left at 0).

        Due-ness is read again here, inside the claim, because another worker may
        have polled a feed since our list was made. On PostgreSQL, rows another
        worker is claiming at this moment are skipped (FOR UPDATE SKIP LOCKED);
        SQLite has one writer at a time, taken at the start (BEGIN IMMEDIATE).
        """
        if not names:
            return {}
        with self._session.begin() as session:
            if self.engine.dialect.name == "sqlite":
                session.connection().exec_driver_sql("BEGIN IMMEDIATE")
            query = (
                select(FeedRow)
                .where(FeedRow.name.in_(list(names)), FeedRow.gone_at.is_(None),
                       or_(FeedRow.claimed_until.is_(None), FeedRow.claimed_until <= now,
                           FeedRow.claimed_by == worker))
                .with_for_update(skip_locked=True)
            )
            if due_only:
                query = query.where(or_(FeedRow.next_poll.is_(None),
                                        FeedRow.next_poll <= now))
            rows = session.scalars(query).all()
            for row in rows:
                row.claimed_by, row.claimed_until = worker, now + lease
            return {row.name: _feed_state(row, 0) for row in rows}

    def release_feeds(self, names: Collection[str] | None, worker: str) -> None:
        """Give back the leases `worker` holds on `names` (None: on every feed)."""
        with self._session.begin() as session:
            query = update(FeedRow).where(FeedRow.claimed_by == worker)
            if names is not None:
                if not names:
                    return
                query = query.where(FeedRow.name.in_(list(names)))
            session.execute(query.values(claimed_by=None, claimed_until=None))

    def claim_holders(self) -> set[str]:
        """The workers holding a lease on some feed."""
        with self._session() as session:
            return set(session.scalars(select(FeedRow.claimed_by).distinct()
                                       .where(FeedRow.claimed_by.is_not(None))))

    @contextmanager
    def render_lock(self) -> Iterator[None]:
        """Hold the database's render lock while the block runs: one renderer at a
        time among every process using this database, on any machine.

        PostgreSQL: a session advisory lock on a connection of its own (autocommit,
        so no transaction stays open while pages are written). SQLite: a lock file
        beside the database. An in-memory database has one process by nature.
        """
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect() as connection:
                connection = connection.execution_options(isolation_level="AUTOCOMMIT")
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": RENDER_LOCK})
                try:
                    yield
                finally:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                                       {"key": RENDER_LOCK})
            return
        database = self.engine.url.database
        if not database or database == ":memory:":
            yield
            return
        with open(database + ".render.lock", "a", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def save_poll(self, name: str, record: PollRecord, entries: Sequence[CleanEntry] = (),
                  unchanged: Collection[str] = ()) -> SaveCounts:
        """Store a poll's entries and the feed's new state in one transaction.

        `unchanged` names the document's other entries, stored by an earlier poll
        as they are now. A process killed mid-run leaves each feed either fully
        polled or not at all: re-running adds nothing twice and loses nothing.
        """
        return self.save_polls([FeedPoll(name, record, entries, unchanged)])[0]

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

    def latest_entries(self, limit: int,
                       feeds: Collection[str] | None = None) -> list[StoredEntry]:
        """The `limit` most recent articles, newest first, with their copies.

        With `feeds`, only the articles shown from those feeds (a tag's feeds).
        """
        query = (
            select(EntryRow, FeedRow)
            .join(FeedRow, EntryRow.feed_id == FeedRow.id)
            .where(EntryRow.is_canonical.is_(True))
            .order_by(EntryRow.dated.desc(), EntryRow.id.desc())
            .limit(limit)
        )
        if feeds is not None:
            query = query.where(FeedRow.name.in_(sorted(feeds)))
        with self._session() as session:
            return _with_copies(session, [(e, f) for e, f in session.execute(query)])

    def prune(self, before: datetime, keep_per_feed: int, dry_run: bool = False
              ) -> dict[str, int]:
        """Remove entries filed before `before`, except each feed's newest `keep_per_feed`.

        Returns how many went (or would go) per feed. Articles that lose their
        shown copy show their next one.
        """
        removed: dict[str, int] = {}
        with self._session.begin() as session:
            if self.engine.dialect.name == "postgresql":
                # Every worker prunes each morning: one at a time, the others find
                # nothing left to do instead of deadlocking on the same rows.
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                {"key": PRUNE_LOCK})
            articles: set[int] = set()
            for feed in session.scalars(select(FeedRow)):
                beyond_newest = session.execute(
                    select(EntryRow.id, EntryRow.article_id, EntryRow.dated)
                    .where(EntryRow.feed_id == feed.id)
                    .order_by(EntryRow.dated.desc(), EntryRow.id.desc())
                    .offset(keep_per_feed)
                )
                doomed = [(i, a) for i, a, dated in beyond_newest if dated < before]
                if not doomed:
                    continue
                removed[feed.name] = len(doomed)
                if not dry_run:
                    ids = [i for i, _ in doomed]
                    articles.update(a for _, a in doomed if a is not None)
                    for chunk in _chunks(ids, 500):
                        session.execute(
                            delete(EntryKeyRow).where(EntryKeyRow.entry_id.in_(chunk)))
                        session.execute(delete(EntryRow).where(EntryRow.id.in_(chunk)))
            _elect_canonicals(session, articles)
        return removed

    def export_entries(self) -> Iterator[dict[str, object]]:
        """Every stored entry with its feed, as plain JSON-able data, oldest first."""
        query = (select(EntryRow, FeedRow).join(FeedRow, EntryRow.feed_id == FeedRow.id)
                 .order_by(EntryRow.id).execution_options(yield_per=500))
        with self._session() as session:
            for entry, feed in session.execute(query):
                yield _exported(entry, feed)

    def ensure_feed(self, feed: FeedConfig) -> None:
        """Add a feed row for an imported feed that feeds.yaml does not list (yet)."""
        with self._session.begin() as session:
            exists = session.scalar(select(FeedRow.id).where(FeedRow.name == feed.name))
            if exists is None:
                session.add(FeedRow(name=feed.name, url=feed.url, tags=list(feed.tags),
                                    failures=0))

    def import_entries(self, name: str, entries: Sequence[CleanEntry],
                       times: Sequence[tuple[datetime, datetime, datetime]]) -> SaveCounts:
        """Store entries from an export, with their own first-seen, filing and change times.

        They go through the same de-duplication as polled ones; the feed's polling
        state is left alone.
        """
        if not entries:
            return SaveCounts()
        with self._session.begin() as session:
            _lock_filing(session)
            feed = _feed_row(session, name)
            counts = _save_entries(session, feed.id, entries, times[0][0], restamp=False)
            session.flush()
            rows = {row.identity: row for row in session.scalars(
                select(EntryRow).where(EntryRow.feed_id == feed.id,
                                       EntryRow.identity.in_([e.identity for e in entries])))}
            articles = set()
            for entry, (first_seen, dated, changed) in zip(entries, times, strict=True):
                row = rows.get(entry.identity)
                if row is not None:
                    row.first_seen, row.dated, row.changed = first_seen, dated, changed
                    articles.add(row.article_id or row.id)
            _elect_canonicals(session, articles)
        return counts

    def vacuum(self) -> None:
        """Give freed space back and refresh the query planner's statistics."""
        with self.engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            if self.engine.dialect.name == "sqlite":
                connection.exec_driver_sql("VACUUM")
                connection.exec_driver_sql("PRAGMA optimize")
            else:
                connection.exec_driver_sql("VACUUM ANALYZE")

    def health(self) -> Health:
        """Counts for /healthz and /metrics."""
        with self._session() as session:
            feeds, failing, retired, last = session.execute(select(
                func.count(FeedRow.id),
                func.count(FeedRow.id).filter(FeedRow.failures > 0, FeedRow.gone_at.is_(None)),
                func.count(FeedRow.gone_at),
                func.max(FeedRow.last_polled),
            )).one()
            entries = session.scalar(select(func.count(EntryRow.id))) or 0
        last_polled = last.replace(tzinfo=UTC) if isinstance(last, datetime) else None
        return Health(feeds, failing, retired, entries, last_polled)

    def feed_entries(self, name: str, limit: int | None = None) -> list[StoredEntry]:
        """The articles shown from one feed, newest first."""
        query = (
            select(EntryRow, FeedRow)
            .join(FeedRow, EntryRow.feed_id == FeedRow.id)
            .where(EntryRow.is_canonical.is_(True), FeedRow.name == name)
            .order_by(EntryRow.dated.desc(), EntryRow.id.desc())
            .limit(limit)
        )
        with self._session() as session:
            return _with_copies(session, [(e, f) for e, f in session.execute(query)])

    def entries_between(self, start: datetime, end: datetime) -> list[StoredEntry]:
        """Articles filed at or after `start` and before `end`, oldest first, with copies."""
        query = (
            select(EntryRow, FeedRow)
            .join(FeedRow, EntryRow.feed_id == FeedRow.id)
            .where(EntryRow.is_canonical.is_(True),
                   EntryRow.dated >= start, EntryRow.dated < end)
            .order_by(EntryRow.dated, EntryRow.id)
        )
        with self._session() as session:
            return _with_copies(session, [(e, f) for e, f in session.execute(query)])

    def entry_dates(self) -> list[datetime]:
        """The filing date of every article, to list the days that have some."""
        with self._session() as session:
            return list(session.scalars(
                select(EntryRow.dated).where(EntryRow.is_canonical.is_(True))))

    def forget_moves(self, before: datetime) -> None:
        """Drop the dates entries left before `before`, which no render needs any more
        (see render.MOVES_KEPT)."""
        with self._session.begin() as session:
            session.execute(delete(EntryMoveRow).where(EntryMoveRow.moved_at < before))

    def changed_dates(self, since: datetime) -> list[datetime]:
        """The filing dates whose articles may have changed at or after `since`.

        Copies count as well as shown entries: a copy whose article now shows
        another copy still sits on the day the article left. The dates re-dated
        entries left come from entry_moves.
        """
        with self._session() as session:
            return list(session.scalars(union(
                select(EntryRow.dated).where(EntryRow.changed >= since),
                select(EntryMoveRow.dated).where(EntryMoveRow.moved_at >= since),
            )))


def entry_date(published: datetime | None, first_seen: datetime) -> datetime:
    """The date an entry is filed under: when published (or, for a new entry without
    a publication date, last updated), else when first seen.

    A date in the future is not believed (a mistaken clock or a scheduled post
    shown too early); the entry is filed when we first saw it.
    """
    if published is None or published > first_seen:
        return first_seen
    return published


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
    fresh = [e for e in entries if e.identity not in existing]
    keys, postings = _postings(session, {e.identity: e.fingerprint for e in fresh
                                         if e.fingerprint is not None})
    siblings = set(document.values())
    worth = {e.identity: rank_candidates(e.fingerprint, postings, keys[e.identity], siblings)
             for e in fresh if e.fingerprint is not None}
    candidates = _candidates(session, {i for ids in worth.values() for i in ids})
    counts: Counter[str] = Counter()
    articles: set[int] = set()  # whose shown copy may change
    added: list[tuple[CleanEntry, _Candidate | None]] = []
    for entry in entries:
        row = existing.get(entry.identity)
        if row is None:
            match = _find_copy(session, entry, worth.get(entry.identity, ()), candidates)
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
    _insert_added(session, feed_id, added, postings, keys, now)
    _elect_canonicals(session, articles, now if restamp else None)
    return SaveCounts(new=counts["new"], updated=counts["updated"],
                      duplicates=counts["duplicates"], recognized=counts["recognized"])


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
                         for entry_id, (entry, _) in zip(ids, added, strict=True)], postings)


def _insert_keys(session: Session, keys: Sequence[tuple[int, int]]) -> None:
    """Insert (entry id, key) rows, about twenty an entry, as directly as the driver allows.

    Two integers a row need no SQLAlchemy type processing, which would cost more than
    the insert: SQLite takes them through sqlite3's executemany, PostgreSQL as two
    arrays in one statement (psycopg's executemany sends each row on its own).
    """
    if not keys:
        return
    connection = session.connection()
    table = ENTRY_KEYS.name
    if connection.dialect.name == "postgresql":
        entry_ids, values = zip(*keys, strict=True)
        connection.exec_driver_sql(
            f"INSERT INTO {table} (entry_id, key) "
            "SELECT * FROM unnest(%s::integer[], %s::bigint[])",
            (list(entry_ids), list(values)))
    else:
        connection.exec_driver_sql(f"INSERT INTO {table} (entry_id, key) VALUES (?, ?)", keys)


def _find_copy(session: Session, entry: CleanEntry, ids: Sequence[int],
               candidates: dict[int, _Candidate]) -> _Candidate | None:
    """The stored entry `entry` is a copy of, earliest first, among those of `ids` (at
    most dedup.MAX_CANDIDATES: the bound on full comparisons)."""
    if entry.fingerprint is None:
        return None
    # Compared through a copy: the set of its shingles that comparing makes (30 KB) goes
    # with the search, not with the entry, which lives until its whole group is stored.
    found = replace(entry.fingerprint)
    for row in sorted((candidates[i] for i in ids if i in candidates),
                      key=lambda r: (r.dated, r.first_seen, r.id)):
        stored = row.fingerprint
        if needs_shingles(found, stored):
            stored = _with_shingles(session, row)

        def texts(row: _Candidate = row) -> tuple[list[str], list[str]]:
            return words_of(entry.content or entry.summary), _stored_words(session, row.id)

        if same_article(found, stored, texts):
            return row
    return None


def _stored_words(session: Session, entry_id: int) -> list[str]:
    """A stored entry's normalized words, from its text."""
    content, summary = session.execute(
        select(EntryRow.content, EntryRow.summary).where(EntryRow.id == entry_id)).one()
    return words_of(content or summary or "")


def _with_shingles(session: Session, row: _Candidate) -> Fingerprint:
    """A candidate's fingerprint with all its shingles, from its text as stored."""
    title, link, content, summary, boilerplate = session.execute(
        select(EntryRow.title, EntryRow.link, EntryRow.content, EntryRow.summary,
               FeedRow.boilerplate)
        .join(FeedRow, EntryRow.feed_id == FeedRow.id).where(EntryRow.id == row.id)).one()
    whole = fingerprint(title, link, paragraphs(content or summary or ""),
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
    query = f"SELECT key, entry_id FROM {ENTRY_KEYS.name} WHERE key"
    for key, entry_id in _rows_among(session, query, chosen, "bigint"):
        postings.lists.setdefault(key, []).append(entry_id)
    return keys, postings


def _file_keys(session: Session, entries: Sequence[tuple[int, Sequence[int]]],
               postings: Postings) -> None:
    """File entries (id, index keys) under their keys but the common ones, and mark the
    keys whose lists filled up (another poll of the transaction may have marked one)."""
    _insert_keys(session, [(entry_id, key) for entry_id, keys in entries
                           for key in postings.file(entry_id, keys)])
    if postings.filled:
        # Plain SQL, which SQLite and PostgreSQL both take: importing SQLAlchemy's
        # PostgreSQL dialect for its insert() would weigh on every SQLite process.
        session.execute(text(f"INSERT INTO {COMMON_KEYS.name} (key) VALUES (:key) "
                             "ON CONFLICT DO NOTHING"),
                        [{"key": key} for key in sorted(postings.filled)])
        postings.filled.clear()


def _rows_among(session: Session, query: str, values: Sequence[int | str],
                sql_type: str) -> Iterator[Sequence[Any]]:
    """The rows of `query`, which ends in "WHERE <column>", for the column among `values`.

    Through the driver's own cursor, 500 values a statement: a first poll runs two
    such lookups per feed, hundreds of values and rows each, and SQLAlchemy would
    build and expand each IN list anew and wrap every row (a fifth of the time of
    storing a feed). PostgreSQL takes the values as one array parameter.
    """
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        for chunk in _chunks(values, 500):
            if postgres:
                cursor.execute(f"{query} = ANY(%s::{sql_type}[])", (list(chunk),))
            else:
                cursor.execute(f"{query} IN ({','.join('?' * len(chunk))})", tuple(chunk))
            yield from cursor.fetchall()
    finally:
        cursor.close()


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


_T = TypeVar("_T")


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _apply_record(row: FeedRow, record: PollRecord) -> None:
    """Fold one poll's outcome into the feed's row."""
    row.last_polled = record.polled_at
    row.claimed_by = row.claimed_until = None
    row.last_status = record.status
    row.next_poll = record.next_poll
    if record.moved_to and record.moved_to != row.moved_to:
        row.moved_to, row.moved_at = record.moved_to, record.polled_at
    if record.error:
        row.last_error = record.error
        row.failures = (row.failures or 0) + 1
        row.failing_since = row.failing_since or record.polled_at
        if record.gone:
            row.gone_at = record.polled_at
        return
    row.last_success = record.polled_at
    row.failures, row.last_error, row.failing_since = 0, None, None
    # A 304 may omit the validators; keep the ones we have then.
    row.etag = record.etag or row.etag
    row.last_modified = record.last_modified or row.last_modified
    row.content_hash = record.content_hash or row.content_hash
    row.title = record.title or row.title
    row.site_url = record.site_url or row.site_url
    if record.interval_hint is not None:
        row.interval_hint = int(record.interval_hint.total_seconds())
    if record.boilerplate - set(row.boilerplate or ()):
        known = set(row.boilerplate or ()) | record.boilerplate
        row.boilerplate = sorted(known)[:MAX_BOILERPLATE]
    if record.entry_digests is not None:
        row.entry_digests = dict(record.entry_digests)


def _forget_polls(row: FeedRow) -> None:
    """A feed whose URL changed is a new feed to poll: drop what we learnt of the old one."""
    row.etag = row.last_modified = row.content_hash = None
    row.moved_to = row.moved_at = row.gone_at = None
    row.last_error = row.failing_since = row.next_poll = None
    row.interval_hint = None
    row.failures = 0


def _feed_row(session: Session, name: str) -> FeedRow:
    return _feed_rows(session, [name])[name]


def _feed_rows(session: Session, names: Sequence[str]) -> dict[str, FeedRow]:
    """The rows of the feeds `names`, read in one query."""
    rows = {row.name: row for row in
            session.scalars(select(FeedRow).where(FeedRow.name.in_(names)))}
    missing = [name for name in names if name not in rows]
    if missing:
        raise KeyError(f"feed {missing[0]!r} is not in the database; sync_feeds first")
    return rows


def _new_values(feed_id: int, entry: CleanEntry, now: datetime,
                match: _Candidate | None) -> dict[str, object]:
    """The columns of a new entry's row (its article: its match's, else set once inserted)."""
    found = entry.fingerprint
    return {
        "feed_id": feed_id, "identity": entry.identity, "signature": entry.signature,
        "title": entry.title, "link": entry.link, "author": entry.author,
        "published": entry.published, "updated": entry.updated,
        "first_seen": now, "dated": entry_date(entry.published or entry.updated, now),
        "changed": now,
        "content": entry.content, "summary": entry.summary, "excerpt": entry.excerpt,
        "article_id": (match.article_id or match.id) if match else None,
        "is_canonical": True,
        **(_fingerprint_values(found) if found else _NO_FINGERPRINT),
        **_media_values(entry),
    }


def _update_row(session: Session, row: EntryRow, entry: CleanEntry, now: datetime) -> None:
    row.signature = entry.signature
    row.title, row.link, row.author = entry.title, entry.link, entry.author
    row.published, row.updated = entry.published, entry.updated
    _file_under(session, row, _refiled_date(row, entry), now)
    row.content, row.summary, row.excerpt = entry.content, entry.summary, entry.excerpt
    row.changed = now
    _set_media(row, entry)
    if entry.fingerprint is not None:
        _set_fingerprint(row, entry.fingerprint)
        session.execute(delete(EntryKeyRow).where(EntryKeyRow.entry_id == row.id))
        # Filed anew as a new entry is, under its keys that are not common.
        keys, postings = _postings(session, {entry.identity: entry.fingerprint})
        _file_keys(session, [(row.id, keys[entry.identity])], postings)


def _set_media(row: EntryRow, entry: CleanEntry) -> None:
    for name, value in _media_values(entry).items():
        setattr(row, name, value)


def _media_values(entry: CleanEntry) -> dict[str, object]:
    return {
        "language": entry.language[:35] if entry.language else None,
        "enclosures": [{"url": e.url, "type": e.type, "length": e.length}
                       for e in entry.enclosures] or None,
        "thumbnail": entry.thumbnail,
        "categories": list(entry.categories) or None,
    }


def _enclosures_of(row: EntryRow) -> tuple[Enclosure, ...]:
    found = []
    for item in row.enclosures or ():
        url, kind, length = item.get("url"), item.get("type"), item.get("length")
        if isinstance(url, str) and url:
            found.append(Enclosure(url, kind if isinstance(kind, str) else None,
                                   length if isinstance(length, int) else None))
    return tuple(found)


def _redate(session: Session, row: EntryRow, entry: CleanEntry, now: datetime) -> bool:
    """Take an earlier date the feed now gives; a later one alone is ignored.

    Some blogs re-date a post on every poll: it must not climb back to the top.
    """
    if entry.published is not None:
        if row.published and entry.published >= row.published:
            return False
        row.published = entry.published
    elif _refiled_date(row, entry) == row.dated:
        return False
    _file_under(session, row, _refiled_date(row, entry), now)
    return True


def _refiled_date(row: EntryRow, entry: CleanEntry) -> datetime:
    """The date a stored entry goes under when its feed changes it.

    Its publication date; an entry without one was filed under its last update
    (Atom entries with only <updated>, RSS 1.0 items with only <dc:date>) or when
    first seen, and only ever moves earlier: that date changes with every edit.
    """
    if entry.published is not None:
        return entry_date(entry.published, row.first_seen)
    if entry.updated is None:
        return row.dated
    return min(row.dated, entry_date(entry.updated, row.first_seen))


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


def _exported(entry: EntryRow, feed: FeedRow) -> dict[str, object]:
    def stamp(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "feed": {"name": feed.name, "url": feed.url, "tags": list(feed.tags or [])},
        "identity": entry.identity, "title": entry.title, "link": entry.link,
        "author": entry.author, "published": stamp(entry.published),
        "updated": stamp(entry.updated), "first_seen": stamp(entry.first_seen),
        "dated": stamp(entry.dated), "changed": stamp(entry.changed),
        "content": entry.content, "summary": entry.summary, "excerpt": entry.excerpt,
        "language": entry.language, "enclosures": entry.enclosures or [],
        "thumbnail": entry.thumbnail, "categories": entry.categories or [],
    }


def _feed_state(row: FeedRow, entry_count: int) -> FeedState:
    return FeedState(
        name=row.name, url=row.url, title=row.title, site_url=row.site_url,
        etag=row.etag, last_modified=row.last_modified, last_polled=row.last_polled,
        last_success=row.last_success, last_error=row.last_error,
        failures=row.failures or 0, next_poll=row.next_poll, entry_count=entry_count,
        moved_to=row.moved_to, moved_at=row.moved_at, gone_at=row.gone_at,
        content_hash=row.content_hash,
        interval_hint=timedelta(seconds=row.interval_hint) if row.interval_hint else None,
        last_status=row.last_status, failing_since=row.failing_since,
        boilerplate=frozenset(row.boilerplate or ()),
        entry_digests=row.entry_digests or {},
    )


def _with_copies(session: Session, rows: Sequence[tuple[EntryRow, FeedRow]]
                 ) -> list[StoredEntry]:
    """Articles as StoredEntry, each with its other copies and its founding entry."""
    articles = sorted({entry.article_id or entry.id for entry, _ in rows})
    copies: dict[int, list[Copy]] = {}
    founders: dict[int, tuple[str, str]] = {}
    for chunk in _chunks(articles, 500):
        query = (
            select(EntryRow.id, EntryRow.article_id, EntryRow.is_canonical,
                   EntryRow.identity, EntryRow.link, EntryRow.dated, FeedRow.name,
                   FeedRow.title)
            .join(FeedRow, EntryRow.feed_id == FeedRow.id)
            .where(EntryRow.article_id.in_(chunk))
            .order_by(EntryRow.dated, EntryRow.id)
        )
        for row in session.execute(query):
            if row.id == row.article_id:
                founders[row.article_id] = (row.name, row.identity)
            if not row.is_canonical:
                copies.setdefault(row.article_id, []).append(
                    Copy(row.name, row.title or row.name, row.link, row.dated))
    stored = []
    for entry, feed in rows:
        article = entry.article_id or entry.id
        founder = founders.get(article, (feed.name, entry.identity))
        stored.append(_stored(entry, feed, founder, tuple(copies.get(article, ()))))
    return stored


def _stored(entry: EntryRow, feed: FeedRow, founder: tuple[str, str],
            copies: tuple[Copy, ...]) -> StoredEntry:
    return StoredEntry(
        feed_name=feed.name, feed_title=feed.title or feed.name, feed_url=feed.url,
        site_url=feed.site_url, tags=tuple(feed.tags or ()), identity=entry.identity,
        title=entry.title, link=entry.link, author=entry.author,
        published=entry.published, updated=entry.updated, first_seen=entry.first_seen,
        dated=entry.dated, changed=entry.changed, content=entry.content,
        summary=entry.summary, excerpt=entry.excerpt,
        article_feed=founder[0], article_identity=founder[1], copies=copies,
        language=entry.language, enclosures=_enclosures_of(entry), thumbnail=entry.thumbnail,
        categories=tuple(entry.categories or ()),
    )
