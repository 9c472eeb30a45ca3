"""Article pages in the store: the entries whose page is due, each page's outcome written
apart from the feed's text, and the entry fingerprinted and filed again on its whole text
(a teaser becomes a copy of the article it cuts short)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from aggregator.dedup import fingerprint, paragraphs, rank_candidates
from aggregator.fulltext.shown import FETCHED, shown_html
from aggregator.models import PageCounts, PageOutcome, PageTask
from aggregator.store.base import StoreBase, wrap_errors
from aggregator.store.copies import (
    _candidates,
    _elect_canonicals,
    _file_keys,
    _find_text_copy,
    _forget_keys,
    _postings,
)
from aggregator.store.entries import _lock_filing, _set_fingerprint
from aggregator.store.glance import NOT_NEEDED
from aggregator.store.schema import EntryRow, FeedRow

PENDING = "pending"


class PagesMixin(StoreBase):
    """The Store's methods for article pages."""

    @wrap_errors("read the article pages to fetch")
    def pending_pages(self, modes: Mapping[str, str], *, forced: str | None = None,
                      limit: int = 200) -> list[PageTask]:
        """The entries whose page is due, newest first: pending ones of feeds whose
        full_text (`modes`, by feed) is auto or always, the others not yet fetched of
        feeds set to always, and every one of the feed `forced`."""
        wanted = [name for name, mode in modes.items() if mode != "never"]
        always = [name for name, mode in modes.items() if mode == "always"]
        due = or_(and_(EntryRow.page_status == PENDING, FeedRow.name.in_(wanted)),
                  and_(EntryRow.page_status == NOT_NEEDED, FeedRow.name.in_(always)),
                  FeedRow.name == (forced or ""))
        query = (select(EntryRow.id, FeedRow.name, EntryRow.link, EntryRow.content,
                        EntryRow.summary, EntryRow.page_etag, EntryRow.page_last_modified,
                        EntryRow.page_status, EntryRow.page_html)
                 .join(FeedRow, EntryRow.feed_id == FeedRow.id)
                 .where(due, EntryRow.link.is_not(None))
                 .order_by(EntryRow.dated.desc()).limit(limit))
        with self._session() as session:
            return [PageTask(row.id, row.name, row.link, row.content or row.summary or "",
                             row.page_etag, row.page_last_modified,
                             row.page_status == FETCHED and bool(row.page_html))
                    for row in session.execute(query)]

    @wrap_errors("store an article page")
    def save_page(self, outcome: PageOutcome, now: datetime) -> bool:
        """Write a page's outcome; a new page text fingerprints and files the entry again.
        Whether the entry became a copy of another feed's article."""
        with self._session.begin() as session:
            _lock_filing(session)
            row = session.get(EntryRow, outcome.entry_id)
            if row is None:  # pruned meanwhile
                return False
            row.page_etag = outcome.etag or row.page_etag
            row.page_last_modified = outcome.last_modified or row.page_last_modified
            if outcome.not_modified:
                row.page_status = FETCHED if row.page_html else row.page_status
                return False
            row.page_status, row.page_reason = outcome.status, outcome.reason
            row.page_fetched = now
            if outcome.status != FETCHED or outcome.html == row.page_html:
                return False
            row.page_html, row.page_excerpt, row.changed = outcome.html, outcome.excerpt, now
            return _refile(session, row, now)

    @wrap_errors("count the article pages")
    def page_counts(self) -> dict[str, PageCounts]:
        """Each feed's entries by page status, with its latest page failure."""
        counted: dict[str, dict[str, int]] = {}
        errors: dict[str, str] = {}
        with self._session() as session:
            for name, status, count in session.execute(
                    select(FeedRow.name, EntryRow.page_status, func.count())
                    .join(FeedRow, EntryRow.feed_id == FeedRow.id)
                    .group_by(FeedRow.name, EntryRow.page_status)):
                counted.setdefault(name, {})[status or NOT_NEEDED] = count
            for name, reason in session.execute(
                    select(FeedRow.name, EntryRow.page_reason)
                    .join(FeedRow, EntryRow.feed_id == FeedRow.id)
                    .where(EntryRow.page_status.in_(("failed", "robots-forbidden")))
                    .order_by(EntryRow.page_fetched)):
                errors[name] = reason or ""  # the latest wins
        return {name: PageCounts(counts, errors.get(name)) for name, counts in counted.items()}


def _refile(session: Session, row: EntryRow, now: datetime) -> bool:
    """Fingerprint the entry on the text it now shows, file it under its new keys, and
    join the article of another feed's entry it turns out to copy (with its own copies)."""
    boilerplate = session.scalar(select(FeedRow.boilerplate).where(FeedRow.id == row.feed_id))
    html = shown_html(row.content, row.summary, row.page_status, row.page_html)
    found = fingerprint(row.title, row.link, paragraphs(html), frozenset(boilerplate or ()))
    _set_fingerprint(row, found)
    _forget_keys(session, [row.id])
    keys, postings = _postings(session, {row.identity: found})
    own = set(session.scalars(select(EntryRow.id).where(EntryRow.feed_id == row.feed_id)))
    worth = rank_candidates(found, postings, keys[row.identity], own)
    match = _find_text_copy(session, found, html, worth, _candidates(session, set(worth)))
    _file_keys(session, [(row.id, keys[row.identity])], postings)
    old = row.article_id or row.id
    if match is None or (match.article_id or match.id) == old:
        return False
    new = match.article_id or match.id
    session.flush()
    # The entry's article joins the one it copies: its other copies are copies of it too.
    session.execute(update(EntryRow).where(EntryRow.article_id == old)
                    .values(article_id=new, changed=now))
    _elect_canonicals(session, {new}, now)
    return True
