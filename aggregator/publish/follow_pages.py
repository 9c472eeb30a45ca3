"""Writing the tag and blog pages (publish/follow.py builds them): only those whose
stamp changed since the last render, each from a bounded read of its articles; the
folders of blogs gone from feeds.yaml removed (tags': output.remove_stale_tags)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment

from aggregator.config.load import FeedConfig, Settings
from aggregator.models import FeedState, StoredEntry
from aggregator.publish import follow
from aggregator.publish.filters import EntryFilter
from aggregator.publish.output import Writer, read_stamps, remove_stale_folders, write_stamps
from aggregator.store import Store

FOLLOW_STAMPS = ".follow-pages.json"  # the tag and blog pages' stamps; a dotfile, not served


def write_follow_pages(
    env: Environment, writer: Writer, store: Store, rules: EntryFilter, settings: Settings,
    feeds: Sequence[FeedConfig], states: Mapping[str, FeedState], common: dict[str, Any],
    site: str, now: datetime, *, every: bool = False,
) -> None:
    """The tag and blog pages whose stamp changed since the last render (publish/follow.py);
    all of them with `every` (a full render)."""
    links: follow.FollowLinks = common["follow"]
    start, end = follow.window(now, ZoneInfo(settings.timezone))
    plans = follow.plan_pages(store.entry_refs_between(start, end), feeds, states, links,
                              start, site, settings)
    last = {} if every else read_stamps(settings.output_dir / FOLLOW_STAMPS)
    for plan in plans:
        if last.get(plan.path) == plan.stamp and (settings.output_dir / plan.path).is_file():
            continue
        limit = follow.TAG_ENTRIES + 1 if plan.feed is None else follow.BLOG_ENTRIES
        entries = _first_shown(store, rules, plan.ids, limit)
        if plan.feed is None:
            page: object = follow.build_tag_page(plan.tag or "", feeds, entries, links, settings)
        else:
            page = follow.build_blog_page(plan.feed, states.get(plan.feed.name), entries,
                                          links, settings)
        template = "blog.html" if plan.feed else "tag.html"
        writer.put(plan.path, env.get_template(template).render(
            common, page=page, root="../../", month=None))
    blogs = [path.split("/")[1] for path in links.blogs.values()]
    remove_stale_folders(settings.output_dir / follow.BLOGS, blogs)
    write_stamps(settings.output_dir / FOLLOW_STAMPS, {p.path: p.stamp for p in plans})


def _first_shown(store: Store, rules: EntryFilter, ids: Sequence[int],
                 limit: int) -> list[StoredEntry]:
    """The first `limit` articles of `ids` the filters let through, read a page at a time."""
    shown: list[StoredEntry] = []
    for start in range(0, len(ids), limit):
        shown += rules.shown(list(store.entries_by_ids(ids[start:start + limit]).values()))
        if len(shown) >= limit:
            break
    return shown[:limit]
