"""Feed bytes to ParsedFeed: every fixture against expected.json, dates, charsets, bases."""

from __future__ import annotations

import copy
import json
import re
import xml.sax
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.expatreader import ExpatParser

import feedparser
import feedparser.api
import feedparser.mixin
import feedparser.urls
import pytest
from feedparser.util import FeedParserDict

from aggregator.models import CleanEntry, ParsedFeed
from aggregator.poll import parse
from aggregator.poll.clean import clean_entry, html_to_text
from aggregator.poll.fetch import fetch_feed, make_session
from aggregator.poll.layout import find_layout, has_relative_links, reduce_document
from aggregator.poll.parse import (
    ParseError,
    _BufferedExpatParser,
    parse_feed,
)
from tests.conftest import CONTENT_TYPES, DATA

EXPECTED: dict[str, dict[str, Any]] = json.loads((DATA / "expected.json").read_text("utf-8"))
FEED_FILES = sorted(name for name, e in EXPECTED.items() if e["format"])


def parse_file(name: str, url: str | None = None) -> ParsedFeed:
    path = DATA / name
    headers = {"Content-Type": CONTENT_TYPES[path.suffix]}
    return parse_feed(path.read_bytes(), headers, url or f"http://127.0.0.1:8000/{name}")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- the oracle: expected.json --------------------------------------------------------


def test_every_fixture_is_covered() -> None:
    assert len(FEED_FILES) == 8
    assert "not-a-feed.html" in EXPECTED


@pytest.mark.parametrize("name", FEED_FILES)
def test_version_matches_expected(name: str) -> None:
    assert parse_file(name).version == EXPECTED[name]["format"]


@pytest.mark.parametrize("name", FEED_FILES)
def test_entry_count_matches_expected(name: str) -> None:
    assert len(parse_file(name).entries) == EXPECTED[name]["entries"]


@pytest.mark.parametrize("name", FEED_FILES)
def test_titles_match_expected_in_document_order(name: str) -> None:
    assert [e.title for e in parse_file(name).entries] == EXPECTED[name]["titles"]


@pytest.mark.parametrize("name", FEED_FILES)
def test_warning_only_for_bozo_feeds(name: str) -> None:
    warning = parse_file(name).warning
    assert (warning is not None) == EXPECTED[name]["bozo"]


def test_html_page_is_not_a_feed() -> None:
    with pytest.raises(ParseError, match=r"^not a feed"):
        parse_file("not-a-feed.html")


def test_empty_body_is_not_a_feed() -> None:
    with pytest.raises(ParseError, match=r"^not a feed"):
        parse_feed(b"", {"Content-Type": "application/rss+xml"}, "http://127.0.0.1:8000/x")


# --- feed-level fields ----------------------------------------------------------------


def test_rss_feed_fields() -> None:
    feed = parse_file("blog-metier.rss")
    assert feed.title == "Mon métier, c’est le web"
    assert feed.site_url == "https://mon-metier-web.example/"
    assert feed.language == "fr-FR"


def test_rss_entry_fields() -> None:
    entry = parse_file("blog-metier.rss").entries[0]
    assert entry.guid == "https://mon-metier-web.example/?p=242"
    assert entry.link == (
        "https://mon-metier-web.example/2013/01/aux-personnes-qui-ne-comprennent-pas-mon-metier/"
    )
    assert entry.author == "Laure"
    assert entry.title_is_html is False
    assert entry.content is not None and entry.content.startswith("<")
    assert entry.summary is not None


def test_rss091_entries_have_no_guid_and_no_date() -> None:
    entries = parse_file("rss091.xml").entries
    assert [e.guid for e in entries] == [None, None]
    assert [e.published for e in entries] == [None, None]
    assert entries[0].link == (
        "https://mon-metier-web.example/2012/04/je-suis-community-manager-et-toi/"
    )


# --- dates: aware UTC -----------------------------------------------------------------


def test_rss_pubdate_becomes_aware_utc() -> None:
    entry = parse_file("blog-metier.rss").entries[0]  # Tue, 22 Jan 2013 21:14:00 +0100
    assert entry.published == utc(2013, 1, 22, 20, 14)
    assert entry.published is not None and entry.published.tzinfo is UTC


def test_summer_time_offset_is_applied() -> None:
    entry = parse_file("blog-metier.rss").entries[1]  # Tue, 09 Oct 2012 08:45:00 +0200
    assert entry.published == utc(2012, 10, 9, 6, 45)


def test_atom_published_and_updated_are_utc() -> None:
    entry = parse_file("vis-ma-vie.atom").entries[0]
    assert entry.published == utc(2013, 12, 12, 20, 47)
    assert entry.updated == utc(2013, 12, 12, 21, 5, 13)


def test_rss_entry_without_updated_has_none() -> None:
    entry = parse_file("blog-metier.rss").entries[0]
    assert entry.updated is None


def test_rdf_dc_date_is_read() -> None:
    entries = parse_file("rss10.rdf").entries
    dated = [e.published or e.updated for e in entries]
    assert dated == [utc(2013, 12, 12, 20, 47), utc(2012, 7, 13, 8, 24)]


@pytest.mark.parametrize("name", FEED_FILES)
def test_all_dates_are_aware_utc(name: str) -> None:
    for entry in parse_file(name).entries:
        for value in (entry.published, entry.updated):
            assert value is None or value.utcoffset() is not None
            assert value is None or value.utcoffset().total_seconds() == 0


# --- charsets -------------------------------------------------------------------------


def test_windows_1252_feed_decodes() -> None:
    feed = parse_file("metier-cp1252.rss")
    (entry,) = feed.entries
    assert feed.title == "Isabelle, le numérique à cœur"
    assert entry.title == "«\u00a0Le métier qui n’existe pas\u00a0»"
    text = (entry.content or "") + (entry.summary or "")
    for char in ("’", "é", "œ", "–", "…", "\u00a0"):
        assert char in text


def test_character_reference_outside_windows_1252_comes_out() -> None:
    entry = parse_file("metier-cp1252.rss").entries[0]
    assert "\U0001f642" in (entry.content or "") + (entry.summary or "")


def test_windows_1252_feed_fetched_over_http(feed_server: Any) -> None:
    url = feed_server.serve_file("metier-cp1252.rss")
    with make_session() as session:
        fetched = fetch_feed(session, url)
    assert fetched.content is not None
    feed = parse_feed(fetched.content, fetched.headers, fetched.final_url)
    assert feed.title == "Isabelle, le numérique à cœur"
    assert feed.entries[0].title == EXPECTED["metier-cp1252.rss"]["titles"][0]
    assert feed.warning is None


# --- relative links -------------------------------------------------------------------


def test_atom_relative_link_resolves_against_xml_base() -> None:
    entries = parse_file("vis-ma-vie.atom").entries
    assert entries[0].link == "https://vismavie.example/2013/12/vis-ma-vie-de-cm-2.html"
    assert entries[1].link == "https://vismavie.example/2012/07/vis-ma-vie-de-cm.html"


def test_atom_relative_image_resolves_against_xml_base() -> None:
    content = parse_file("vis-ma-vie.atom").entries[0].content or ""
    assert 'src="https://vismavie.example/images/photo.jpg"' in content
    assert 'src="/images/' not in content


def test_xml_base_wins_over_the_fetched_url() -> None:
    feed = parse_file("vis-ma-vie.atom", url="http://127.0.0.1:9999/mirror/feed.atom")
    assert feed.entries[0].link == "https://vismavie.example/2013/12/vis-ma-vie-de-cm-2.html"


def test_relative_link_without_base_resolves_against_the_url() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>a</title><link>/posts/a.html</link></item></channel></rss>"
    )
    feed = parse_feed(body, {"Content-Type": "application/rss+xml"},
                      "http://127.0.0.1:8000/blog/feed.xml")
    assert feed.entries[0].link == "http://127.0.0.1:8000/posts/a.html"


# --- malformed input ------------------------------------------------------------------


def test_malformed_feed_yields_its_entries_with_a_warning() -> None:
    feed = parse_file("malformed.rss")
    assert len(feed.entries) == 3
    assert feed.warning is not None
    assert feed.warning.startswith("feed is not well-formed, read what could be: ")
    assert "undefined entity" in feed.warning


def test_malformed_feed_entities_are_decoded() -> None:
    feed = parse_file("malformed.rss")
    assert feed.title == "Le métier qui n’existe pas"
    assert feed.entries[1].summary == "Bon ben finalement je n’ai pas de regret."


def test_html_title_is_flagged() -> None:
    entry = parse_file("hostile.rss").entries[0]
    assert entry.title_is_html is True


def test_well_formed_feed_without_content_type_has_no_warning() -> None:
    body = (DATA / "blog-metier.rss").read_bytes()
    assert parse_feed(body, {}, "http://127.0.0.1:8000/feed").warning is None


@pytest.mark.parametrize(("markup", "relative"), [
    (b'<a href="https://blog.example/x">', False),
    (b"&lt;img src=&quot;https://blog.example/a.png&quot;&gt;", False),
    (b'<a href="mailto:moi@blog.example">', False),
    (b'<a href="/billet">', True),
    (b"&lt;a href=&quot;billet.html&quot;&gt;", True),
    (b"<img src=photo.png>", True),
    (b'<a href="#haut">', True),
    (b'<entry xml:base="https://blog.example/"><a href="https://a.example/">', True),
    ('<a href="/x">'.encode("utf-16"), True),
])
def test_relative_links_are_spotted(markup: bytes, relative: bool) -> None:
    assert has_relative_links(markup) is relative


def _links_and_text(entry: CleanEntry) -> tuple[object, ...]:
    html = entry.content + entry.summary
    return (entry.title, entry.link, sorted(re.findall(r'(?:href|src)="([^"]*)"', html)),
            " ".join(html_to_text(html).split()))


def test_skipping_link_resolution_changes_nothing_when_no_link_is_relative(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """On every well-formed corpus document the check lets skip it, the cleaned entries
    have the same links and text as with feedparser's pass (which also re-serializes
    the HTML through sgmllib: attribute order, `<br></br>`, nh3 serializes it again)."""
    compared = 0
    headers = {"content-type": "application/xml"}
    for path in sorted((DATA / "corpus").rglob("*")):
        if path.suffix not in (".xml", ".rss", ".atom", ".rdf") or not path.is_file():
            continue
        content = path.read_bytes()
        if has_relative_links(content) or feedparser.parse(content).get("bozo"):
            continue
        try:
            kept = parse_feed(content, headers, "http://127.0.0.1/feed.xml")
        except ParseError:  # not a feed: nothing to resolve either way
            continue
        with monkeypatch.context() as patch:
            patch.setattr("aggregator.poll.parse.has_relative_links", lambda _content: True)
            resolved = parse_feed(content, headers, "http://127.0.0.1/feed.xml")
        base = "http://127.0.0.1/"
        assert [_links_and_text(clean_entry(e, base)) for e in kept.entries] == \
            [_links_and_text(clean_entry(e, base)) for e in resolved.entries], path
        compared += 1
    assert compared > 500


# --- what parse.py changes in feedparser's set-up ------------------------------------------


def _corpus_documents() -> list[Path]:
    return [path for path in sorted((DATA / "corpus").rglob("*"))
            if path.is_file() and path.suffix in (".xml", ".rss", ".atom", ".rdf", ".gz")]


def _parse_or_error(content: bytes) -> object:
    try:
        return parse_feed(content, {"content-type": "application/xml"},
                          "http://127.0.0.1/feed.xml")
    except ParseError as exc:
        return str(exc)


def test_feedparser_set_up_parses_like_feedparser_alone(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every corpus document, well-formed or not, parses the same with feedparser's
    own SAX reader, windows-1252 table and mapping, base and link joining, deepcopy and
    dict reads as with ours."""
    assert isinstance(xml.sax.make_parser(feedparser.api.PREFERRED_XML_PARSERS),
                      _BufferedExpatParser)
    documents = _corpus_documents()
    ours = [_parse_or_error(path.read_bytes()) for path in documents]
    stock_table = {code: char for code, char in feedparser.mixin._cp1252.items()
                   if 0x80 <= code <= 0x9f}
    assert len(stock_table) == 32  # feedparser maps all of U+0080 to U+009F
    monkeypatch.setattr(feedparser.api, "PREFERRED_XML_PARSERS", ["drv_libxml2"])
    monkeypatch.setattr(feedparser.mixin, "_cp1252", stock_table)
    monkeypatch.setattr(feedparser.mixin, "make_safe_absolute_uri",
                        feedparser.urls.make_safe_absolute_uri)
    monkeypatch.setattr(feedparser.mixin, "copy", copy)
    monkeypatch.setattr(feedparser.mixin._FeedParserMixin, "decode_entities",
                        staticmethod(lambda _element, data: data))
    for name, method in parse.FEEDPARSER_DICT_METHODS.items():
        monkeypatch.setattr(FeedParserDict, name, method)
    monkeypatch.setattr(feedparser.mixin, "_urljoin", feedparser.urls._urljoin)
    assert type(xml.sax.make_parser(feedparser.api.PREFERRED_XML_PARSERS)) is ExpatParser
    differ = [path for path, mine in zip(documents, ours, strict=True)
              if _parse_or_error(path.read_bytes()) != mine]
    assert len(documents) > 1000
    assert differ == []


def test_windows_1252_code_points_still_become_their_characters() -> None:
    """A feed declared Latin-1 but written in windows-1252: 0x92 is an apostrophe."""
    body = ("<?xml version='1.0' encoding='iso-8859-1'?><rss version='2.0'><channel>"
            "<title>T</title><item><title>L\x92été coûte 5 \x80 &#8594; \x93ok\x94</title>"
            "</item></channel></rss>").encode("latin-1")
    entry = parse_feed(body, {}, "http://127.0.0.1/feed.xml").entries[0]
    assert entry.title == "L’été coûte 5 € → “ok”"


def test_parsed_texts_are_plain_strings() -> None:
    """feedparser hands each element's text on as parse._Text until it maps the
    windows-1252 extensions; what comes out of it is str again."""
    feed = parse_file("blog-metier.rss")
    texts = [value for entry in feed.entries for value in (
        entry.title, entry.content, entry.summary, entry.link, entry.guid, entry.author,
        *entry.categories) if value is not None]
    assert len(texts) > 20
    assert {type(text) for text in [*texts, feed.title]} == {str}


# --- entries left out of a parse: find_layout and reduce_document ---------------------


@pytest.mark.parametrize(("name", "entry", "dates"), [
    ("blog-metier.rss", b"item", []),
    ("vis-ma-vie.atom", b"entry", [b"<updated>"]),
])
def test_layout_finds_every_entry_and_the_feed_dates(name: str, entry: bytes,
                                                     dates: list[bytes]) -> None:
    content = (DATA / name).read_bytes()
    layout = find_layout(content)
    assert layout is not None
    assert len(layout.entries) == len(parse_file(name).entries)
    for start, end in layout.entries:
        assert content[start:end].startswith(b"<" + entry)
        assert content[start:end].endswith(b"</" + entry + b">")
    assert [content[start:end].split(b">")[0] + b">" for start, end in layout.feed_dates] == dates
    # Everything but the entries and the dates stays around them.
    assert b"".join(layout.outside_entries(content)).count(b"<" + entry) == 0


@pytest.mark.parametrize("body", [
    (DATA / "rss10.rdf").read_bytes(),  # items beside the channel, ids in rdf:about
    (DATA / "malformed.rss").read_bytes(),
    b'{"version": "https://jsonfeed.org/version/1.1", "items": []}',
    b'<!DOCTYPE rss [<!ENTITY cm "community">]><rss version="2.0"><channel>'
    b"<item><title>&cm;</title></item></channel></rss>",
    b'<rss version="2.0"><channel><item/><item><title>a</title></item></channel></rss>',
    b"<?xml version='1.0' encoding='bogus'?><rss version='2.0'><channel/></rss>",
    "<rss version='2.0'><channel><item><title>é</title></item></channel></rss>".encode(
        "utf-16"),
])
def test_no_layout_for_what_only_a_full_parse_reads(body: bytes) -> None:
    assert find_layout(body) is None


def test_a_reduced_document_parses_its_entries_as_the_whole_one_does() -> None:
    """Every corpus document with a layout, every other entry left out: the entries kept
    and the feed's own fields come out exactly as from the whole document."""
    compared = 0
    for path in _corpus_documents():
        content = path.read_bytes()
        layout = find_layout(content)
        whole = _parse_or_error(content)
        if layout is None or not isinstance(whole, ParsedFeed):
            continue
        if len(layout.entries) != len(whole.entries):  # feedparser found more elsewhere
            continue
        left_out = range(1, len(layout.entries), 2)
        reduced = parse_feed(reduce_document(content, layout, left_out),
                             {"content-type": "application/xml"}, "http://127.0.0.1/feed.xml",
                             relative_links=has_relative_links(content))
        assert reduced == replace(whole, entries=whole.entries[::2]), path
        compared += 1
    assert compared > 900


def _rss_item(link: str, title: str = "Un lien") -> str:
    return f"<item><title>{title}</title><link>{link}</link><description>x</description></item>"


@pytest.mark.parametrize("reference", ["&#xD800;", "&#55296;", "&#xDFFF;", "&#x110000;",
                                       "&#99999999;", "&#" + "9" * 5000 + ";"])
def test_a_reference_to_no_character_costs_only_itself(reference: str) -> None:
    # Issue 20: it ended feedparser's parse of the whole document (UnicodeEncodeError,
    # ValueError); the item's link loses the reference, and the feed keeps its items.
    body = ("<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>"
            + _rss_item(f"https://blog.example/a{reference}b")
            + _rss_item("https://blog.example/c", f"Titre{reference}")
            + "</channel></rss>").encode()
    feed = parse_feed(body, {"content-type": "application/rss+xml"}, "https://blog.example/")
    assert [(e.link, e.title) for e in feed.entries] == [
        ("https://blog.example/ab", "Un lien"), ("https://blog.example/c", "Titre")]


def test_valid_character_references_still_come_out() -> None:
    body = ("<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>"
            + _rss_item("https://blog.example/", "&#xE9;t&#233; &#x1F642; &#xD800;")
            + "</channel></rss>").encode()  # the bad one makes feedparser's loose parser run
    [entry] = parse_feed(body, {}, "https://blog.example/").entries
    assert entry.title == "été 🙂"


def test_json_feed_values_are_repaired_and_said_in_the_warning() -> None:
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "Blog\ud800",
                       "items": [{"id": "1\x00", "url": "https://blog.example/\udc00",
                                  "title": "T" * 400, "tags": 5, "attachments": {}}]}).encode()
    feed = parse_feed(body, {"content-type": "application/feed+json"}, "https://blog.example/")
    [entry] = feed.entries
    assert (feed.title, entry.guid, entry.link) == ("Blog", "1", "https://blog.example/")
    assert len(entry.title) == 300 and entry.categories == () and entry.enclosures == ()
    assert feed.warning == ("values repaired (cut to 300 characters: title ×1; invalid "
                            "characters removed: feed title ×1, id ×1, link ×1)")


@pytest.mark.parametrize("body, reason", [
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": [], "n": ' + b"9" * 5000 + b"}",
     "Exceeds the limit"),
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": ' + b"[" * 100_000
     + b"]" * 100_000 + b"}", "maximum recursion depth"),
])
def test_json_that_python_cannot_hold_is_not_a_feed(body: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=f"not a feed: invalid JSON: .*{reason}"):
        parse_feed(body, {"content-type": "application/json"}, "https://blog.example/")


@pytest.mark.parametrize("value, date", [
    ("2026-11-20T10:00:00+01:00", datetime(2026, 11, 20, 9, tzinfo=UTC)),
    ("0001-01-01T00:30:00+01:00", None),  # before year 1 in UTC: OverflowError
    ("9999-12-31T23:59:59-01:00", None),
    ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC)),  # a date: save.py judges it
])
def test_json_feed_dates_out_of_range(value: str, date: datetime | None) -> None:
    body = json.dumps({"version": "https://jsonfeed.org/version/1", "items": [
        {"id": "1", "date_published": value}]}).encode()
    [entry] = parse_feed(body, {"content-type": "application/json"}, "https://b.example/").entries
    assert entry.published == date


@pytest.mark.parametrize("length, kept", [("12345", 12345), ("9" * 5000, None), ("²", None),
                                          ("-1", None), ("", None)])
def test_rss_enclosure_length_is_range_checked(length: str, kept: int | None) -> None:
    enclosure = f"<enclosure url='https://b.example/a.mp3' type='audio/mpeg' length='{length}'/>"
    body = ("<?xml version='1.0'?><rss version='2.0'><channel><title>t</title><item>"
            f"<title>a</title><link>https://b.example/a</link>{enclosure}</item></channel></rss>")
    [entry] = parse_feed(body.encode(), {}, "https://b.example/").entries
    assert [e.length for e in entry.enclosures] == [kept]


@pytest.mark.parametrize("ttl, minutes", [("60", 60), ("10080", 10080), ("10081", None),
                                          ("9" * 5000, None), ("0", None), ("¹", None)])
def test_rss_ttl_is_range_checked(ttl: str, minutes: int | None) -> None:
    body = f"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title><ttl>{ttl}</ttl>"
    feed = parse_feed((body + "</channel></rss>").encode(), {}, "https://b.example/")
    assert feed.ttl == (timedelta(minutes=minutes) if minutes else None)
