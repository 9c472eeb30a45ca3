"""Which search bundle indexes which day page: a pure function of the page's day and the
newest day, so that a render re-indexes a bounded part of the archive.

Pagefind has no incremental mode: a bundle is rebuilt whole when one of its pages
changes. New articles land on the newest days, so the newest days are cut finest: the
newest day's month in halves (days 1–15 and 16–end), the earlier months of its year one
bundle each, earlier years one bundle each. A render after new articles rebuilds one
half-month (at most 16 day pages) whatever the archive's size; the halves fold into
their month when the next month begins, the months into their year on New Year.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

# A day page's file name in digest/: the day, then the page number from the second on.
DAY_PAGE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:-\d+)?\.html")
# The first day of the second half of a month.
SECOND_HALF = 16


@dataclass(frozen=True, order=True)
class Bundle:
    """One Pagefind bundle: `first` (its first day, which orders bundles), `name` (its
    folder in pagefind/), `glob` (its day pages, for pagefind --glob, from the site root)."""

    first: date
    name: str
    glob: str


def day_of(file_name: str) -> date | None:
    """The day of a day page's file name ("2026-12-01.html", "2026-12-01-2.html"), or
    None for any other file."""
    match = DAY_PAGE.fullmatch(file_name)
    if match is None:
        return None
    try:
        return date(*(int(part) for part in match.groups()[:3]))
    except ValueError:
        return None


def bundle_of(day: date, newest: date) -> Bundle:
    """The bundle of the day page of `day` when the newest day page is of `newest`."""
    if day.year < newest.year:
        return Bundle(date(day.year, 1, 1), f"{day.year}", f"digest/{day.year}-*.html")
    month = f"{day.year}-{day.month:02d}"
    if day.month < newest.month:
        return Bundle(date(day.year, day.month, 1), month, f"digest/{month}-*.html")
    days = range(1, SECOND_HALF) if day.day < SECOND_HALF else range(SECOND_HALF, 32)
    first = date(day.year, day.month, days[0])
    # Each listed day as a prefix: "01*" takes the day's later pages ("01-2.html") too.
    listed = ",".join(f"{number:02d}" for number in days)
    return Bundle(first, f"{month}-{days[0]:02d}", f"digest/{month}-{{{listed}}}*.html")


def plan(file_names: Iterable[str]) -> dict[Bundle, list[str]]:
    """The bundles of the day pages among `file_names` (of digest/), newest bundle
    first, each with its pages' file names in order."""
    days = {name: day for name in file_names if (day := day_of(name)) is not None}
    if not days:
        return {}
    newest = max(days.values())
    bundles: dict[Bundle, list[str]] = {}
    for name in sorted(days):
        bundles.setdefault(bundle_of(days[name], newest), []).append(name)
    return dict(sorted(bundles.items(), reverse=True))
