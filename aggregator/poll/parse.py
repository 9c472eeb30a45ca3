"""Bytes and headers to a ParsedFeed via feedparser."""

from __future__ import annotations

import calendar
import copy
import functools
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.sax import expatreader

import feedparser
import feedparser.api
import feedparser.html
import feedparser.mixin
import feedparser.urls
from feedparser.util import FeedParserDict

from aggregator.config.discover import find_feed_links
from aggregator.models import Enclosure, ParsedEntry, ParsedFeed
from aggregator.poll.clean import keeps_link
from aggregator.poll.dates import feedparser_handler
from aggregator.poll.jsonfeed import NotJsonFeed, looks_like_json, parse_json_feed
from aggregator.poll.layout import has_relative_links
from aggregator.poll.values import Repairs, bounded_count, byte_length, repair_entry, repair_feed

# feedparser flags these as "bozo" too, but the document itself is well-formed.
_NOT_A_MARKUP_PROBLEM = (feedparser.NonXMLContentType, feedparser.CharacterEncodingOverride)


class ParseError(Exception):
    """The document is not a feed we can read."""


# French-written dates (see dates.py), tried before feedparser's own formats.
feedparser.registerDateHandler(feedparser_handler)


class _BufferedExpatParser(expatreader.ExpatParser):
    """The standard library's SAX reader, with expat joining runs of text into one call.

    Unbuffered, expat reports the text of escaped HTML (`&lt;p&gt;…`) in a piece per
    entity, and feedparser handles each piece in Python: a hundred calls per entry.
    """

    _parser: Any  # the pyexpat parser, which ExpatParser.reset creates

    def reset(self) -> None:
        super().reset()
        self._parser.buffer_text = True
        self._parser.buffer_size = 1 << 16


def create_parser() -> expatreader.ExpatParser:
    """The SAX driver entry point: feedparser asks xml.sax.make_parser for a module that
    has one, and this one comes first in its list (see below)."""
    return _BufferedExpatParser()


feedparser.api.PREFERRED_XML_PARSERS[:0] = [__name__]

# feedparser maps the windows-1252 extensions (U+0080 to U+009F) of every text with
# str.translate and this dict. Any character the table lacks costs translate a caught
# KeyError: mapping the alphabets and punctuation of French text to themselves saves
# a tenth of the parse time and translates nothing differently.
feedparser.mixin._cp1252 = {**{code: code for code in range(0x2100)},
                            **feedparser.mixin._cp1252}


class _Text(str):
    """An element's text as feedparser's strict parser hands it on (decode_entities,
    below), until its last step: the mapping of the windows-1252 extensions.

    That step is str.translate with a dict, a dict lookup per character on text that
    is not ASCII: 7% of the parse time of French posts, which nearly never hold a
    character of U+0080 to U+009F. Looking for one first costs a seventh of that.
    """

    __slots__ = ()

    def translate(self, table: Any, /) -> str:
        if table is feedparser.mixin._cp1252 and not _WINDOWS_1252_EXTENSIONS.search(self):
            return str(self)  # a plain str again: nothing else sees a _Text
        return str.translate(self, table)


_WINDOWS_1252_EXTENSIONS = re.compile("[\x80-\x9f]")


def _hand_on_text(_element: str, data: Any) -> Any:
    return _Text(data) if type(data) is str else data


# The strict parser's decode_entities (the mixin's) gives the text back as it is; it
# runs on every element's text, just before the mapping.
feedparser.mixin._FeedParserMixin.decode_entities = staticmethod(_hand_on_text)

# feedparser joins the base URI of every element with its xml:base (most often the same
# base again): a pure function of the two, and a sixth of the parse time uncached.
feedparser.mixin.make_safe_absolute_uri = functools.lru_cache(maxsize=1024)(
    feedparser.urls.make_safe_absolute_uri)


class _ContentParamsCopier:
    """The `copy` feedparser.mixin sees. It only deep-copies an element's content
    parameters (type, language, base: strings, or None) for each title, summary and
    content: a dict copy gives the same, at a tenth of deepcopy's cost."""

    @staticmethod
    def deepcopy(value: Any) -> Any:
        if type(value) is FeedParserDict and all(type(v) in _IMMUTABLE for v in value.values()):
            return FeedParserDict(value)
        return copy.deepcopy(value)


_IMMUTABLE = frozenset({str, int, bool, type(None)})  # deepcopy gives them back as they are


feedparser.mixin.copy = _ContentParamsCopier


# FeedParserDict.__getitem__ maps a few keys to others (keymap: "channel", "items",
# "date"...) or computes them ("category", "enclosures", "license", "updated",
# "updated_parsed"); for any other key it, `get`, `in` and setting do what dict's
# methods do, after half a dozen comparisons. feedparser uses its dicts a thousand
# times an entry (each element reads its content parameters a dozen times): those
# other keys go to dict's own methods.
_COMPUTED_KEYS = frozenset({"category", "enclosures", "license", "updated", "updated_parsed",
                            *FeedParserDict.keymap})
FEEDPARSER_DICT_METHODS = {name: getattr(FeedParserDict, name)
                           for name in ("__getitem__", "get", "__contains__", "__setitem__")}
_feedparser = FEEDPARSER_DICT_METHODS


def _getitem(self: FeedParserDict, key: Any) -> Any:
    if key in _COMPUTED_KEYS:
        return _feedparser["__getitem__"](self, key)
    return dict.__getitem__(self, key)


def _get(self: FeedParserDict, key: Any, default: Any = None) -> Any:
    if key in _COMPUTED_KEYS:
        return _feedparser["get"](self, key, default)
    return dict.get(self, key, default)


def _contains(self: FeedParserDict, key: Any) -> bool:
    if key in _COMPUTED_KEYS:
        return bool(_feedparser["__contains__"](self, key))
    return dict.__contains__(self, key)


def _setitem(self: FeedParserDict, key: Any, value: Any) -> None:
    if key in _COMPUTED_KEYS:
        _feedparser["__setitem__"](self, key, value)
    else:
        dict.__setitem__(self, key, value)


FeedParserDict.__getitem__ = _getitem
FeedParserDict.get = _get
FeedParserDict.__contains__ = _contains
FeedParserDict.__setitem__ = _setitem

# feedparser joins every <link> and <guid> with the element's base; nearly all are
# absolute addresses that urljoin gives back as they are (clean.keeps_link), and so
# does feedparser's _urljoin (no ValueError to catch, no "/" to strip after "://").
_feedparser_urljoin = feedparser.urls._urljoin


def _urljoin(base: str, uri: str) -> str:
    return uri if keeps_link(base, uri) else _feedparser_urljoin(base, uri)


feedparser.mixin._urljoin = _urljoin

# A character reference to a code point that is no character (&#xD800;, a lone
# surrogate; &#x110000;; thousands of digits) fails feedparser's chr() or int() with
# an exception that ends the whole document's parse: such a reference is dropped.
_CHARACTER_REFERENCE = re.compile("x[0-9a-f]{1,6}|[0-9]{1,7}", re.IGNORECASE)


def _is_character(ref: str) -> bool:
    if not _CHARACTER_REFERENCE.fullmatch(ref):
        return False
    code = int(ref[1:], 16) if ref[0] in "xX" else int(ref)
    return code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF


def _characters_only(handle: Callable[[Any, str], None]) -> Callable[[Any, str], None]:
    def handle_charref(self: Any, ref: str) -> None:
        if _is_character(ref):
            handle(self, ref)
    return handle_charref


feedparser.mixin._FeedParserMixin.handle_charref = _characters_only(
    feedparser.mixin._FeedParserMixin.handle_charref)
feedparser.html._BaseHTMLProcessor.handle_charref = _characters_only(
    feedparser.html._BaseHTMLProcessor.handle_charref)


def parse_feed(content: bytes, headers: Mapping[str, str], url: str,
               relative_links: bool | None = None) -> ParsedFeed:
    """Parse a feed body; charsets come from `headers`, relative links resolve against `url`.

    RSS 0.9x to 2.0 and Atom go through feedparser; JSON Feed through jsonfeed.py.
    `relative_links` is has_relative_links of the whole document, for a reduced one:
    feedparser's pass that resolves them also rewrites the HTML it finds none in.
    """
    response_headers = {k.lower(): v for k, v in headers.items()}
    if looks_like_json(content, response_headers.get("content-type", "")):
        try:
            return _repaired(parse_json_feed(content))
        except NotJsonFeed as exc:
            raise ParseError(f"not a feed: {exc}") from None
    # feedparser resolves relative links against Content-Location; without it a
    # parsed byte string has no base at all, so give it the address we fetched.
    response_headers.setdefault("content-location", url)
    # Sanitizing is nh3's job (clean.py): feedparser's own pass would strip the
    # data-src and srcset of lazy-loaded images before we can make them real.
    result = feedparser.parse(content, response_headers=response_headers, sanitize_html=False,
                              resolve_relative_uris=has_relative_links(content)
                              if relative_links is None else relative_links)
    feed_language = _text(result.feed.get("language"))
    atom = str(result.get("version", "")).startswith("atom")
    entries = tuple(_entry(e, feed_language, atom) for e in result.entries)
    problem = result.get("bozo_exception") if result.get("bozo") else None
    if isinstance(problem, _NOT_A_MARKUP_PROBLEM):
        problem = None
    if not result.get("version") and not entries:
        raise ParseError(_not_a_feed(content, url, problem))
    feed = result.feed
    return _repaired(ParsedFeed(
        version=result.get("version") or "unknown",
        title=_text(feed.get("title")), site_url=feed.get("link") or None,
        language=feed.get("language") or None,
        entries=entries,
        warning=f"feed is not well-formed, read what could be: {problem}" if problem else None,
        ttl=_ttl(feed.get("ttl")),
        hub=_feed_link(feed, "hub"), self_url=_feed_link(feed, "self"),
    ))


def _feed_link(feed: Any, rel: str) -> str | None:
    """The first http(s) address of the feed's links with `rel` (Atom <link>, or
    <atom:link> in RSS, which feedparser lists alike): WebSub's hub and self."""
    for link in feed.get("links") or []:
        href = _text(link.get("href"))
        if link.get("rel") == rel and href and href.startswith(("http://", "https://")):
            return href
    return None


def _repaired(feed: ParsedFeed) -> ParsedFeed:
    """`feed` with every value valid and within its cap (values.py); the repairs are
    added to its warning, which the run logs under the feed's name."""
    repairs = Repairs()
    entries = tuple(repair_entry(entry, repairs) for entry in feed.entries)
    fixed = repair_feed(replace(feed, entries=entries), repairs)
    said = "; ".join(filter(None, (feed.warning, repairs.describe())))
    return replace(fixed, warning=said or None)


def _not_a_feed(content: bytes, url: str, problem: object) -> str:
    """Why a document is not a feed, pointing at the feed an HTML page advertises."""
    advertised = find_feed_links(content[:512 * 1024], url)
    if advertised:
        return (f"not a feed: {url} is a web page; it advertises the feed "
                f"{advertised[0]} (use that address in feeds.yaml)")
    looks_html = b"<html" in content[:4096].lower() or b"<!doctype html" in content[:4096].lower()
    if looks_html:
        return f"not a feed: {url} is a web page that advertises no feed"
    reason = f" ({problem})" if problem else ""
    return f"not a feed: no RSS or Atom content found{reason}"


def _enclosures(entry: Any) -> tuple[Enclosure, ...]:
    """RSS <enclosure>, Atom rel="enclosure" links and Media RSS <media:content>."""
    found: dict[str, Enclosure] = {}
    candidates = [*(entry.get("enclosures") or []), *(entry.get("media_content") or [])]
    for item in candidates:
        url = _text(item.get("href") or item.get("url"))
        if url and url not in found:
            found[url] = Enclosure(url=url, type=_text(item.get("type")),
                                   length=byte_length(item.get("length") or item.get("filesize")))
    return tuple(found.values())


def _thumbnail(entry: Any) -> str | None:
    """The picture a feed gives to illustrate an entry (Media RSS thumbnail)."""
    for item in entry.get("media_thumbnail") or []:
        url = _text(item.get("url"))
        if url:
            return url
    return None


def _entry_language(entry: Any, feed_language: str | None, atom: bool) -> str | None:
    """xml:lang of the content or title, else dc:language, else the channel's language."""
    details = [d for d in [*(entry.get("content") or []), entry.get("summary_detail"),
                           entry.get("title_detail")] if d]
    for detail in details:
        if detail.get("language"):
            return str(detail["language"])
    if atom and feed_language and details:
        # In Atom the feed's xml:lang reaches every element unless one says
        # xml:lang="": then the language is unknown, not the feed's.
        return None
    return _text(entry.get("language")) or feed_language


def _entry(entry: Any, feed_language: str | None = None, atom: bool = False) -> ParsedEntry:
    title_detail = entry.get("title_detail") or {}
    return ParsedEntry(
        guid=_text(entry.get("id")),
        link=_text(entry.get("link")),
        title=entry.get("title") or "",
        title_is_html="html" in (title_detail.get("type") or ""),
        author=_text(entry.get("author")),
        published=_datetime(entry.get("published_parsed")),
        # Only a real <updated>: feedparser otherwise falls back to the published date.
        updated=_datetime(dict.get(entry, "updated_parsed")),
        content=_best_content(entry.get("content") or []),
        summary=entry.get("summary") or None,
        language=_entry_language(entry, feed_language, atom),
        enclosures=_enclosures(entry),
        thumbnail=_thumbnail(entry),
        categories=tuple(dict.fromkeys(
            term for tag in entry.get("tags") or [] if (term := _text(tag.get("term"))))),
    )


def _best_content(contents: list[Any]) -> str | None:
    """The richest of an entry's content elements: HTML first, then the longest."""
    if not contents:
        return None
    ranked = sorted(
        contents,
        key=lambda c: ("html" in (c.get("type") or ""), len(c.get("value") or "")),
        reverse=True,
    )
    return ranked[0].get("value") or None


def _datetime(value: time.struct_time | None) -> datetime | None:
    """feedparser's UTC struct_time to an aware datetime."""
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _ttl(value: object) -> timedelta | None:
    """RSS <ttl>: minutes the feed may be cached; ignored unless a sane whole number."""
    week = 7 * 24 * 60
    minutes = bounded_count(value.strip(), week + 1) if isinstance(value, str) else None
    return timedelta(minutes=minutes) if minutes and minutes <= week else None


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip() or None
