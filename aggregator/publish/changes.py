"""Which day pages a render writes: every day's on a first or full render, else the days
whose entries changed since the last render and the days around them that show them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

from aggregator.publish.digest import local_days, month_of
from aggregator.publish.output import remove_days, remove_stale_days
from aggregator.publish.pages import DayEntries
from aggregator.publish.state import RenderState, previous_render
from aggregator.store import Store

# Entries stamped up to this long before the last render may have been saved after
# it: another worker's poll committed late, clocks of two machines apart.
LATE_SAVES = timedelta(minutes=15)
# An output folder last rendered longer ago than this is rendered in full, not from
# the days entries left since (the store's entry_moves): those are forgotten after
# twice as long, so that another worker's folder rendered a little later still finds
# every one it needs.
MOVES_KEPT = timedelta(days=7)
# An incremental render keeps the listings of the days it looks at first, so each
# is read once; past this many days (a first poll of old archives) it reads them
# again rather than hold them all: memory stays that of one day at a time.
KEEP_DAYS = 31


def days_to_render(store: Store, day_entries: DayEntries, root: Path, site: str,
                    now: datetime, full: bool
                    ) -> tuple[RenderState | None, list[date], set[date]]:
    """The last render to build on (None: render every page), the days that have a
    page, and those whose page is rendered this time; pages of days gone are removed."""
    last = None if full else previous_render(root, site)
    if last is not None and last.rendered_at < now - MOVES_KEPT:
        last = None
    if last is None:
        days = _all_days(store, day_entries)
        remove_stale_days(root, days)
        return None, days, set(days)
    days, wanted = _changed_days(store, day_entries, last, now)
    remove_days(root, set(last.days) - set(days))
    return last, days, wanted


def _all_days(store: Store, day_entries: DayEntries) -> list[date]:
    """Every day that has a page, newest first: a full render reads every entry's date."""
    days = local_days(store.entry_dates(), day_entries.tz)
    if day_entries.rules:  # a day whose every entry is filtered out gets no page
        days = [d for d in days if day_entries.get(d) is not None]
    return days


def _changed_days(store: Store, day_entries: DayEntries, last: RenderState,
                  now: datetime) -> tuple[list[date], set[date]]:
    """The days that have a page now, and those whose page must be rendered again:
    the days entries changed on since the last render, and the days whose previous
    day, next day or month changed with them."""
    since = min(last.rendered_at, now) - LATE_SAVES
    touched = set(local_days(store.changed_dates(since), day_entries.tz))
    keep = len(touched) <= KEEP_DAYS
    shown = {day for day in touched if day_entries.get(day, keep=keep) is not None}
    days = sorted((set(last.days) - touched) | shown, reverse=True)
    return days, shown | _moved_surroundings(last.days, days)


def _moved_surroundings(before: Sequence[date], after: Sequence[date]) -> set[date]:
    """The days of `after` whose neighbours or month's days are not those of `before`."""
    old, new = _surroundings(before), _surroundings(after)
    return {day for day in after if old.get(day) != new[day]}


def _surroundings(days: Sequence[date]) -> dict[date, tuple[object, ...]]:
    """What a day page shows of the other days: the day before, the day after, its month."""
    months: dict[date, list[date]] = {}
    for day in days:
        months.setdefault(month_of(day), []).append(day)
    return {
        day: (days[i + 1] if i + 1 < len(days) else None, days[i - 1] if i else None,
              tuple(months[month_of(day)]))
        for i, day in enumerate(days)
    }
