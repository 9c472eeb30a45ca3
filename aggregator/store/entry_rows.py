"""The columns of an entry that pages, feeds and exports show, and their rows made
StoredEntry: one definition for the Store (reads.py, through the ORM) and the glance
(glance.py, without it)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aggregator.fulltext.shown import shows_page
from aggregator.models import Copy, Enclosure, StoredEntry

# The columns of an entry that pages, feeds and exports show, by their names in `entries`
# (schema.py's EntryRow). Its feed's come apart, once per feed (reads.py _blogs).
SHOWN_COLUMNS = ("id", "feed_id", "article_id", "identity", "title", "link", "author",
                 "published", "updated", "first_seen", "dated", "changed", "edited",
                 "content", "summary", "excerpt", "language", "enclosures", "thumbnail",
                 "categories", "page_status", "page_html", "page_excerpt")
# Those of them holding a UTC time, and JSON.
SHOWN_MOMENTS = ("published", "updated", "first_seen", "dated", "changed", "edited")
SHOWN_JSON = ("enclosures", "categories")
CHUNK = 500  # entries read per statement where a read is cut in parts
# The columns of `feeds` an entry shows.
BLOG_COLUMNS = ("name", "title", "url", "site_url", "tags")


@dataclass(frozen=True, slots=True)
class Blog:
    """What an entry shows of its feed."""

    name: str
    title: str
    url: str
    site_url: str | None
    tags: tuple[str, ...]


def blog_of(name: str, title: str | None, url: str, site_url: str | None,
            tags: Iterable[str] | None) -> Blog:
    """A feed as its entries show it (its row's BLOG_COLUMNS): untitled, by its name."""
    return Blog(name, title or name, url, site_url, tuple(tags or ()))


def plain_entries(rows: Sequence[Any], blogs: dict[int, Blog]) -> list[StoredEntry]:
    """Articles (rows of SHOWN) as StoredEntry without their copies, for judging them."""
    return [stored_entry(row, blogs[row.feed_id], (blogs[row.feed_id].name, row.identity), ())
            for row in rows]


def stored_entry(row: Any, blog: Blog, founder: tuple[str, str],
            copies: tuple[Copy, ...]) -> StoredEntry:
    # The article's page stands in for the feed's text where fulltext.shown says so; the
    # feed's excerpt is kept as its teaser (the output feeds' summary).
    page = shows_page(row.page_status, row.page_html)
    return StoredEntry(
        feed_name=blog.name, feed_title=blog.title, feed_url=blog.url,
        site_url=blog.site_url, tags=blog.tags, identity=row.identity,
        title=row.title, link=row.link, author=row.author,
        published=row.published, updated=row.updated, first_seen=row.first_seen,
        dated=row.dated, changed=row.changed, edited=row.edited,
        content=row.page_html if page else row.content,
        summary=row.summary, excerpt=(row.page_excerpt or row.excerpt) if page else row.excerpt,
        teaser=row.excerpt if page else "",
        article_feed=founder[0], article_identity=founder[1], copies=copies,
        language=row.language, enclosures=enclosures_of(row.enclosures),
        thumbnail=row.thumbnail, categories=tuple(row.categories or ()),
    )


def enclosures_of(items: Iterable[dict[str, object]] | None) -> tuple[Enclosure, ...]:
    found = []
    for item in items or ():
        url, kind, length = item.get("url"), item.get("type"), item.get("length")
        if isinstance(url, str) and url:
            found.append(Enclosure(url, kind if isinstance(kind, str) else None,
                                   length if isinstance(length, int) else None))
    return tuple(found)
