"""RFC 5005 archives of the merged feed: one complete Atom document and one JSON Feed page
a month, linked from the newest month back to the first, each written again only when an
article of its month (or the months beside it) changed.

A subscriber walks `atom.xml` → `prev-archive` → ... and finds every article in exactly
one month; `feed.json` pages the same way with `next_url`. The month in progress is
archived too, or the articles it holds beyond the merged feed's window could not be
reached; it changes until the month ends, then stays as it is.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment

from aggregator.config.load import Settings
from aggregator.publish.digest import day_bounds, month_of
from aggregator.publish.feeds import FeedDocument, build_feed, json_feed
from aggregator.publish.filters import EntryFilter
from aggregator.publish.output import Writer
from aggregator.store import Store

ARCHIVE_FOLDER = "archive"


@dataclass(frozen=True)
class ArchivePlan:
    """Every month with articles, newest first, and those whose files are written now."""

    months: tuple[date, ...]
    write: frozenset[date]


def archive_path(month: date, suffix: str) -> str:
    """Where a month's archive is written, relative to the output root."""
    return f"{ARCHIVE_FOLDER}/{month:%Y-%m}{suffix}"


def months_of(days: Sequence[date]) -> tuple[date, ...]:
    """The months of `days` (newest first), each once, in that order."""
    return tuple(dict.fromkeys(month_of(day) for day in days))


def plan_archives(days: Sequence[date], before: Sequence[date] | None,
                  changed: Collection[date], root: Path) -> ArchivePlan:
    """Which months' archives to write: all of them without a last render (`before`:
    its days), else the months of the `changed` days, those whose neighbours in the
    chain are not the same as before, and those whose files are missing."""
    months = months_of(days)
    if before is None:
        return ArchivePlan(months, frozenset(months))
    old, new = _neighbours(months_of(before)), _neighbours(months)
    write = {month_of(day) for day in changed} & set(months)
    write |= {month for month in months if old.get(month) != new[month]}
    write |= {month for month in months if not (root / archive_path(month, ".xml")).exists()}
    return ArchivePlan(months, frozenset(write))


def _neighbours(months: Sequence[date]) -> dict[date, tuple[date | None, date | None]]:
    """Each month's older and newer month in the chain."""
    return {month: (months[i + 1] if i + 1 < len(months) else None, months[i - 1] if i else None)
            for i, month in enumerate(months)}


def link_latest(document: FeedDocument, settings: Settings,
                plan: ArchivePlan) -> FeedDocument:
    """The merged feed with its links to the newest month's archive (Atom and JSON Feed)."""
    if not plan.months:
        return document
    newest = plan.months[0]
    return replace(document, prev_archive=settings.base_url + archive_path(newest, ".xml"),
                   next_url=settings.base_url + archive_path(newest, ".json"))


def write_archives(env: Environment, writer: Writer, store: Store, rules: EntryFilter,
                   settings: Settings, plan: ArchivePlan, context: dict[str, Any],
                   now: datetime) -> None:
    """Write the planned months' archives and remove those of months with no article left."""
    neighbours = _neighbours(plan.months)
    for month in plan.months:
        if month not in plan.write:
            continue
        document = month_document(store, rules, settings, month, neighbours[month], now)
        writer.put(archive_path(month, ".xml"),
                   env.get_template("atom.xml").render(context, feed=document))
        writer.put(archive_path(month, ".json"), json_feed(document))
    _remove_gone(writer.root / ARCHIVE_FOLDER, plan.months)


def month_document(store: Store, rules: EntryFilter, settings: Settings, month: date,
                   neighbours: tuple[date | None, date | None], now: datetime
                   ) -> FeedDocument:
    """A month's archive: every article filed in it (days in the site's time zone),
    newest first, and its links to the merged feed and the months beside it."""
    refs = store.entry_refs_between(*_month_bounds(month, ZoneInfo(settings.timezone)))
    entries = list(store.entries_by_ids([ref.id for ref in reversed(refs)]).values())
    base = settings.base_url
    older, newer = neighbours

    def url(other: date | None, suffix: str) -> str | None:
        return base + archive_path(other, suffix) if other else None

    document = build_feed(rules.shown(entries), settings, now,
                          title=f"{settings.title} — {month:%Y-%m}")
    return replace(
        document, id=base + "atom.xml",  # one feed, in pieces: the merged feed's id
        atom_url=base + archive_path(month, ".xml"), json_url=base + archive_path(month, ".json"),
        current_url=base + "atom.xml", prev_archive=url(older, ".xml"),
        next_archive=url(newer, ".xml"), next_url=url(older, ".json"))


def _month_bounds(month: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants where `month` starts and the next one starts (the end of time
    for December 9999, whose next month the calendar lacks)."""
    last_day = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    try:
        end = day_bounds(last_day, tz)[1]
    except (OverflowError, ValueError):
        end = datetime.max.replace(tzinfo=UTC)
    return day_bounds(month, tz)[0], end


def _remove_gone(folder: Path, months: Sequence[date]) -> None:
    """Remove the archives of months that have no article left."""
    kept = {f"{month:%Y-%m}{suffix}" for month in months for suffix in (".xml", ".json")}
    if folder.is_dir():
        for path in folder.iterdir():
            if path.is_file() and path.name not in kept and not path.name.startswith("."):
                path.unlink()
