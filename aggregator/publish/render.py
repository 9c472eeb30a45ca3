"""The digest pages and merged feeds, rendered again where something changed.

A render builds on the last one: a state file in the output folder says when it
ran and which days have pages, and only the pages of days whose entries changed
since (and of their neighbours) are rendered again. The digest feed's entries of
the other days are those the last render left in a dot folder.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment

from aggregator import PROJECT_URL, __version__
from aggregator.config.load import FeedConfig, Settings
from aggregator.models import FeedState
from aggregator.publish import environment, follow, search
from aggregator.publish.archives import link_latest, plan_archives, write_archives
from aggregator.publish.changes import MOVES_KEPT, days_to_render
from aggregator.publish.digest import (
    RECENT_DAYS,
    ArchiveMonth,
    DayLink,
    DayPage,
    build_archive,
    build_day_page,
    build_month,
    day_bounds,
    day_link,
    month_of,
    stamp,
)
from aggregator.publish.documents import advertised_tags, feed_documents
from aggregator.publish.feeds import (
    DIGEST_CHARACTERS,
    DIGEST_DAYS,
    DigestDay,
    DigestEntry,
    FeedDocument,
    TagFeed,
    digest_day_id,
    digest_summary,
    render_digest_day,
    tag_feeds,
    write_feeds,
)
from aggregator.publish.filters import EntryFilter
from aggregator.publish.folding import fold
from aggregator.publish.follow_pages import write_follow_pages
from aggregator.publish.output import (
    NOT_FOUND_PAGE,
    Writer,
    remove_later_pages,
    remove_stale_tags,
)
from aggregator.publish.pages import DayEntries, DayListing
from aggregator.publish.state import (
    RenderState,
    read_digest_cache,
    site_stamp,
    write_digest_cache,
    write_state,
)
from aggregator.publish.trends import FrontPage
from aggregator.store import Store

log = logging.getLogger(__name__)

# Copied as they are from templates/static/.
STATIC_FILES = ("style.css", "favicon.svg")
ARCHIVE_PAGE = "archive.html"


@dataclass(frozen=True)
class RecentDay:
    """A day before the latest, as the index lists it: its link and its articles."""

    link: DayLink
    count: int


def recent_days(days: Sequence[date], articles: Sequence[int],
                language: str) -> tuple[RecentDay, ...]:
    """The days before the latest (`days` newest first, `articles` each one's), at most
    RECENT_DAYS - 1 of them, for the index's compact list."""
    pairs = list(zip(days, articles, strict=True))[1:RECENT_DAYS]
    return tuple(RecentDay(day_link(day, language), count) for day, count in pairs)


@dataclass(frozen=True)
class RenderReport:
    """What a render wrote: files changed, files left as they were, day pages in all,
    day pages rendered this time, and whether every page was (a full render)."""

    written: int
    unchanged: int
    days: int
    entries_in_feed: int
    rendered_days: int = 0
    full: bool = True
    changed: tuple[str, ...] = ()  # the files written, relative to the output folder


def render_site(
    store: Store, settings: Settings, feeds: Sequence[FeedConfig], now: datetime, *,
    full: bool = False, on_progress: Callable[[int, int], None] | None = None,
) -> RenderReport:
    """Write the day pages, the index, the archive, the merged, per-tag and digest feeds
    and the OPML list; `on_progress(done, total)` is told each day page gone through.

    Day pages are rendered again only where something changed since the last render
    of the output folder; every one of them is with `full`, on a first render, or
    when something every page shows changed (see site_stamp). Processes sharing
    the database (workers, a `render` beside the daemon) take turns.
    """
    with store.render_lock():
        try:
            return _render_site(store, settings, feeds, now, full, on_progress)
        except _StaleState as stale:
            # A day of the last render lost all its entries unseen (pruned by another
            # process): the state cannot be trusted.
            log.warning("%s has no entries left; rendering every page", stale)
            return _render_site(store, settings, feeds, now, True, on_progress)


class _StaleState(Exception):
    """The last render's state no longer matches the database."""


def _render_site(store: Store, settings: Settings, feeds: Sequence[FeedConfig],
                 now: datetime, full: bool,
                 on_progress: Callable[[int, int], None] | None) -> RenderReport:
    env = environment.make_environment(language=settings.language)
    writer = Writer(settings.output_dir)
    rules = EntryFilter(settings.filters, feeds)
    day_entries = DayEntries(store, rules, ZoneInfo(settings.timezone))
    states = store.feed_states(count_entries=False, layout=False)
    documents = feed_documents(store, rules, settings, feeds, tags := tag_feeds(feeds), now)
    advertised = advertised_tags(tags, documents)  # every page names them: in the stamp
    site = site_stamp(settings, feeds, states, [t.tag for t in advertised])
    last, days, wanted = days_to_render(store, day_entries, settings.output_dir, site, now,
                                         full)
    common = _common_context(settings, tags, feeds, advertised)
    digested = {} if last is None else read_digest_cache(settings.output_dir, last)
    front = FrontPage(day_entries)
    latest, digest, counted = _render_days(env, writer, settings, day_entries, days, wanted,
                                           common, digested, on_progress, front)
    articles = _day_articles(days, last, counted)
    une = {"stories": front.stories(days[0]), "trends": front.trends(now)} if days else {}
    _write_index(env, writer, settings, {**common, **une}, (days, articles), latest, now,
                 [states[feed.name] for feed in feeds if feed.name in states])
    if last is None or (last.days, last.articles) != (tuple(days), articles):
        _write_archive(env, writer, settings, common, days, articles)
    _write_feeds(env, writer, (store, rules), settings, (feeds, tags), states,
                 (documents, digest), ArchiveRun(days, last, wanted), now, common)
    write_follow_pages(env, writer, store, rules, settings, feeds, states, common, site, now,
                       every=last is None)
    _write_static(env, writer, settings, common)
    state = RenderState(site, now, tuple(days), articles)
    # The cache before the state: a render stopped between the two leaves an index
    # that does not match the state, and the next render ignores the cache. Stopped
    # before its index, it may have rewritten day files, but only with what those
    # days hold now.
    write_digest_cache(settings.output_dir, state, digest)
    write_state(settings.output_dir, state)
    search.update_index(settings.output_dir)  # after the pages it reads
    store.forget_moves(now - 2 * MOVES_KEPT)
    return RenderReport(writer.written, writer.unchanged, len(days), len(documents[0][1].items),
                        rendered_days=len(wanted), full=last is None, changed=tuple(writer.changed))


def _render_days(
    env: Environment, writer: Writer, settings: Settings, day_entries: DayEntries,
    days: Sequence[date], wanted: set[date], common: dict[str, Any],
    digested: Mapping[date, DigestEntry], on_progress: Callable[[int, int], None] | None,
    front: FrontPage,
) -> tuple[DayPage | None, list[DigestEntry], dict[date, int]]:
    """Write the pages of the `wanted` days; return the latest day's page, for the index,
    the digest feed's newest days (DIGEST_DAYS, DIGEST_CHARACTERS), and the articles of
    each day it listed (every wanted day). A day not wanted has not changed since the last
    render: its digest entry is taken from `digested` (that render's), not built again."""
    months = _MonthLinks(days, settings.language)
    latest: DayPage | None = None
    digest: list[DigestEntry] = []
    counted: dict[date, int] = {}
    for index, day in enumerate(days):
        if on_progress:
            on_progress(index, len(days))
        in_digest = (index < DIGEST_DAYS
                     and sum(len(entry.xml) for entry in digest) < DIGEST_CHARACTERS)
        kept = None if day in wanted or not in_digest else digested.get(day)
        if kept is not None:
            digest.append(kept)
        if index and day not in wanted and (kept is not None or not in_digest):
            continue  # nothing to build; the latest day's page always is, for the index
        listing = day_entries.get(day)
        if listing is None:
            raise _StaleState(day)
        counted[day] = len(listing.ids)
        neighbours = (days[index + 1] if index + 1 < len(days) else None,
                      days[index - 1] if index > 0 else None)
        month = months.get(day) if day in wanted else None
        page = _day_pages(env, writer, settings, day_entries, listing, day, neighbours,
                          {**common, "stories": front.stories(day) if month else []}, month)
        if not index:
            latest = page
        if in_digest and kept is None:
            digest.append(_digest_day(env, page, listing.updated, settings, common))
    if on_progress:
        on_progress(len(days), len(days))
    return latest, digest, counted


def _day_articles(days: Sequence[date], last: RenderState | None,
                  counted: Mapping[date, int]) -> tuple[int, ...]:
    """The articles each of `days` shows: as counted by this render, else (a day not
    changed since) as the last one counted them."""
    before = dict(zip(last.days, last.articles, strict=True)) if last else {}
    return tuple(counted[day] if day in counted else before[day] for day in days)


def _day_pages(
    env: Environment, writer: Writer, settings: Settings, day_entries: DayEntries,
    listing: DayListing, day: date, neighbours: tuple[date | None, date | None],
    common: dict[str, Any], month: ArchiveMonth | None,
) -> DayPage:
    """A day's first page; with `month` (the days listed beside it), every page of the
    day is built and written, one at a time, and the files of pages it lost removed."""
    def build(number: int) -> DayPage:
        return build_day_page(day, day_entries.page(listing, number), settings, *neighbours,
                              totals=listing.totals(number))

    first = build(1)
    if month is None:
        return first
    writer.put(first.path, render_day_page(env, first, common, month))
    later = {**common, "stories": []}  # "À la une" tops the day's first page only
    for number in range(2, listing.pages + 1):
        page = build(number)
        writer.put(page.path, render_day_page(env, page, later, month))
    remove_later_pages(writer.root, day, listing.pages)
    return first


class _MonthLinks:
    """Each month's archive links, built when a page of that month is rendered."""

    def __init__(self, days: Sequence[date], language: str) -> None:
        self.language = language
        self._days: dict[date, list[date]] = {}
        for day in days:
            self._days.setdefault(month_of(day), []).append(day)
        self._built: dict[date, ArchiveMonth] = {}

    def get(self, day: date) -> ArchiveMonth:
        month = month_of(day)
        if month not in self._built:
            self._built[month] = build_month(month, self._days[month], self.language)
        return self._built[month]


def _write_index(
    env: Environment, writer: Writer, settings: Settings, common: dict[str, Any],
    listed: tuple[Sequence[date], Sequence[int]], latest: DayPage | None, now: datetime,
    states: Sequence[FeedState],
) -> None:
    """The latest day in full, the days before it (`listed`: the days, newest first,
    and each one's articles) as a compact list, and when the site was generated; with
    no day yet, how many feeds were polled and how many of them failed."""
    days, articles = listed
    # A month has at most 31 days: the latest month's are among the first 31.
    month = _MonthLinks(days[:31], settings.language).get(days[0]) if days else None
    # Only the index says when it was generated, so unchanged day pages keep
    # their bytes (and their ETags for readers and caches).
    writer.put("index.html", env.get_template("index.html").render(
        common, page=latest, root="", month=month, generated=stamp(now, settings),
        recent=recent_days(days, articles, settings.language),
        polled=sum(s.last_polled is not None for s in states),
        failing=sum(s.last_error is not None for s in states)))


def _write_archive(env: Environment, writer: Writer, settings: Settings,
                   common: dict[str, Any], days: Sequence[date], articles: Sequence[int]
                   ) -> None:
    """Every month, its days and articles, on one page (`articles`: each day's)."""
    writer.put(ARCHIVE_PAGE, env.get_template(ARCHIVE_PAGE).render(
        common, page=None, root="", month=None, day_count=len(days),
        archive=build_archive(days, articles, settings.language)))


def _write_static(env: Environment, writer: Writer, settings: Settings,
                  common: dict[str, Any]) -> None:
    """The stylesheet, the favicon, the search page and the page any web server can answer
    a 404 with."""
    for name in STATIC_FILES:
        writer.put(name, (environment.templates_dir() / "static" / name).read_text("utf-8"))
    # Shown at any depth, so its links start at the site's root path, not at "../".
    writer.put(NOT_FOUND_PAGE, env.get_template(NOT_FOUND_PAGE).render(
        common, page=None, root=urlsplit(settings.base_url).path or "/", month=None))
    search.write_search_page(env, writer, common)


@dataclass(frozen=True)
class ArchiveRun:
    """What the archives are planned from: the days with a page now, the last render,
    and the days whose pages changed."""

    days: Sequence[date]
    last: RenderState | None
    changed: set[date]


def _write_feeds(env: Environment, writer: Writer, source: tuple[Store, EntryFilter],
                 settings: Settings, subscribed: tuple[Sequence[FeedConfig], Sequence[TagFeed]],
                 states: dict[str, FeedState],
                 built: tuple[list[tuple[str, FeedDocument]], list[DigestEntry]],
                 run: ArchiveRun, now: datetime, common: dict[str, Any]) -> None:
    """Write the merged feed (linked to its newest month's archive), the `subscribed`
    feeds' tag feeds, the digest feed and the monthly archives; remove the feeds of
    tags gone."""
    (store, rules), (feeds, tags), (documents, digest) = source, subscribed, built
    plan = plan_archives(run.days, run.last.days if run.last else None, run.changed,
                         settings.output_dir)
    documents[0] = ("", link_latest(documents[0][1], settings, plan))
    write_feeds(env, writer.put, settings, feeds, states, documents, digest, now)
    write_archives(env, writer, store, rules, settings, plan, common, now)
    remove_stale_tags(settings.output_dir, tags)


def _digest_day(env: Environment, page: DayPage, changed: datetime, settings: Settings,
                common: dict[str, Any]) -> DigestEntry:
    """One entry of the digest feed: the day's digest, its links absolute."""
    content = env.get_template("digest_entry.html").render(
        common, page=page, root=settings.base_url)
    day = page.link.day
    return render_digest_day(env, DigestDay(
        day=day, id=digest_day_id(settings, day), heading=page.link.heading,
        count=page.count, link=settings.base_url + page.link.path,
        published=day_bounds(day, ZoneInfo(settings.timezone))[0], updated=changed,
        summary=digest_summary(page), content_html=content), settings)


def render_day_page(env: Environment, page: DayPage, common: dict[str, Any],
                    month: ArchiveMonth | None = None) -> str:
    """The HTML of one day's page (`common`: the context every page shares; `month`:
    the days of its month, listed beside it)."""
    return env.get_template("day.html").render(common, page=page, root="../", month=month)


def _common_context(settings: Settings, tags: Sequence[TagFeed] = (),
                    feeds: Sequence[FeedConfig] = (),
                    advertised: Sequence[TagFeed] | None = None) -> dict[str, Any]:
    # Nothing here may depend on other days: every page would change with them.
    return {
        "site": settings,
        "tag_feeds": tags if advertised is None else advertised,
        "follow": follow.follow_links(tags, feeds),
        "fold": fold,  # a day's big groups: what a page shows, what it folds
        "version": __version__,
        "project_url": PROJECT_URL,
    }


