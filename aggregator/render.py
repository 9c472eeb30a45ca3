"""Jinja2 environment, digest pages and merged feeds, written atomically."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from aggregator import PROJECT_URL, USER_AGENT, __version__
from aggregator.config import FeedConfig, Settings
from aggregator.digest import (
    RECENT_DAYS,
    DayPage,
    MergedFeed,
    build_archive,
    build_day_page,
    build_merged_feed,
    day_bounds,
    day_link,
    local_days,
    stamp,
)
from aggregator.i18n import load_translations
from aggregator.models import FeedState
from aggregator.store import Store

STYLESHEET = "style.css"


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
    )
    # newstyle: `_("… %(name)s", name=x)` escapes `x` and fails on a missing variable.
    # The i18n extension adds this method at run time, hence the cast for mypy.
    cast(Any, env).install_gettext_translations(load_translations(language), newstyle=True)
    env.filters["rfc3339"] = rfc3339
    env.filters["rfc822"] = lambda d: format_datetime(d.astimezone(UTC), usegmt=True)
    return env


def rfc3339(moment: datetime) -> str:
    """An RFC 3339 UTC timestamp, as Atom wants it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    """Write every day page, the index, the merged feeds and the OPML list."""
    env = make_environment(language=settings.language)
    writer = _Writer(settings.output_dir)
    tz = ZoneInfo(settings.timezone)
    days = local_days(store.entry_dates(), tz)
    common = _common_context(settings, days, now)
    latest: DayPage | None = None
    for index, day in enumerate(days):
        page = build_day_page(
            day, store.entries_between(*day_bounds(day, tz)), settings,
            previous=days[index + 1] if index + 1 < len(days) else None,
            following=days[index - 1] if index > 0 else None,
        )
        latest = latest or page
        writer.put(page.link.path, render_day_page(env, page, common))
    _remove_stale_days(settings.output_dir, days)
    # Only the index says when it was generated, so unchanged day pages keep
    # their bytes (and their ETags for readers and caches).
    writer.put("index.html", env.get_template("index.html").render(
        common, page=latest, root="", generated=stamp(now, settings)))
    merged = build_merged_feed(store.latest_entries(settings.feed_entries), settings, now)
    _write_feeds(env, writer, merged, settings, feeds, store.feed_states(), now)
    writer.put(STYLESHEET, (templates_dir() / "static" / STYLESHEET).read_text("utf-8"))
    return RenderReport(writer.written, writer.unchanged, len(days), len(merged.items))


def render_day_page(env: Environment, page: DayPage, common: dict[str, Any]) -> str:
    """The HTML of one day's page (`common`: the context every page shares)."""
    return env.get_template("day.html").render(common, page=page, root="../")


def _common_context(settings: Settings, days: Sequence[date], now: datetime) -> dict[str, Any]:
    return {
        "site": settings,
        "archive": build_archive(days, settings.language),
        "recent": [day_link(d, settings.language) for d in days[:RECENT_DAYS]],
        "version": __version__,
        "project_url": PROJECT_URL,
    }


def _write_feeds(
    env: Environment, writer: _Writer, merged: MergedFeed, settings: Settings,
    feeds: Sequence[FeedConfig], states: dict[str, FeedState], now: datetime,
) -> None:
    context = {"feed": merged, "generator": USER_AGENT, "version": __version__,
               "project_url": PROJECT_URL}
    writer.put("atom.xml", env.get_template("atom.xml").render(context))
    writer.put("rss.xml", env.get_template("rss.xml").render(context))
    writer.put("feed.json", json_feed(merged))
    writer.put("feeds.opml", env.get_template("feeds.opml").render(
        title=settings.title, feeds=feeds, states=states, created=merged.updated))


def json_feed(feed: MergedFeed) -> str:
    """The merged feed as JSON Feed 1.1, the blog credited in a `_source` extension."""
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": feed.title,
        "home_page_url": feed.home_url,
        "feed_url": feed.json_url,
        "language": feed.language,
        "items": [
            {
                "id": item.id,
                **({"url": item.link} if item.link else {}),
                "title": item.title,
                "content_html": item.content_html or item.summary,
                "summary": item.summary,
                "date_published": rfc3339(item.published),
                "date_modified": rfc3339(item.updated),
                **({"authors": [{"name": item.author}]} if item.author else {}),
                **({"tags": list(item.tags)} if item.tags else {}),
                "_source": {
                    "about": "https://jsonfeed.org/version/1.1#extensions",
                    "title": item.source_title,
                    "home_page_url": item.source_url,
                    "feed_url": item.source_feed,
                },
                **({"_also_published_on": {
                    "about": "https://jsonfeed.org/version/1.1#extensions",
                    "copies": [
                        {"title": copy.feed_title, "url": copy.link,
                         "date_published": rfc3339(copy.dated)}
                        for copy in item.copies
                    ],
                }} if item.copies else {}),
            }
            for item in feed.items
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _remove_stale_days(root: Path, days: Sequence[date]) -> None:
    """Delete day pages whose day no longer has entries (their dates moved)."""
    keep = {f"{d.isoformat()}.html" for d in days}
    folder = root / "digest"
    if folder.is_dir():
        for page in folder.glob("????-??-??.html"):
            if page.name not in keep:
                page.unlink()
