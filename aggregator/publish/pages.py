"""A day's articles cut in pages: which articles each page shows, in the order it shows
them, listed without their text, and read one page at a time.

A render holds the list of a day's article ids (and each article's text only for the
page being built), so its memory follows what one page shows, not what the day holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from aggregator.models import StoredEntry
from aggregator.publish.digest import PAGE_SIZE, DayTotals, blog_order, day_bounds, page_count
from aggregator.publish.filters import EntryFilter
from aggregator.store import Store
from aggregator.store.entry_rows import CHUNK
from aggregator.store.reads import EntryRef


@dataclass(frozen=True)
class DayListing:
    """The articles a day shows (one at least), in the order its pages show them;
    `updated` is the latest filing or change among them (the digest feed's date for
    the day)."""

    ids: tuple[int, ...]
    blogs: int
    updated: datetime

    @property
    def pages(self) -> int:
        """How many pages the day takes."""
        return page_count(len(self.ids))

    def page(self, number: int) -> tuple[int, ...]:
        """The ids page `number` (from 1) shows."""
        return self.ids[(number - 1) * PAGE_SIZE:number * PAGE_SIZE]

    def totals(self, number: int) -> DayTotals:
        """What page `number` shows of the whole day."""
        return DayTotals(len(self.ids), self.blogs, number, self.pages)


class DayEntries:
    """The articles each day shows, filters applied; the days an incremental render
    looks at first are kept, so each is listed once."""

    def __init__(self, store: Store, rules: EntryFilter, tz: ZoneInfo) -> None:
        self.store, self.rules, self.tz = store, rules, tz
        self._kept: dict[date, DayListing | None] = {}

    def get(self, day: date, *, keep: bool = False) -> DayListing | None:
        """The day's listing; None when it has no article the filters let through."""
        if day in self._kept:
            return self._kept[day]
        found = list_day(self.store, self.rules, day_bounds(day, self.tz))
        if keep:
            self._kept[day] = found
        return found

    def page(self, listing: DayListing, number: int) -> list[StoredEntry]:
        """The articles of page `number` of a day, with their copies."""
        return list(self.store.entries_by_ids(listing.page(number)).values())


def list_day(store: Store, rules: EntryFilter,
             bounds: tuple[datetime, datetime]) -> DayListing | None:
    """The articles filed within `bounds` that the filters let through, in the order a
    day page shows them (blog_order, then time); None when there are none."""
    refs = store.entry_refs_between(*bounds)
    if rules:
        refs = _shown(store, rules, refs)
    if not refs:
        return None
    # Each blog's place computed once, not once an article (it folds accents). The
    # sort is stable: the store's order (filing date, then id) stays within a blog.
    places = {blog: blog_order(blog.tags, blog.name) for blog in {ref.blog for ref in refs}}
    refs.sort(key=lambda ref: places[ref.blog])
    return DayListing(
        ids=tuple(ref.id for ref in refs),
        blogs=len({ref.blog.name for ref in refs}),
        updated=max(ref.updated for ref in refs),
    )


def _shown(store: Store, rules: EntryFilter, refs: Sequence[EntryRef]) -> list[EntryRef]:
    """The refs whose articles the filters let through, judged CHUNK articles at a time."""
    shown = []
    for start in range(0, len(refs), CHUNK):
        chunk = refs[start:start + CHUNK]
        entries = store.entries_by_ids([ref.id for ref in chunk], copies=False)
        shown += [ref for ref in chunk
                  if ref.id in entries and rules.judge(entries[ref.id]).shown]
    return shown
