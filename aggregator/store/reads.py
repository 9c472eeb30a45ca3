"""What rendering reads: articles with their copies, by date, feed or recency, a day's
articles listed without their text to cut its pages, and the dates whose pages changed
since a render (those entries left, forgotten once old)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, select, union
from sqlalchemy.orm import Session

from aggregator.models import Copy, StoredEntry
from aggregator.store.base import StoreBase, _chunks, wrap_errors
from aggregator.store.entry_rows import (
    BLOG_COLUMNS,
    CHUNK,
    SHOWN_COLUMNS,
    Blog,
    blog_of,
    plain_entries,
    stored_entry,
)
from aggregator.store.schema import EntryMoveRow, EntryRow, FeedRow

# The columns of an entry that pages, feeds and exports show. Its feed's come apart,
# once per feed (_blogs): joined to each entry, the feed row's polling state (the
# digests of its whole last document, its boilerplate) was decoded again for every
# entry, and a day of 3,000 entries of one feed took 6 GB to render.
SHOWN = tuple(getattr(EntryRow, column) for column in SHOWN_COLUMNS)


@dataclass(frozen=True, slots=True)
class EntryRef:
    """An article without its text: what ordering and counting a day's pages needs.
    `updated` is the later of its filing date and its last change."""

    id: int
    blog: Blog
    updated: datetime


@dataclass(frozen=True, slots=True)
class EntryText:
    """An article's short text and where it comes from: what finding shared stories
    and rising phrases reads, without its content or copies."""

    id: int
    blog: Blog
    title: str
    link: str | None
    excerpt: str
    dated: datetime


class ReadsMixin(StoreBase):
    """The Store's methods that read articles for rendering."""

    @wrap_errors("read the latest entries")
    def latest_entries(self, limit: int,
                       feeds: Collection[str] | None = None) -> list[StoredEntry]:
        """The `limit` most recent articles, newest first, with their copies.

        With `feeds`, only the articles shown from those feeds (a tag's feeds).
        """
        query = (select(*SHOWN).where(EntryRow.is_canonical.is_(True))
                 .order_by(EntryRow.dated.desc(), EntryRow.id.desc()).limit(limit))
        if feeds is not None:
            query = query.where(EntryRow.feed_id.in_(
                select(FeedRow.id).where(FeedRow.name.in_(sorted(feeds)))))
        with self._session() as session:
            return _with_copies(session, list(session.execute(query)))

    @wrap_errors("read a feed's entries")
    def feed_entries(self, name: str, limit: int | None = None) -> list[StoredEntry]:
        """The articles shown from one feed, newest first."""
        query = (select(*SHOWN).where(*_shown_from(name))
                 .order_by(EntryRow.dated.desc(), EntryRow.id.desc()).limit(limit))
        with self._session() as session:
            return _with_copies(session, list(session.execute(query)))

    def each_shown_entry(self, names: Collection[str]) -> Iterator[StoredEntry]:
        """Every article shown from the feeds `names`, oldest stored first, without their
        copies, read CHUNK at a time in one statement each: memory stays that of one chunk
        however many there are, and the statements do not grow with the feeds."""
        last = 0
        # A generator: a decorator would return before it runs.
        with wrap_errors("read feeds' entries"), self._session() as session:
            feeds = select(FeedRow.id).where(FeedRow.name.in_(sorted(names)))
            while True:
                query = (select(*SHOWN).where(EntryRow.is_canonical.is_(True),
                                              EntryRow.feed_id.in_(feeds), EntryRow.id > last)
                         .order_by(EntryRow.id).limit(CHUNK))
                rows = list(session.execute(query))
                if not rows:
                    return
                last = rows[-1].id
                yield from plain_entries(rows, _blogs(session, {row.feed_id for row in rows}))

    @wrap_errors("list the entries of a period")
    def entry_refs_between(self, start: datetime, end: datetime) -> list[EntryRef]:
        """Articles filed at or after `start` and before `end`, oldest first, without
        their text (entries_by_ids reads it, a page at a time)."""
        within = (EntryRow.is_canonical.is_(True), EntryRow.dated >= start, EntryRow.dated < end)
        # Streamed: the driver's rows of a day of 200,000 weigh more than the refs.
        query = (select(EntryRow.id, EntryRow.feed_id, EntryRow.dated, EntryRow.changed)
                 .where(*within).order_by(EntryRow.dated, EntryRow.id)
                 .execution_options(yield_per=10 * CHUNK))
        with self._session() as session:
            blogs = _blogs(session, session.scalars(
                select(EntryRow.feed_id).where(*within).distinct()))
            return [EntryRef(row.id, blogs[row.feed_id], max(row.dated, row.changed))
                    for row in session.execute(query)]

    @wrap_errors("read entries")
    def entries_by_ids(self, ids: Sequence[int], *, copies: bool = True
                       ) -> dict[int, StoredEntry]:
        """The articles of `ids` by id, in that order, with their copies unless `copies`
        is False; those no longer stored are left out."""
        found: dict[int, StoredEntry] = {}
        with self._session() as session:
            for chunk in _chunks(ids, CHUNK):
                rows = list(session.execute(select(*SHOWN).where(EntryRow.id.in_(chunk))))
                entries = (_with_copies(session, rows) if copies
                           else plain_entries(rows, _blogs(session, {r.feed_id for r in rows})))
                found.update((row.id, entry) for row, entry in zip(rows, entries, strict=True))
        return {i: found[i] for i in ids if i in found}

    @wrap_errors("read entries' text")
    def entry_texts(self, ids: Sequence[int]) -> list[EntryText]:
        """The title and excerpt of the articles of `ids` still stored, in that order."""
        found: dict[int, EntryText] = {}
        with self._session() as session:
            for chunk in _chunks(ids, CHUNK):
                rows = list(session.execute(
                    select(EntryRow.id, EntryRow.feed_id, EntryRow.title, EntryRow.link,
                           EntryRow.excerpt, EntryRow.dated).where(EntryRow.id.in_(chunk))))
                blogs = _blogs(session, {row.feed_id for row in rows})
                found.update((row.id, EntryText(row.id, blogs[row.feed_id], row.title,
                                                row.link, row.excerpt, row.dated))
                             for row in rows)
        return [found[i] for i in ids if i in found]

    @wrap_errors("read the entries' dates")
    def entry_dates(self) -> list[datetime]:
        """The filing date of every article, to list the days that have some."""
        with self._session() as session:
            return list(session.scalars(
                select(EntryRow.dated).where(EntryRow.is_canonical.is_(True))))

    @wrap_errors("forget the dates entries left")
    def forget_moves(self, before: datetime) -> None:
        """Drop the dates entries left before `before`, which no render needs any more
        (see changes.MOVES_KEPT)."""
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


def _shown_from(name: str) -> tuple[ColumnElement[bool], ...]:
    """The conditions on an entry to be an article shown from the feed `name`."""
    return (EntryRow.is_canonical.is_(True),
            EntryRow.feed_id.in_(select(FeedRow.id).where(FeedRow.name == name)))


def _blogs(session: Session, feed_ids: Iterable[int]) -> dict[int, Blog]:
    """What entries show of their feeds, by feed id: one row read per feed."""
    query = (select(FeedRow.id, *(getattr(FeedRow, column) for column in BLOG_COLUMNS))
             .where(FeedRow.id.in_(sorted(set(feed_ids)))))
    return {row[0]: blog_of(*row[1:]) for row in session.execute(query)}


def _with_copies(session: Session, rows: Sequence[Any]) -> list[StoredEntry]:
    """Articles (rows of SHOWN) as StoredEntry, each with its other copies and its
    founding entry."""
    articles = sorted({row.article_id or row.id for row in rows})
    copies: dict[int, list[Copy]] = {}
    founders: dict[int, tuple[str, str]] = {}
    for chunk in _chunks(articles, CHUNK):
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
    blogs = _blogs(session, {row.feed_id for row in rows})
    stored = []
    for row in rows:
        article = row.article_id or row.id
        blog = blogs[row.feed_id]
        founder = founders.get(article, (blog.name, row.identity))
        stored.append(stored_entry(row, blog, founder, tuple(copies.get(article, ()))))
    return stored
