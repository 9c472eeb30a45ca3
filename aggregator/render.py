"""Jinja2 environment, digest pages and merged feeds, written atomically.

A render builds on the last one: a state file in the output folder says when it
ran and which days have pages, and only the pages of days whose entries changed
since (and of their neighbours) are rendered again. The digest feed's entries of
the other days are those the last render left in a dot folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from aggregator import PROJECT_URL, __version__
from aggregator import digest as digest_module
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
    DIGEST_CHARACTERS,
    DIGEST_DAYS,
    DigestDay,
    DigestEntry,
    FeedDocument,
    TagFeed,
    XmlFragment,
    build_feed,
    digest_day_id,
    render_digest_day,
    rfc822,
    rfc3339,
    tag_feeds,
    write_feeds,
)
from aggregator.filters import EntryFilter
from aggregator.i18n import catalog_path, load_translations
from aggregator.models import FeedState, StoredEntry
from aggregator.store import Store

log = logging.getLogger(__name__)

STYLESHEET = "style.css"
ARCHIVE_PAGE = "archive.html"
STATE_FILE = ".render-state.json"  # a dotfile: `serve` does not serve it
DIGEST_CACHE = ".digest-days"  # the digest feed's entries for the next render; not served
# Entries stamped up to this long before the last render may have been saved after
# it: another worker's poll committed late, clocks of two machines apart.
LATE_SAVES = timedelta(minutes=15)
# An output folder last rendered longer ago than this is rendered in full, not from
# the days entries left since (the store's entry_moves): those are forgotten after
# twice as long, so that another worker's folder rendered a little later still finds
# every one it needs.
MOVES_KEPT = timedelta(days=7)
# An incremental render keeps the entries of the days it looks at first, so each
# is read once; past this many days (a first poll of old archives) it reads them
# again rather than hold them all: memory stays that of one day at a time.
KEEP_DAYS = 31


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


@dataclass(frozen=True)
class RenderState:
    """What a render leaves in the output folder for the next one to build on."""

    stamp: str  # see site_stamp
    rendered_at: datetime
    days: tuple[date, ...]  # the days that have a page, newest first


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
    if isinstance(value, XmlFragment):  # its values came through here when it was rendered
        return value
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
    store: Store, settings: Settings, feeds: Sequence[FeedConfig], now: datetime, *,
    full: bool = False,
) -> RenderReport:
    """Write the day pages, the index, the archive, the merged, per-tag and digest feeds
    and the OPML list.

    Day pages are rendered again only where something changed since the last render
    of the output folder; every one of them is with `full`, on a first render, or
    when something every page shows changed (see site_stamp). Processes sharing
    the database (workers, a `render` beside the daemon) take turns.
    """
    with store.render_lock():
        try:
            return _render_site(store, settings, feeds, now, full)
        except _StaleState as stale:
            # A day of the last render lost all its entries unseen (pruned by another
            # process): the state cannot be trusted.
            log.warning("%s has no entries left; rendering every page", stale)
            return _render_site(store, settings, feeds, now, True)


class _StaleState(Exception):
    """The last render's state no longer matches the database."""


def _render_site(store: Store, settings: Settings, feeds: Sequence[FeedConfig],
                 now: datetime, full: bool) -> RenderReport:
    env = make_environment(language=settings.language)
    writer = _Writer(settings.output_dir)
    rules = EntryFilter(settings.filters, feeds)
    day_entries = _DayEntries(store, rules, ZoneInfo(settings.timezone))
    states = store.feed_states(count_entries=False)
    site = site_stamp(settings, feeds, states)
    last = None if full else previous_render(settings.output_dir, site)
    if last is not None and last.rendered_at < now - MOVES_KEPT:
        last = None
    if last is None:
        days = _all_days(store, day_entries)
        wanted = set(days)
        _remove_stale_days(settings.output_dir, days)
    else:
        days, wanted = _changed_days(store, day_entries, last, now)
        _remove_days(settings.output_dir, set(last.days) - set(days))
    tags = tag_feeds(feeds)
    common = _common_context(settings, tags)
    digested = {} if last is None else read_digest_cache(settings.output_dir, last)
    latest, digest = _render_days(env, writer, settings, day_entries, days, wanted, common,
                                  digested)
    _write_index(env, writer, settings, common, days, latest, now)
    if last is None or last.days != tuple(days):
        _write_archive(env, writer, settings, common, days)
    documents = _feed_documents(store, rules, settings, feeds, tags, now)
    write_feeds(env, writer.put, settings, feeds, states, documents, digest, now)
    _remove_stale_tags(settings.output_dir, tags)
    writer.put(STYLESHEET, (templates_dir() / "static" / STYLESHEET).read_text("utf-8"))
    state = RenderState(site, now, tuple(days))
    # The cache before the state: a render stopped between the two leaves an index
    # that does not match the state, and the next render ignores the cache. Stopped
    # before its index, it may have rewritten day files, but only with what those
    # days hold now.
    write_digest_cache(settings.output_dir, state, digest)
    write_state(settings.output_dir, state)
    store.forget_moves(now - 2 * MOVES_KEPT)
    return RenderReport(writer.written, writer.unchanged, len(days),
                        len(documents[0][1].items), rendered_days=len(wanted),
                        full=last is None)


class _DayEntries:
    """The entries each day shows, filters applied; the days an incremental render
    looks at first are kept, so each is read once."""

    def __init__(self, store: Store, rules: EntryFilter, tz: ZoneInfo) -> None:
        self.store, self.rules, self.tz = store, rules, tz
        self._kept: dict[date, list[StoredEntry]] = {}

    def get(self, day: date, *, keep: bool = False) -> list[StoredEntry]:
        found = self._kept.get(day)
        if found is None:
            found = self.rules.shown(self.store.entries_between(*day_bounds(day, self.tz)))
            if keep:
                self._kept[day] = found
        return found


def _all_days(store: Store, day_entries: _DayEntries) -> list[date]:
    """Every day that has a page, newest first: a full render reads every entry's date."""
    days = local_days(store.entry_dates(), day_entries.tz)
    if day_entries.rules:  # a day whose every entry is filtered out gets no page
        days = [d for d in days if day_entries.get(d)]
    return days


def _changed_days(store: Store, day_entries: _DayEntries, last: RenderState,
                  now: datetime) -> tuple[list[date], set[date]]:
    """The days that have a page now, and those whose page must be rendered again:
    the days entries changed on since the last render, and the days whose previous
    day, next day or month changed with them."""
    since = min(last.rendered_at, now) - LATE_SAVES
    touched = set(local_days(store.changed_dates(since), day_entries.tz))
    keep = len(touched) <= KEEP_DAYS
    shown = {day for day in touched if day_entries.get(day, keep=keep)}
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


def _render_days(
    env: Environment, writer: _Writer, settings: Settings, day_entries: _DayEntries,
    days: Sequence[date], wanted: set[date], common: dict[str, Any],
    digested: Mapping[date, DigestEntry],
) -> tuple[DayPage | None, list[DigestEntry]]:
    """Write the pages of the `wanted` days; return the latest day's page, for the
    index, and the digest feed's newest days (DIGEST_DAYS, DIGEST_CHARACTERS).

    A day not wanted has not changed since the last render: its digest entry is
    taken from `digested` (that render's) when there, not built again.
    """
    months = _MonthLinks(days, settings.language)
    latest: DayPage | None = None
    digest: list[DigestEntry] = []
    for index, day in enumerate(days):
        in_digest = (index < DIGEST_DAYS
                     and sum(len(entry.xml) for entry in digest) < DIGEST_CHARACTERS)
        kept = None if day in wanted or not in_digest else digested.get(day)
        if kept is not None:
            digest.append(kept)
        if index and day not in wanted and (kept is not None or not in_digest):
            continue  # nothing to build; the latest day's page always is, for the index
        entries = day_entries.get(day)
        if not entries:
            raise _StaleState(day)
        page = build_day_page(
            day, entries, settings,
            previous=days[index + 1] if index + 1 < len(days) else None,
            following=days[index - 1] if index > 0 else None,
        )
        if day in wanted:
            writer.put(page.link.path, render_day_page(env, page, common, months.get(day)))
        if not index:
            latest = page
        if in_digest and kept is None:
            changed = max(max(e.dated, e.changed) for e in entries)
            digest.append(_digest_day(env, page, changed, settings, common))
    return latest, digest


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
    days: Sequence[date], latest: DayPage | None, now: datetime,
) -> None:
    """The latest day, links to the days before it, and when the site was generated."""
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
                common: dict[str, Any]) -> DigestEntry:
    """One entry of the digest feed: the day's digest, its links absolute."""
    content = env.get_template("digest_entry.html").render(
        common, page=page, root=settings.base_url)
    return render_digest_day(env, DigestDay(
        day=page.link.day, id=digest_day_id(settings, page.link.day),
        heading=page.link.heading, count=page.count,
        link=settings.base_url + page.link.path, updated=changed, content_html=content))


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


def _remove_days(root: Path, days: Iterable[date]) -> None:
    """Delete the pages of days that no longer have entries to show."""
    for day in days:
        (root / "digest" / f"{day.isoformat()}.html").unlink(missing_ok=True)


def site_stamp(settings: Settings, feeds: Sequence[FeedConfig],
               states: Mapping[str, FeedState]) -> str:
    """A hash of what every page shows or is built by: the code and templates, the
    settings pages use, the feeds with their tags and filters, each blog's home page.

    When it changes, every day page is rendered again.
    """
    parts = {
        "version": __version__,
        "code": [_file_digest(Path(__file__)), _file_digest(Path(digest_module.__file__))],
        "templates": _folder_digest(templates_dir()),
        "catalog": _file_digest(catalog_path(settings.language)),
        "settings": [settings.database, settings.title, settings.base_url,
                     settings.language, settings.timezone, repr(settings.filters)],
        "feeds": [[f.name, list(f.tags), repr(f.filters)] for f in feeds],
        "blogs": sorted([s.name, s.site_url or ""] for s in states.values()),
    }
    text = json.dumps(parts, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return ""


def _folder_digest(folder: Path) -> list[tuple[str, str]]:
    return [(str(path.relative_to(folder)), _file_digest(path))
            for path in sorted(folder.rglob("*")) if path.is_file()]


def previous_render(root: Path, site: str) -> RenderState | None:
    """The last render's state, if the next render can build on it: the same stamp,
    and its pages still there (someone may have emptied the folder)."""
    last = read_state(root)
    if last is None or last.stamp != site or not (root / "index.html").is_file():
        return None
    pages = {page.name for page in (root / "digest").glob("????-??-??.html")}
    if not {f"{day.isoformat()}.html" for day in last.days} <= pages:
        return None
    return last


def read_state(root: Path) -> RenderState | None:
    """The state the last render left in `root`, if any can be read."""
    try:
        data = json.loads((root / STATE_FILE).read_text("utf-8"))
        rendered_at = datetime.fromisoformat(data["rendered_at"])
        days = tuple(date.fromisoformat(day) for day in data["days"])
        state = RenderState(str(data["stamp"]), rendered_at, days)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return state if rendered_at.tzinfo is not None else None


def write_state(root: Path, state: RenderState) -> None:
    """Leave the render's state for the next one (not counted as a page written)."""
    data = {"stamp": state.stamp, "rendered_at": state.rendered_at.isoformat(),
            "days": [day.isoformat() for day in state.days]}
    write_file(root / STATE_FILE, (json.dumps(data, indent=0) + "\n").encode("utf-8"))


def write_digest_cache(root: Path, state: RenderState, digest: Sequence[DigestEntry]) -> None:
    """Leave the digest feed's entries for the next render: one file a day, and an index
    that ties them to this render's state."""
    folder = root / DIGEST_CACHE
    for entry in digest:
        write_file(folder / f"{entry.day.isoformat()}.xml", entry.xml.encode("utf-8"))
    kept = {f"{entry.day.isoformat()}.xml" for entry in digest}
    for stale in folder.glob("*.xml"):
        if stale.name not in kept:
            stale.unlink()
    index = {"stamp": state.stamp, "rendered_at": state.rendered_at.isoformat(),
             "updated": {e.day.isoformat(): e.updated.isoformat() for e in digest}}
    write_file(folder / "index.json", (json.dumps(index, indent=0) + "\n").encode("utf-8"))


def read_digest_cache(root: Path, last: RenderState) -> dict[date, DigestEntry]:
    """The digest feed's entries the render described by `last` left, by day; none when
    they are missing or unreadable, or another render left them."""
    folder = root / DIGEST_CACHE
    try:
        index = json.loads((folder / "index.json").read_text("utf-8"))
        if (index["stamp"], index["rendered_at"]) != (last.stamp, last.rendered_at.isoformat()):
            return {}
        entries = {}
        for day, updated in index["updated"].items():
            when = date.fromisoformat(day)
            xml = XmlFragment((folder / f"{when.isoformat()}.xml").read_text("utf-8"))
            entries[when] = DigestEntry(when, datetime.fromisoformat(updated), xml)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    return entries
