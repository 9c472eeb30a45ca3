"""The only module that queries the database; ORM rows never leave it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from aggregator.config import FeedConfig
from aggregator.db import EntryRow, FeedRow, make_engine
from aggregator.models import CleanEntry, FeedState, PollRecord, SaveCounts, StoredEntry


class Store:
    """Feeds and entries, behind verb-named methods that take and return dataclasses."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._session = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str) -> Store:
        """Connect to `url` and create the tables if they are missing."""
        return cls(make_engine(url))

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    def sync_feeds(self, feeds: Iterable[FeedConfig]) -> None:
        """Make the feed rows match feeds.yaml.

        A changed URL starts that feed afresh; any edit of its entry lifts a 410 retirement.
        """
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

    def feed_states(self) -> dict[str, FeedState]:
        """Every stored feed's polling state and entry count, by name."""
        with self._session() as session:
            # A Result has .keys(), so dict(result) would take it for a mapping.
            counts = {
                feed_id: count
                for feed_id, count in session.execute(
                    select(EntryRow.feed_id, func.count()).group_by(EntryRow.feed_id)
                )
            }
            return {
                row.name: _feed_state(row, counts.get(row.id, 0))
                for row in session.scalars(select(FeedRow).order_by(FeedRow.name))
            }

    def save_poll(self, name: str, record: PollRecord,
                  entries: Sequence[CleanEntry] = ()) -> SaveCounts:
        """Store a poll's entries and the feed's new state in one transaction.

        A process killed mid-run therefore leaves each feed either fully polled
        or not at all: re-running adds nothing twice and loses nothing.
        """
        try:
            return self._save_poll(name, record, entries)
        except IntegrityError:
            # Another worker stored some of these between our read and our write;
            # the unique constraint caught it, and a second pass sees its rows.
            return self._save_poll(name, record, entries)

    def _save_poll(self, name: str, record: PollRecord,
                   entries: Sequence[CleanEntry]) -> SaveCounts:
        with self._session.begin() as session:
            feed = _feed_row(session, name)
            counts = _save_entries(session, feed.id, entries, record.polled_at)
            _apply_record(feed, record)
        return counts

    def latest_entries(self, limit: int) -> list[StoredEntry]:
        """The `limit` most recent entries across all feeds, newest first."""
        query = (
            select(EntryRow, FeedRow)
            .join(FeedRow, EntryRow.feed_id == FeedRow.id)
            .order_by(EntryRow.dated.desc(), EntryRow.id.desc())
            .limit(limit)
        )
        with self._session() as session:
            return [_stored(e, f) for e, f in session.execute(query)]

    def entries_between(self, start: datetime, end: datetime) -> list[StoredEntry]:
        """Entries filed at or after `start` and before `end`, oldest first."""
        query = (
            select(EntryRow, FeedRow)
            .join(FeedRow, EntryRow.feed_id == FeedRow.id)
            .where(EntryRow.dated >= start, EntryRow.dated < end)
            .order_by(EntryRow.dated, EntryRow.id)
        )
        with self._session() as session:
            return [_stored(e, f) for e, f in session.execute(query)]

    def entry_dates(self) -> list[datetime]:
        """The filing date of every stored entry, to list the days that have some."""
        with self._session() as session:
            return list(session.scalars(select(EntryRow.dated)))


def entry_date(published: datetime | None, first_seen: datetime) -> datetime:
    """The date an entry is filed under: when published, else when first seen.

    A date in the future is not believed (a mistaken clock or a scheduled post
    shown too early); the entry is filed when we first saw it.
    """
    if published is None or published > first_seen:
        return first_seen
    return published


def _save_entries(session: Session, feed_id: int, entries: Sequence[CleanEntry],
                  now: datetime) -> SaveCounts:
    """Insert new entries and update changed ones in place."""
    if not entries:
        return SaveCounts()
    identities = [e.identity for e in entries]
    existing = {
        row.identity: row
        for row in session.scalars(
            select(EntryRow).where(EntryRow.feed_id == feed_id,
                                   EntryRow.identity.in_(identities))
        )
    }
    new = updated = 0
    for entry in entries:
        row = existing.get(entry.identity)
        if row is None:
            session.add(_new_row(feed_id, entry, now))
            new += 1
        elif row.signature != entry.signature:
            _update_row(row, entry, now)
            updated += 1
    return SaveCounts(new=new, updated=updated)


def _apply_record(row: FeedRow, record: PollRecord) -> None:
    """Fold one poll's outcome into the feed's row."""
    row.last_polled = record.polled_at
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


def _forget_polls(row: FeedRow) -> None:
    """A feed whose URL changed is a new feed to poll: drop what we learnt of the old one."""
    row.etag = row.last_modified = row.content_hash = None
    row.moved_to = row.moved_at = row.gone_at = None
    row.last_error = row.failing_since = row.next_poll = None
    row.interval_hint = None
    row.failures = 0


def _feed_row(session: Session, name: str) -> FeedRow:
    row = session.scalars(select(FeedRow).where(FeedRow.name == name)).one_or_none()
    if row is None:
        raise KeyError(f"feed {name!r} is not in the database; sync_feeds first")
    return row


def _new_row(feed_id: int, entry: CleanEntry, now: datetime) -> EntryRow:
    return EntryRow(
        feed_id=feed_id, identity=entry.identity, signature=entry.signature,
        title=entry.title, link=entry.link, author=entry.author,
        published=entry.published, updated=entry.updated,
        first_seen=now, dated=entry_date(entry.published, now), changed=now,
        content=entry.content, summary=entry.summary, excerpt=entry.excerpt,
    )


def _update_row(row: EntryRow, entry: CleanEntry, now: datetime) -> None:
    row.signature = entry.signature
    row.title, row.link, row.author = entry.title, entry.link, entry.author
    row.published, row.updated = entry.published, entry.updated
    row.dated = entry_date(entry.published, row.first_seen)
    row.content, row.summary, row.excerpt = entry.content, entry.summary, entry.excerpt
    row.changed = now


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
    )


def _stored(entry: EntryRow, feed: FeedRow) -> StoredEntry:
    return StoredEntry(
        feed_name=feed.name, feed_title=feed.title or feed.name, feed_url=feed.url,
        site_url=feed.site_url, tags=tuple(feed.tags or ()), identity=entry.identity,
        title=entry.title, link=entry.link, author=entry.author,
        published=entry.published, updated=entry.updated, first_seen=entry.first_seen,
        dated=entry.dated, changed=entry.changed, content=entry.content,
        summary=entry.summary, excerpt=entry.excerpt,
    )
