"""Select and group entries into view models for a day page or a merged feed."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby
from operator import attrgetter
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

from aggregator.config.load import Settings
from aggregator.models import Enclosure, StoredEntry
from aggregator.poll.clean import html_to_text
from aggregator.publish.images import LeadImage, lead_image
from aggregator.publish.safe import language_tag

log = logging.getLogger(__name__)

RECENT_DAYS = 14
# The articles a day page shows at most: a day with more is cut in pages of this many
# (see docs/scaling.md), each one read, built and written on its own.
PAGE_SIZE = 100
# The days whose bounds exist in every time zone: an offset from UTC is under a day,
# so they start and end within the years datetime holds (1 to 9999). An entry filed
# at the very edges of the calendar (a feed's "0001-01-01") shows on no day page.
FIRST_DAY, LAST_DAY = date(1, 1, 2), date(9999, 12, 30)
WORDS_PER_MINUTE = 230  # an adult's silent reading speed, for the reading-time estimate


@dataclass(frozen=True)
class CopyView:
    """Another place an article was published, as a digest page links it."""

    blog: str
    link: str | None
    date_label: str


@dataclass(frozen=True)
class EntryView:
    """One entry as a digest page shows it."""

    title: str
    link: str | None
    blog: str
    blog_url: str | None
    author: str | None
    time_label: str
    iso_time: str
    excerpt: str
    tags: tuple[str, ...]
    reading_minutes: int = 1
    also: tuple[CopyView, ...] = ()
    lang: str | None = None  # the entry's language when it is not the page's (BCP 47)
    media: tuple[Enclosure, ...] = ()  # audio and video get a player; files a link
    categories: tuple[str, ...] = ()  # the article's own, those not among its blog's tags
    image: LeadImage | None = None


@dataclass(frozen=True)
class BlogGroup:
    """The entries of one blog on one day."""

    name: str
    url: str | None
    entries: tuple[EntryView, ...]


@dataclass(frozen=True)
class TagGroup:
    """The blogs of one tag on one day; `tag` is None for the blogs without tags."""

    tag: str | None
    blogs: tuple[BlogGroup, ...]
    count: int


@dataclass(frozen=True)
class DayLink:
    """A day that has entries, as a link target (`path` is relative to the output root).

    `label` is the full local date ("jeudi 12 décembre 2013"), `heading` the same
    starting with a capital, `short` the day within its month ("jeudi 12").
    """

    day: date
    label: str
    heading: str
    short: str
    path: str


@dataclass(frozen=True)
class Stamp:
    """A moment as a page shows it: its local date and time labels."""

    date_label: str
    time_label: str


@dataclass(frozen=True)
class ArchiveMonth:
    """The days of one month that have entries, newest first; `anchor` is "2013-12".

    `articles` (the archive page's) is None beside a day page: that page would change
    with every article of its month's other days.
    """

    label: str
    days: tuple[DayLink, ...]
    anchor: str
    articles: int | None = None


@dataclass(frozen=True)
class PageLink:
    """One of a day's pages, as a link target (`path` is relative to the output root)."""

    number: int
    path: str


@dataclass(frozen=True)
class Pager:
    """Where one page of a day stands among the day's pages.

    `links` are the first and last pages and those around this one; None stands
    for the pages left out between them. `first` and `last` count the day's
    articles this page shows, from 1.
    """

    number: int
    count: int
    first: int
    last: int
    previous: PageLink | None
    next: PageLink | None
    links: tuple[PageLink | None, ...]


@dataclass(frozen=True)
class DayTotals:
    """What a page of a day shows of the whole day: its articles and blogs, and the
    page's number among its pages."""

    count: int
    blogs: int
    number: int = 1
    pages: int = 1


@dataclass(frozen=True)
class DayPage:
    """Everything a day's digest page shows (one page of it when the day has several:
    `count` and `blog_count` are the whole day's)."""

    link: DayLink
    groups: tuple[TagGroup, ...]
    count: int
    blog_count: int
    previous: DayLink | None
    next: DayLink | None
    pager: Pager | None = None  # None: the day fits on one page

    @property
    def path(self) -> str:
        """Where this page is written, relative to the output root."""
        return page_path(self.link.day, self.pager.number if self.pager else 1)


def babel_locale(language: str) -> str:
    """The Babel locale for `settings.language`."""
    return {"fr": "fr_FR", "en": "en_US"}.get(language, language)


def local_time(moment: datetime, tz: ZoneInfo) -> datetime:
    """`moment` in `tz`; in UTC at the calendar's edges, where `tz` would overflow it."""
    try:
        return moment.astimezone(tz)
    except OverflowError:
        return moment


def local_day(moment: datetime, tz: ZoneInfo) -> date | None:
    """The local day of `moment` in `tz`; None at the calendar's edges (see FIRST_DAY)."""
    day = local_time(moment, tz).date()
    return day if FIRST_DAY <= day <= LAST_DAY else None


def local_days(dates: Iterable[datetime], tz: ZoneInfo) -> list[date]:
    """The distinct local days of `dates` in the time zone `tz`, newest first; those at
    the edges of the calendar are left out, with a warning."""
    days, left_out = set(), 0
    for moment in dates:
        day = local_day(moment, tz)
        if day is None:
            left_out += 1
        else:
            days.add(day)
    if left_out:
        log.warning("%d entries are filed at the edge of the calendar (year 1 or 9999, a "
                    "wrong date in their feed): no day page shows them", left_out)
    return sorted(days, reverse=True)


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants where local day `day` starts and the next one starts."""
    start = datetime.combine(day, time(), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def page_path(day: date, number: int) -> str:
    """Where page `number` of `day` is written: the first at the day's own address."""
    suffix = f"-{number}" if number > 1 else ""
    return f"digest/{day.isoformat()}{suffix}.html"


def page_count(entries: int) -> int:
    """How many pages a day of `entries` articles takes (PAGE_SIZE a page)."""
    return max(1, -(-entries // PAGE_SIZE))


def build_pager(day: date, totals: DayTotals) -> Pager | None:
    """Links from one of a day's pages to the others; None for a day on one page."""
    if totals.pages == 1:
        return None
    number, count = totals.number, totals.pages
    near = {1, count} | set(range(max(1, number - 2), min(count, number + 2) + 1))
    # A gap of one page shows that page: "…" would take as much room.
    shown = sorted(near | {page + 1 for page in near if page + 2 in near})
    links: list[PageLink | None] = []
    for index, page in enumerate(shown):
        if index and page - shown[index - 1] > 1:
            links.append(None)
        links.append(PageLink(page, page_path(day, page)))
    first = (number - 1) * PAGE_SIZE + 1
    return Pager(
        number=number, count=count, first=first,
        last=min(totals.count, number * PAGE_SIZE),
        previous=PageLink(number - 1, page_path(day, number - 1)) if number > 1 else None,
        next=PageLink(number + 1, page_path(day, number + 1)) if number < count else None,
        links=tuple(links),
    )


def upper_first(text: str) -> str:
    """`text` with its first letter capitalized and the rest untouched."""
    return text[:1].upper() + text[1:]


def day_link(day: date, language: str) -> DayLink:
    """A link to a day page, labelled the local way ("jeudi 12 décembre 2013")."""
    locale = babel_locale(language)
    label = format_date(day, format="full", locale=locale)
    return DayLink(day=day, label=label, heading=upper_first(label),
                   short=format_date(day, format="EEEE d", locale=locale),
                   path=page_path(day, 1))


def stamp(moment: datetime, settings: Settings) -> Stamp:
    """`moment` in the configured time zone, labelled the local way."""
    local = moment.astimezone(ZoneInfo(settings.timezone))
    locale = babel_locale(settings.language)
    return Stamp(date_label=format_date(local, format="full", locale=locale),
                 time_label=format_time(local, format="short", locale=locale))


def build_archive(days: Sequence[date], articles: Sequence[int],
                  language: str) -> tuple[ArchiveMonth, ...]:
    """Group days (newest first) by month for the archive list, with the articles of
    each month; `articles` are those of each of `days`."""
    months = []
    for month, group in groupby(zip(days, articles, strict=True),
                                key=lambda pair: month_of(pair[0])):
        in_month = list(group)
        months.append(build_month(month, [day for day, _ in in_month], language,
                                  articles=sum(count for _, count in in_month)))
    return tuple(months)


def build_month(month: date, days: Sequence[date], language: str,
                articles: int | None = None) -> ArchiveMonth:
    """The archive entry of one month (its first day) and its days, newest first."""
    locale = babel_locale(language)
    return ArchiveMonth(
        label=upper_first(format_date(month, format="LLLL yyyy", locale=locale)),
        days=tuple(day_link(d, language) for d in days),
        anchor=f"{month:%Y-%m}",
        articles=articles,
    )


def month_of(day: date) -> date:
    """The first day of `day`'s month, which stands for the month."""
    return day.replace(day=1)


def build_day_page(
    day: date, entries: Sequence[StoredEntry], settings: Settings,
    previous: date | None, following: date | None, totals: DayTotals | None = None,
) -> DayPage:
    """A day's entries grouped by their blog's first tag, then by blog, then by time.

    With `totals`, `entries` are one page of a day whose pages the totals count.
    """
    tz = ZoneInfo(settings.timezone)
    ordered = sorted(entries, key=lambda e: (blog_order(e.tags, e.feed_name), e.dated))
    views = [entry_view(e, tz, settings.language) for e in ordered]
    totals = totals or DayTotals(len(views), len({v.blog for v in views}))
    return DayPage(
        link=day_link(day, settings.language), groups=group_by_tag(views),
        count=totals.count, blog_count=totals.blogs,
        previous=day_link(previous, settings.language) if previous else None,
        next=day_link(following, settings.language) if following else None,
        pager=build_pager(day, totals))


def blog_order(tags: Sequence[str], blog: str) -> tuple[bool, str, str, str, str]:
    """Where a blog's entries go on a day page: under its first tag (so none shows
    twice), tags in alphabetical order, untagged last; then by blog name."""
    tag = tags[0] if tags else ""
    return (not tag, _sort_key(tag), tag, _sort_key(blog), blog)


def group_by_tag(views: Iterable[EntryView],
                 tags_of: Callable[[EntryView], Sequence[str]] = attrgetter("tags"),
                 ) -> tuple[TagGroup, ...]:
    """Entries in blog_order (see build_day_page) under their blog's first tag (of the
    tags `tags_of` gives: a newsletter puts its chosen tags first)."""
    groups = []
    for tag, in_tag in groupby(views, key=lambda view: next(iter(tags_of(view)), None)):
        blogs = tuple(group_by_blog(in_tag))
        groups.append(TagGroup(tag, blogs, sum(len(b.entries) for b in blogs)))
    return tuple(groups)


def group_by_blog(views: Iterable[EntryView]) -> Iterator[BlogGroup]:
    """Consecutive entries of the same blog as one group each."""
    for name, group in groupby(views, key=lambda v: v.blog):
        entries = tuple(group)
        yield BlogGroup(name=name, url=entries[0].blog_url, entries=entries)


def reading_minutes(entry: StoredEntry) -> int:
    """Minutes to read the entry's full text at WORDS_PER_MINUTE, at least one."""
    words = len(html_to_text(entry.content or entry.summary).split())
    return max(1, (words + WORDS_PER_MINUTE // 2) // WORDS_PER_MINUTE)


def foreign_language(tag: str | None, page_language: str) -> str | None:
    """`tag` when it names another language than the page's, so screen readers switch voice."""
    tag = language_tag(tag)
    if tag is None:
        return None
    return None if tag.split("-")[0].lower() == page_language else tag


def own_categories(entry: StoredEntry) -> tuple[str, ...]:
    """The article's own categories, less those its blog's tags already say."""
    tags = {_sort_key(tag) for tag in entry.tags}
    return tuple(c for c in entry.categories if _sort_key(c) not in tags)


def _sort_key(text: str) -> str:
    # "Écrire" sorts with the E's, as a reader expects, not after "Z".
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def entry_view(entry: StoredEntry, tz: ZoneInfo, language: str) -> EntryView:
    """An article as a page shows it, its times in `tz`, its labels in `language`."""
    local = local_time(entry.dated, tz)
    return EntryView(
        title=entry.title,
        link=entry.link,
        blog=entry.feed_name,
        blog_url=entry.site_url,
        author=entry.author,
        time_label=format_time(local, format="short", locale=babel_locale(language)),
        iso_time=local.isoformat(),
        excerpt=entry.excerpt,
        tags=entry.tags,
        categories=own_categories(entry),
        reading_minutes=reading_minutes(entry),
        lang=foreign_language(entry.language, language),
        media=entry.enclosures,
        image=lead_image(entry.thumbnail, entry.enclosures, entry.content or entry.summary),
        also=tuple(
            CopyView(copy.feed_name, copy.link,
                     format_date(local_time(copy.dated, tz), format="medium",
                                 locale=babel_locale(language)))
            for copy in entry.copies
        ),
    )
