"""Jinja2 environment, digest pages and merged feeds, written atomically."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from aggregator import PROJECT_URL, __version__
from aggregator.clean import strip_forbidden_chars
from aggregator.config import FeedConfig, Settings
from aggregator.digest import (
    RECENT_DAYS,
    ArchiveMonth,
    DayPage,
    build_archive,
    build_day_page,
    build_month,
    day_bounds,
    day_link,
    local_days,
    month_of,
    stamp,
)
from aggregator.feeds import (
    DIGEST_DAYS,
    DigestDay,
    FeedDocument,
    TagFeed,
    build_feed,
    digest_day_id,
    rfc822,
    rfc3339,
    tag_feeds,
    write_feeds,
)
from aggregator.filters import EntryFilter
from aggregator.i18n import load_translations
from aggregator.models import StoredEntry
from aggregator.store import Store

STYLESHEET = "style.css"
ARCHIVE_PAGE = "archive.html"


@dataclass(frozen=True)
class RenderReport:
    """What a render wrote: files changed, files left as they were, day pages in all."""

    written: int
    unchanged: int
    days: int
    entries_in_feed: int


def templates_dir() -> Path:
    """The templates shipped in the wheel, else the repository's top-level folder."""
    packaged = Path(__file__).parent / "templates"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "templates"


def make_environment(directory: Path | None = None, language: str = "fr") -> Environment:
    """A Jinja2 environment that escapes everything, fails on undefined names and
    translates the interface into `language` (gettext, `_` and `ngettext`)."""
    env = Environment(
        loader=FileSystemLoader(directory or templates_dir()),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
        # Entry text is cleaned when stored; feed titles, names and settings are not,
        # and one control character would make atom.xml unreadable.
        finalize=_xml_safe,
    )
    # newstyle: `_("… %(name)s", name=x)` escapes `x` and fails on a missing variable.
    # The i18n extension adds this method at run time, hence the cast for mypy.
    cast(Any, env).install_gettext_translations(load_translations(language), newstyle=True)
    env.filters["rfc3339"] = rfc3339
    env.filters["rfc822"] = rfc822
    return env


def _xml_safe(value: Any) -> Any:
    """Every value a template writes, without the characters XML forbids."""
    if isinstance(value, Markup):
        return Markup(strip_forbidden_chars(value))
    if isinstance(value, str):
        return strip_forbidden_chars(value)
    return value


def write_file(path: Path, data: bytes) -> bool:
    """Write atomically (temp file and rename); leave an identical file untouched."""
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return True


class _Writer:
    """Counts what a render wrote and what it found already up to date."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.written = 0
        self.unchanged = 0

    def put(self, relative: str, text: str) -> None:
        if write_file(self.root / relative, text.encode("utf-8")):
            self.written += 1
        else:
            self.unchanged += 1


def render_site(
    store: Store, settings: Settings, feeds: Sequence[FeedConfig], now: datetime
) -> RenderReport:
    """Write every day page, the index, the archive, the merged, per-tag and digest feeds
    and the OPML list."""
    env = make_environment(language=settings.language)
    writer = _Writer(settings.output_dir)
    tz = ZoneInfo(settings.timezone)
    rules = EntryFilter(settings.filters, feeds)
    days = local_days(store.entry_dates(), tz)
    if rules:  # a day whose every entry is filtered out gets no page
        days = [d for d in days if rules.shown(store.entries_between(*day_bounds(d, tz)))]
    tags = tag_feeds(feeds)
    common = _common_context(settings, tags)
    months = _MonthLinks(days, settings.language)
    recent_pages: list[tuple[DayPage, datetime]] = []  # with when each last changed
    for index, day in enumerate(days):
        entries = rules.shown(store.entries_between(*day_bounds(day, tz)))
        page = build_day_page(
            day, entries, settings,
            previous=days[index + 1] if index + 1 < len(days) else None,
            following=days[index - 1] if index > 0 else None,
        )
        if index < DIGEST_DAYS:
            recent_pages.append((page, max(max(e.dated, e.changed) for e in entries)))
        writer.put(page.link.path, render_day_page(env, page, common, months.get(day)))
    _remove_stale_days(settings.output_dir, days)
    _write_index(env, writer, settings, common, days, recent_pages, now)
    _write_archive(env, writer, settings, common, days)
    documents = _feed_documents(store, rules, settings, feeds, tags, now)
    digest = [_digest_day(env, page, changed, settings, common)
              for page, changed in recent_pages]
    write_feeds(env, writer.put, settings, feeds, store.feed_states(), documents, digest, now)
    _remove_stale_tags(settings.output_dir, tags)
    writer.put(STYLESHEET, (templates_dir() / "static" / STYLESHEET).read_text("utf-8"))
    return RenderReport(writer.written, writer.unchanged, len(days), len(documents[0][1].items))


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
    env: Environment, writer: _Writer, settings: Settings, common: dict[str, Any],
    days: Sequence[date], recent: Sequence[tuple[DayPage, datetime]], now: datetime,
) -> None:
    """The latest day, links to the days before it, and when the site was generated."""
    latest = recent[0][0] if recent else None
    # A month has at most 31 days: the latest month's are among the first 31.
    month = _MonthLinks(days[:31], settings.language).get(days[0]) if days else None
    # Only the index says when it was generated, so unchanged day pages keep
    # their bytes (and their ETags for readers and caches).
    writer.put("index.html", env.get_template("index.html").render(
        common, page=latest, root="", month=month, generated=stamp(now, settings),
        recent=[day_link(d, settings.language) for d in days[:RECENT_DAYS]]))


def _write_archive(env: Environment, writer: _Writer, settings: Settings,
                   common: dict[str, Any], days: Sequence[date]) -> None:
    """Every month and its days, on one page."""
    writer.put(ARCHIVE_PAGE, env.get_template(ARCHIVE_PAGE).render(
        common, page=None, root="", month=None, day_count=len(days),
        archive=build_archive(days, settings.language)))


def _feed_documents(
    store: Store, rules: EntryFilter, settings: Settings, feeds: Sequence[FeedConfig],
    tags: Sequence[TagFeed], now: datetime,
) -> list[tuple[str, FeedDocument]]:
    """The merged feed, then one feed per tag, each with its folder."""
    documents = [("", build_feed(_latest(store, rules, settings.feed_entries), settings, now))]
    for tag in tags:
        names = [f.name for f in feeds if tag.tag in f.tags]
        entries = _latest(store, rules, settings.feed_entries, names)
        documents.append((tag.path, build_feed(entries, settings, now, path=tag.path,
                                               title=f"{settings.title} — {tag.tag}")))
    return documents


def _latest(store: Store, rules: EntryFilter, limit: int,
            feeds: Sequence[str] | None = None) -> list[StoredEntry]:
    """The `limit` newest articles the filters let through."""
    wanted = limit
    while True:
        entries = store.latest_entries(wanted, feeds)
        shown = rules.shown(entries)
        if len(shown) >= limit or len(entries) < wanted:
            return shown[:limit]
        wanted *= 2


def _digest_day(env: Environment, page: DayPage, changed: datetime, settings: Settings,
                common: dict[str, Any]) -> DigestDay:
    """One entry of the digest feed: the day's digest, its links absolute."""
    content = env.get_template("digest_entry.html").render(
        common, page=page, root=settings.base_url)
    return DigestDay(id=digest_day_id(settings, page.link.day), heading=page.link.heading,
                     count=page.count, link=settings.base_url + page.link.path,
                     updated=changed, content_html=content)


def render_day_page(env: Environment, page: DayPage, common: dict[str, Any],
                    month: ArchiveMonth | None = None) -> str:
    """The HTML of one day's page (`common`: the context every page shares; `month`:
    the days of its month, listed beside it)."""
    return env.get_template("day.html").render(common, page=page, root="../", month=month)


def _common_context(settings: Settings, tags: Sequence[TagFeed] = ()) -> dict[str, Any]:
    # Nothing here may depend on other days: every page would change with them.
    return {
        "site": settings,
        "tag_feeds": tags,
        "version": __version__,
        "project_url": PROJECT_URL,
    }


def _remove_stale_tags(root: Path, tags: Sequence[TagFeed]) -> None:
    """Delete the feeds of tags no feed carries any more."""
    folder = root / "tags"
    keep = {tag.path.split("/")[1] for tag in tags}
    if folder.is_dir():
        for stale in folder.iterdir():
            if stale.is_dir() and stale.name not in keep:
                shutil.rmtree(stale)


def _remove_stale_days(root: Path, days: Sequence[date]) -> None:
    """Delete day pages whose day no longer has entries (their dates moved)."""
    keep = {f"{d.isoformat()}.html" for d in days}
    folder = root / "digest"
    if folder.is_dir():
        for page in folder.glob("????-??-??.html"):
            if page.name not in keep:
                page.unlink()
