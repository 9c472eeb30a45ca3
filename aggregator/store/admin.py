"""Looking after the database: pruning old entries, export and import, vacuum, and
the counts for monitoring."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, text
from sqlalchemy.orm import Session

from aggregator.config.load import FeedConfig
from aggregator.models import CleanEntry, SaveCounts
from aggregator.store.base import PRUNE_LOCK, StoreBase, _chunks, wrap_errors
from aggregator.store.copies import _elect_canonicals, _forget_keys
from aggregator.store.entries import _lock_filing, _save_entries
from aggregator.store.entry_rows import CHUNK, Blog
from aggregator.store.feeds import _feed_row
from aggregator.store.reads import SHOWN, _blogs
from aggregator.store.schema import EntryRow, FeedRow
from aggregator.store.schema_deliver import AlertSendRow


@dataclass(frozen=True)
class Health:
    """Counts of the database's state, for monitoring."""

    feeds: int
    failing: int
    retired: int
    entries: int
    last_polled: datetime | None


class AdminMixin(StoreBase):
    """The Store's maintenance methods."""

    @wrap_errors("prune old entries")
    def prune(self, before: datetime, keep_per_feed: int, dry_run: bool = False,
              on_progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
        """Remove entries filed before `before`, except each feed's newest `keep_per_feed`.

        Returns how many went (or would go) per feed; `on_progress(done, total)` is told
        each feed gone through. Articles that lose their shown copy show their next one.
        """
        removed: dict[str, int] = {}
        with self._session.begin() as session:
            if self.engine.dialect.name == "postgresql":
                # Every worker prunes each morning: one at a time, the others find
                # nothing left to do instead of deadlocking on the same rows.
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                {"key": PRUNE_LOCK})
            articles: set[int] = set()  # of the entries gone
            feeds = session.scalars(select(FeedRow)).all()
            for done, feed in enumerate(feeds):
                if on_progress:
                    on_progress(done, len(feeds))
                doomed = _doomed(session, feed.id, before, keep_per_feed)
                if doomed:
                    removed[feed.name] = len(doomed)
                if doomed and not dry_run:
                    articles.update(a if a is not None else i for i, a in doomed)
                    for chunk in _chunks([i for i, _ in doomed], 500):
                        _forget_keys(session, chunk)
                        session.execute(delete(EntryRow).where(EntryRow.id.in_(chunk)))
            _elect_canonicals(session, articles)
            _forget_alert_sends(session, articles)
        if on_progress:
            on_progress(len(feeds), len(feeds))
        return removed

    def export_entries(self) -> Iterator[dict[str, object]]:
        """Every stored entry with its feed, as plain JSON-able data, oldest first."""
        query = select(*SHOWN).order_by(EntryRow.id).execution_options(yield_per=CHUNK)
        # A generator: a decorator would return before it runs.
        with wrap_errors("export the entries"), self._session() as session:
            # Each feed once: its row holds its polling state (see reads.SHOWN).
            blogs = _blogs(session, session.scalars(select(FeedRow.id)))
            for row in session.execute(query):
                yield _exported(row, blogs[row.feed_id])

    @wrap_errors("add an imported feed")
    def ensure_feed(self, feed: FeedConfig) -> None:
        """Add a feed row for an imported feed that feeds.yaml does not list (yet)."""
        with self._session.begin() as session:
            exists = session.scalar(select(FeedRow.id).where(FeedRow.name == feed.name))
            if exists is None:
                session.add(FeedRow(name=feed.name, url=feed.url, tags=list(feed.tags),
                                    failures=0))

    @wrap_errors("import entries")
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

    @wrap_errors("vacuum the database")
    def vacuum(self) -> None:
        """Give freed space back and refresh the query planner's statistics."""
        with self.engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            if self.engine.dialect.name == "sqlite":
                connection.exec_driver_sql("VACUUM")
                connection.exec_driver_sql("PRAGMA optimize")
            else:
                connection.exec_driver_sql("VACUUM ANALYZE")

    @wrap_errors("count the feeds and entries")
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


def _doomed(session: Session, feed_id: int, before: datetime, keep_per_feed: int
            ) -> list[tuple[int, int | None]]:
    """A feed's entries that a prune removes, (id, article id): filed before `before`,
    except its newest `keep_per_feed`."""
    beyond_newest = session.execute(
        select(EntryRow.id, EntryRow.article_id, EntryRow.dated)
        .where(EntryRow.feed_id == feed_id)
        .order_by(EntryRow.dated.desc(), EntryRow.id.desc())
        .offset(keep_per_feed))
    return [(i, a) for i, a, dated in beyond_newest if dated < before]


def _forget_alert_sends(session: Session, article_ids: set[int]) -> None:
    """Delete the alerts' sends of the articles among `article_ids` that no entry is left
    of (a send names its article by its first entry's id, which copies keep)."""
    for chunk in _chunks(sorted(article_ids), 500):
        left = (select(EntryRow.id).where(or_(EntryRow.id == AlertSendRow.article_id,
                                              EntryRow.article_id == AlertSendRow.article_id))
                .exists())
        session.execute(delete(AlertSendRow).where(AlertSendRow.article_id.in_(chunk), ~left)
                        .execution_options(synchronize_session=False))


def _exported(entry: Any, feed: Blog) -> dict[str, object]:
    def stamp(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "feed": {"name": feed.name, "url": feed.url, "tags": list(feed.tags)},
        "identity": entry.identity, "title": entry.title, "link": entry.link,
        "author": entry.author, "published": stamp(entry.published),
        "updated": stamp(entry.updated), "first_seen": stamp(entry.first_seen),
        "dated": stamp(entry.dated), "changed": stamp(entry.changed),
        "content": entry.content, "summary": entry.summary, "excerpt": entry.excerpt,
        "language": entry.language, "enclosures": entry.enclosures or [],
        "thumbnail": entry.thumbnail, "categories": entry.categories or [],
    }
