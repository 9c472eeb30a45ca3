"""Feeds: their rows kept in step with feeds.yaml, their polling state, the workers'
leases on them, and the render lock."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from aggregator.config.load import FeedConfig
from aggregator.models import FeedState, PollRecord
from aggregator.store.base import RENDER_LOCK, StoreBase, wrap_errors
from aggregator.store.glance import in_step
from aggregator.store.lockfile import RENDER_LOCK_SUFFIX, locked_file
from aggregator.store.schema import EntryRow, FeedRow


class FeedsMixin(StoreBase):
    """The Store's methods on feeds."""

    @wrap_errors("sync the feeds with feeds.yaml")
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
                if row is not None and in_step(feed, row.url, row.tags, row.config_hash):
                    continue  # the glance's rule: then `status` reads it without syncing
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

    @wrap_errors("read the feeds' states")
    def feed_states(self, names: Collection[str] | None = None, *,
                    count_entries: bool = True, layout: bool = True) -> dict[str, FeedState]:
        """The polling state of the stored feeds (or of `names`), by name.

        Counting entries reads the whole entries index: pollers, which do not
        need the counts, skip it. Without `layout`, the digests of each feed's last
        document and its boilerplate are left unread (empty): only parsing needs them,
        and they weigh 200 MB for a feed of 200,000 entries.
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
            if not layout:
                query = query.options(defer(FeedRow.entry_digests), defer(FeedRow.boilerplate))
            if names is not None:
                query = query.where(FeedRow.name.in_(list(names)))
            return {
                row.name: _feed_state(row, counts.get(row.id, 0), layout=layout)
                for row in session.scalars(query)
            }

    @wrap_errors("claim feeds")
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

    @wrap_errors("release feeds")
    def release_feeds(self, names: Collection[str] | None, worker: str) -> int:
        """Give back the leases `worker` holds on `names` (None: on every feed); how many."""
        with self._session.begin() as session:
            query = update(FeedRow).where(FeedRow.claimed_by == worker)
            if names is not None:
                if not names:
                    return 0
                query = query.where(FeedRow.name.in_(list(names)))
            result = session.execute(query.values(claimed_by=None, claimed_until=None))
            return int(getattr(result, "rowcount", 0))

    @wrap_errors("read the claims on feeds")
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
        beside the database, removed when the block ends. An in-memory database has
        one process by nature.
        """
        if self.engine.dialect.name == "postgresql":
            # A generator: a decorator would return before it runs.
            with wrap_errors("hold the render lock"), self.engine.connect() as connection:
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
        with locked_file(Path(database + RENDER_LOCK_SUFFIX)):
            yield


def _apply_record(row: FeedRow, record: PollRecord) -> None:
    """Write the feed's state as poll.decide decided it, and end the poll's lease."""
    row.claimed_by = row.claimed_until = None
    row.last_polled, row.last_status = record.polled_at, record.status
    row.next_poll, row.last_success = record.next_poll, record.last_success
    row.last_error, row.failures = record.error, record.failures
    row.failing_since, row.gone_at = record.failing_since, record.gone_at
    row.etag, row.last_modified = record.etag, record.last_modified
    row.content_hash = record.content_hash
    row.moved_to, row.moved_at = record.moved_to, record.moved_at
    row.title, row.site_url = record.title, record.site_url
    hint = record.interval_hint
    row.interval_hint = int(hint.total_seconds()) if hint is not None else None
    row.boilerplate = sorted(record.boilerplate)
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


def _feed_state(row: FeedRow, entry_count: int, *, layout: bool = True) -> FeedState:
    return FeedState(
        name=row.name, url=row.url, title=row.title, site_url=row.site_url,
        etag=row.etag, last_modified=row.last_modified, last_polled=row.last_polled,
        last_success=row.last_success, last_error=row.last_error,
        failures=row.failures or 0, next_poll=row.next_poll, entry_count=entry_count,
        moved_to=row.moved_to, moved_at=row.moved_at, gone_at=row.gone_at,
        content_hash=row.content_hash,
        interval_hint=timedelta(seconds=row.interval_hint) if row.interval_hint else None,
        last_status=row.last_status, failing_since=row.failing_since,
        boilerplate=frozenset(row.boilerplate or ()) if layout else frozenset(),
        entry_digests=(row.entry_digests or {}) if layout else {},
    )
