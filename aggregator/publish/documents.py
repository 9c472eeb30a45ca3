"""The merged feed and the tag feeds, read from the store: their documents, and the tags
whose feed has entries (the only ones the pages advertise)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from aggregator.config.load import FeedConfig, Settings
from aggregator.models import StoredEntry
from aggregator.publish.feeds import FeedDocument, TagFeed, build_feed
from aggregator.publish.filters import EntryFilter
from aggregator.store import Store


def feed_documents(
    store: Store, rules: EntryFilter, settings: Settings, feeds: Sequence[FeedConfig],
    tags: Sequence[TagFeed], now: datetime,
) -> list[tuple[str, FeedDocument]]:
    """The merged feed, then one feed per tag, each with its folder."""
    documents = [("", build_feed(latest_articles(store, rules, settings.feed_entries),
                                 settings, now))]
    for tag in tags:
        names = [f.name for f in feeds if tag.tag in f.tags]
        entries = latest_articles(store, rules, settings.feed_entries, names)
        documents.append((tag.path, build_feed(entries, settings, now, path=tag.path,
                                               title=f"{settings.title} — {tag.tag}")))
    return documents


def advertised_tags(tags: Sequence[TagFeed],
                    documents: Sequence[tuple[str, FeedDocument]]) -> list[TagFeed]:
    """The tags whose feed has an entry: an empty feed (its blogs' articles all shown
    from other blogs, or filtered out) is still written, but no page points readers to it."""
    filled = {path for path, document in documents if document.items}
    return [tag for tag in tags if tag.path in filled]


def latest_articles(store: Store, rules: EntryFilter, limit: int,
                    feeds: Sequence[str] | None = None) -> list[StoredEntry]:
    """The `limit` newest articles the filters let through."""
    wanted = limit
    while True:
        entries = store.latest_entries(wanted, feeds)
        shown = rules.shown(entries)
        if len(shown) >= limit or len(entries) < wanted:
            return shown[:limit]
        wanted *= 2
