"""What rendering reads: articles with their copies, by date, feed or recency, and the
dates whose pages changed since a render (those entries left, forgotten once old)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import delete, select, union
from sqlalchemy.orm import Session

from aggregator.models import Copy, Enclosure, StoredEntry
from aggregator.store.base import StoreBase, _chunks, wrap_errors
from aggregator.store.schema import EntryMoveRow, EntryRow, FeedRow


class ReadsMixin(StoreBase):
    """The Store's methods that read articles for rendering."""

    @wrap_errors("read the latest entries")
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

    @wrap_errors("read a feed's entries")
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

    @wrap_errors("read the entries of a period")
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

    @wrap_errors("read the entries' dates")
    def entry_dates(self) -> list[datetime]:
        """The filing date of every article, to list the days that have some."""
        with self._session() as session:
            return list(session.scalars(
                select(EntryRow.dated).where(EntryRow.is_canonical.is_(True))))

    @wrap_errors("forget the dates entries left")
    def forget_moves(self, before: datetime) -> None:
        """Drop the dates entries left before `before`, which no render needs any more
        (see render.MOVES_KEPT)."""
        with self._session.begin() as session:
            session.execute(delete(EntryMoveRow).where(EntryMoveRow.moved_at < before))

    @wrap_errors("read the changed dates")
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


def _enclosures_of(row: EntryRow) -> tuple[Enclosure, ...]:
    found = []
    for item in row.enclosures or ():
        url, kind, length = item.get("url"), item.get("type"), item.get("length")
        if isinstance(url, str) and url:
            found.append(Enclosure(url, kind if isinstance(kind, str) else None,
                                   length if isinstance(length, int) else None))
    return tuple(found)
