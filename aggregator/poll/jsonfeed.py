"""JSON Feed 1.0 and 1.1 documents into the same ParsedFeed as RSS and Atom.

feedparser 6 reads no JSON; https://www.jsonfeed.org/version/1.1/ is short
enough to map by hand.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape
from typing import Any

from aggregator.models import Enclosure, ParsedEntry, ParsedFeed
from aggregator.poll.values import byte_length

VERSIONS = {
    "https://jsonfeed.org/version/1": "json10",
    "https://jsonfeed.org/version/1.1": "json11",
}


class NotJsonFeed(ValueError):
    """The body is not a JSON Feed (not JSON, or JSON of another kind)."""


def looks_like_json(content: bytes, content_type: str) -> bool:
    """Whether a body should be read as JSON: by its type, or by its first character."""
    if "json" in content_type.lower():
        return True
    return content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def parse_json_feed(content: bytes) -> ParsedFeed:
    """Parse a JSON Feed; raise NotJsonFeed with the reason when it is not one."""
    try:
        document = json.loads(content.decode("utf-8-sig"))
    except (ValueError, RecursionError) as exc:
        # ValueError: bad UTF-8, bad JSON, or a number of more digits than Python
        # converts; RecursionError: arrays nested thousands deep.
        raise NotJsonFeed(f"invalid JSON: {str(exc).splitlines()[0]}") from None
    if not isinstance(document, dict):
        raise NotJsonFeed("JSON, but not a JSON Feed (no top-level object)")
    # Some publishers wrote the version URL with http://; it names the same version.
    declared = str(document.get("version", "")).rstrip("/").replace("http://", "https://", 1)
    version = VERSIONS.get(declared)
    if version is None:
        raise NotJsonFeed("JSON, but not a JSON Feed (no jsonfeed.org version)")
    items = document.get("items")
    if not isinstance(items, list):
        raise NotJsonFeed("JSON Feed without an items list")
    feed_authors = _authors(document)
    language = _text(document.get("language"))
    return ParsedFeed(
        version=version,
        title=_text(document.get("title")),
        site_url=_text(document.get("home_page_url")),
        language=language,
        entries=tuple(_entry(item, feed_authors, language)
                      for item in items if isinstance(item, dict)),
        hub=_hub(document.get("hubs")),
        self_url=_text(document.get("feed_url")),
    )


def _hub(hubs: object) -> str | None:
    """The first WebSub hub of JSON Feed's `hubs` list."""
    for hub in hubs if isinstance(hubs, list) else []:
        if isinstance(hub, dict) and str(hub.get("type", "")).lower() == "websub":
            return _text(hub.get("url"))
    return None


def _entry(item: dict[str, Any], feed_authors: str | None,
           language: str | None) -> ParsedEntry:
    html = _text(item.get("content_html"))
    text = _text(item.get("content_text"))
    content = html or (_paragraphs(text) if text else None)
    return ParsedEntry(
        guid=_text(item.get("id")) or (str(item["id"]) if isinstance(item.get("id"), int)
                                       else None),
        link=_text(item.get("url")) or _text(item.get("external_url")),
        title=_text(item.get("title")) or "",
        title_is_html=False,
        author=_authors(item) or feed_authors,
        published=_date(item.get("date_published")),
        updated=_date(item.get("date_modified")),
        content=content,
        summary=_text(item.get("summary")),
        language=_text(item.get("language")) or language,
        enclosures=_attachments(item),
        categories=tuple(t.strip() for t in _list(item.get("tags"))
                         if isinstance(t, str) and t.strip()),
        thumbnail=_text(item.get("image")) or _text(item.get("banner_image")),
    )


def _attachments(item: dict[str, Any]) -> tuple[Enclosure, ...]:
    return tuple(
        Enclosure(url=url, type=_text(a.get("mime_type")),
                  length=byte_length(a.get("size_in_bytes")))
        for a in _list(item.get("attachments"))
        if isinstance(a, dict) and (url := _text(a.get("url")))
    )


def _list(value: object) -> list[Any]:
    """A field the spec makes an array, as a list: anything else is no item at all."""
    return value if isinstance(value, list) else []


def _authors(holder: dict[str, Any]) -> str | None:
    """1.1's `authors` list, else 1.0's `author` object, as "A, B"."""
    authors = holder.get("authors")
    if not isinstance(authors, list):
        authors = [holder.get("author")]
    names = [_text(a.get("name")) for a in authors if isinstance(a, dict)]
    return ", ".join(n for n in names if n) or None


def _date(value: object) -> datetime | None:
    """An RFC 3339 date; a date without an offset is taken as UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 moved to UTC
        return None


def _paragraphs(text: str) -> str:
    """Plain text as HTML paragraphs."""
    return "".join(f"<p>{escape(p.strip())}</p>" for p in text.split("\n\n") if p.strip())


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
