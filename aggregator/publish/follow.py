"""Tag and blog pages, to follow a subject or a blog: pure, data in, page models out.

Each tag of feeds.yaml has a page of its feeds' articles of the last WINDOW_DAYS days,
by day; each blog one of its recent articles and its health. A render writes again
only the pages whose stamp changed: the stamp sums up every article a page may show
(its id and last change), the window's first day, the blog's health and `site` (the
render's stamp of feeds.yaml, code and templates).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

from babel.dates import format_date

from aggregator.config.load import FeedConfig, Settings
from aggregator.models import FeedState, StoredEntry
from aggregator.publish.digest import (
    PAGE_SIZE,
    DayLink,
    EntryView,
    babel_locale,
    day_bounds,
    day_link,
    entry_view,
    local_time,
)
from aggregator.publish.feeds import TagFeed
from aggregator.publish.safe import web_url
from aggregator.publish.slugs import tag_slugs
from aggregator.publish.status import Health, feed_health
from aggregator.store.reads import EntryRef

WINDOW_DAYS = 30  # the days a tag or blog page looks back on, today included
BLOG_ENTRIES = 100  # articles a blog page shows at most, the newest
# ...and a tag page, as many as a day page: a busy tag stays one page a phone can load.
TAG_ENTRIES = PAGE_SIZE
PAGE = "index.html"
BLOGS = "blogs/"


@dataclass(frozen=True)
class FollowLinks:
    """Each tag's and each blog's page, by tag and by feed name, relative to the root;
    `tag_feeds` is where each tag's feeds are."""

    tags: Mapping[str, str]
    blogs: Mapping[str, str]
    tag_feeds: Mapping[str, str]


@dataclass(frozen=True)
class DayOfArticles:
    """The articles of one day a tag or blog page shows, newest first."""

    link: DayLink
    entries: tuple[EntryView, ...]


@dataclass(frozen=True)
class BlogLink:
    """A blog as a tag page lists it: its page, its site, its articles in the window."""

    name: str
    path: str
    site_url: str | None
    count: int


@dataclass(frozen=True)
class BlogHealth:
    """A blog's health, for the page to say in words: since when (a date), why."""

    word: Health
    since: str | None = None
    error: str | None = None
    moved_to: str | None = None


@dataclass(frozen=True)
class TagPage:
    """A tag's page: its blogs, its articles of the window by day, its feed."""

    tag: str
    path: str
    feed_path: str  # the folder of its Atom, RSS and JSON feeds
    blogs: tuple[BlogLink, ...]
    days: tuple[DayOfArticles, ...]
    count: int
    cut: bool  # more articles than TAG_ENTRIES: the newest only are shown


@dataclass(frozen=True)
class BlogPage:
    """A blog's page: its addresses, its tags, its health, its recent articles."""

    name: str
    title: str
    path: str
    feed_url: str
    site_url: str | None
    tags: tuple[str, ...]
    health: BlogHealth
    days: tuple[DayOfArticles, ...]
    count: int


@dataclass(frozen=True)
class PagePlan:
    """A tag or blog page a render may write: the ids of the articles it may show
    (newest first, before filters) and the stamp of all it shows."""

    path: str
    ids: tuple[int, ...]
    stamp: str
    tag: str | None = None
    feed: FeedConfig | None = None


def follow_links(tags: Sequence[TagFeed], feeds: Sequence[FeedConfig]) -> FollowLinks:
    """Where the tag pages (in their tag feed's folder) and the blog pages are."""
    slugs = tag_slugs(feed.name for feed in feeds)
    return FollowLinks(tags={t.tag: t.path + PAGE for t in tags},
                       blogs={f.name: f"{BLOGS}{slugs[f.name]}/{PAGE}" for f in feeds},
                       tag_feeds={t.tag: t.path for t in tags})


def window(now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Where the last WINDOW_DAYS local days, today included, start and end (UTC)."""
    today = local_time(now, tz).date()
    return day_bounds(today - timedelta(days=WINDOW_DAYS - 1), tz)[0], day_bounds(today, tz)[1]


def plan_pages(refs: Sequence[EntryRef], feeds: Sequence[FeedConfig],
               states: Mapping[str, FeedState], links: FollowLinks, start: datetime,
               site: str, settings: Settings) -> list[PagePlan]:
    """Every tag and blog page, from the window's articles (`refs`, oldest first)."""
    tags_of = {feed.name: feed.tags for feed in feeds}
    by_tag: dict[str, list[EntryRef]] = {tag: [] for tag in links.tags}
    by_blog: dict[str, list[EntryRef]] = {feed.name: [] for feed in feeds}
    for ref in reversed(refs):  # one pass, newest first: a page's refs keep that order
        for tag in tags_of.get(ref.blog.name, ()):
            by_tag[tag].append(ref)
        by_blog.get(ref.blog.name, []).append(ref)
    plans = []
    for tag, path in links.tags.items():
        members = sorted(feed.name for feed in feeds if tag in feed.tags)
        plans.append(PagePlan(path, _ids(by_tag[tag]),
                              _stamp(site, start, by_tag[tag], members), tag=tag))
    tz = ZoneInfo(settings.timezone)
    for feed in feeds:
        own = by_blog[feed.name][:BLOG_ENTRIES]
        state = states.get(feed.name)
        health = blog_health(feed, state, tz, settings.language)
        extra = [feed.url, feed.enabled, state.title if state else None, repr(health)]
        plans.append(PagePlan(links.blogs[feed.name], _ids(own),
                              _stamp(site, start, own, extra), feed=feed))
    return plans


def _ids(refs: Iterable[EntryRef]) -> tuple[int, ...]:
    return tuple(ref.id for ref in refs)


def _stamp(site: str, start: datetime, refs: Sequence[EntryRef], extra: object) -> str:
    parts = [site, start.isoformat(), [[r.id, r.updated.isoformat()] for r in refs], extra]
    return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()


def build_tag_page(tag: str, feeds: Sequence[FeedConfig], entries: Sequence[StoredEntry],
                   links: FollowLinks, settings: Settings) -> TagPage:
    """A tag's page from its feeds' shown articles of the window, newest first."""
    shown = entries[:TAG_ENTRIES]
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry.feed_name] = counts.get(entry.feed_name, 0) + 1
    site_urls = {entry.feed_name: web_url(entry.site_url) for entry in entries}
    blogs = tuple(BlogLink(f.name, links.blogs[f.name], site_urls.get(f.name),
                           counts.get(f.name, 0))
                  for f in feeds if tag in f.tags)
    return TagPage(tag=tag, path=links.tags[tag], feed_path=links.tag_feeds[tag],
                   blogs=blogs, days=by_day(shown, settings), count=len(entries),
                   cut=len(entries) > len(shown))


def build_blog_page(feed: FeedConfig, state: FeedState | None,
                    entries: Sequence[StoredEntry], links: FollowLinks,
                    settings: Settings) -> BlogPage:
    """A blog's page from its shown articles of the window, newest first."""
    shown = entries[:BLOG_ENTRIES]
    tz = ZoneInfo(settings.timezone)
    return BlogPage(
        name=feed.name, title=(state.title if state else None) or feed.name,
        path=links.blogs[feed.name], feed_url=feed.url,
        site_url=web_url(state.site_url) if state else None, tags=feed.tags,
        health=blog_health(feed, state, tz, settings.language),
        days=by_day(shown, settings), count=len(shown))


def blog_health(feed: FeedConfig, state: FeedState | None, tz: ZoneInfo,
                language: str) -> BlogHealth:
    """A blog's health (publish/status.py's word) with what a reader needs to
    understand it; nothing that moves at each poll, so the page stays as it is."""
    word = feed_health(feed.enabled, state)
    if state is None or word not in ("failing", "retired", "moved"):
        return BlogHealth(word)
    since = state.gone_at if word == "retired" else state.failing_since or state.last_polled
    if word == "moved":
        since = state.moved_at
    return BlogHealth(word, since=_date_label(since, tz, language),
                      error=state.last_error if word != "moved" else None,
                      moved_to=state.moved_to)


def _date_label(moment: datetime | None, tz: ZoneInfo, language: str) -> str | None:
    if moment is None:
        return None
    return format_date(local_time(moment, tz), format="long", locale=babel_locale(language))


def by_day(entries: Sequence[StoredEntry], settings: Settings) -> tuple[DayOfArticles, ...]:
    """Articles (newest first) under their local day, each day linking to its page."""
    tz = ZoneInfo(settings.timezone)

    def day_of(entry: StoredEntry) -> date:
        return local_time(entry.dated, tz).date()

    return tuple(
        DayOfArticles(day_link(day, settings.language),
                      tuple(entry_view(e, tz, settings.language) for e in group))
        for day, group in groupby(entries, key=day_of))
