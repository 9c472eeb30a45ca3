"""Every output stays well-formed whatever text is stored: names, titles and tags made of
characters from every Unicode category (controls, formats, private use, lone surrogates,
line and paragraph separators, noncharacters, astral planes) are rendered into every
feed we publish, and each is read back by strict parsers."""

from __future__ import annotations

import json
import random
import sys
import unicodedata
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
from lxml import etree

from aggregator.config.load import FeedConfig, Settings
from aggregator.config.opml import read_opml, write_opml
from aggregator.models import Copy, Enclosure, FeedState, StoredEntry
from aggregator.publish.environment import make_environment
from aggregator.publish.feeds import (
    DigestDay,
    build_feed,
    digest_day_id,
    render_digest_day,
    tag_feeds,
    write_feeds,
)
from tests.conftest import DATA

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
ATOM = etree.RelaxNG(etree.parse(str(DATA / "schemas" / "atom-rfc4287.rng")))
JSON_FEED = json.loads((DATA / "schemas" / "jsonfeed-1.1.schema.json").read_text("utf-8"))
# Those the sample by category could miss: each one has broken some program's XML.
SPECIAL = ("\x00\x01\x08\x0b\x0c\x1b\x7f\x85\x9f\ud800\udfff\udbff\udc00\ufffe\uffff"
           "\U0001fffe\U0010ffff\u2028\u2029\ufeff\u200b\u202e\U000e0001\ue000\U000f0000"
           "]]>&amp;<!--\"'\t\r\n")


def _by_category() -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for code in range(sys.maxunicode + 1):
        found[unicodedata.category(chr(code))].append(chr(code))
    return found


CATEGORIES = _by_category()


def _sample(seed: int, size: int = 60) -> str:
    """A string with characters of every category (the first, the last and random
    ones of each), and the special ones, in an order drawn from `seed`."""
    rng = random.Random(seed)
    characters = list(SPECIAL)
    for members in CATEGORIES.values():
        characters += [members[0], members[-1], *rng.sample(members, min(3, len(members)))]
    rng.shuffle(characters)
    return "".join(characters[:size]) + "".join(characters[size:])


def _text(seed: int) -> str:
    return "Titre " + _sample(seed) + " <script>alert(1)</script> fin"


def _entry(index: int) -> StoredEntry:
    day = NOW - timedelta(hours=index)
    return StoredEntry(
        feed_name=_text(index), feed_title=_text(index + 100), feed_url="https://blog.example/feed",
        site_url=_text(index + 200), tags=(_text(index + 300), "C++", "C#"),
        identity=_text(index + 400), title=_text(index + 500), link=_text(index + 600),
        author=_text(index + 700), published=day, updated=day, first_seen=day, dated=day,
        changed=day, content="<p>" + _text(index + 800) + "</p>", summary="",
        excerpt=_text(index + 900),
        copies=(Copy(_text(index + 1000), _text(index + 1100), "https://copie.example/a", day),
                Copy("b", "b", _text(index + 1200), day)),
        language=_text(index + 1300)[:20],
        enclosures=(Enclosure("https://blog.example/a.mp3", _text(index + 1400), 12),
                    Enclosure(_text(index + 1500), "audio/mpeg", 3)),
        thumbnail=_text(index + 1600),
    )


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every file write_feeds makes, for a site where everything is made of odd text."""
    settings = Settings(database="sqlite://", output_dir=tmp_path_factory.mktemp("out"),
                        title=_text(1), base_url="https://veille.example/")
    entries = [_entry(i) for i in range(4)]
    feeds = [FeedConfig(name=_text(2000 + i), url="https://blog.example/feed",
                        tags=(_text(2100 + i), "C++", "C#", "x" * 300)) for i in range(3)]
    states = {feed.name: FeedState(feed.name, feed.url, title=_text(2200), site_url=_text(2300))
              for feed in feeds}
    env = make_environment()
    documents = [("", build_feed(entries, settings, NOW))] + [
        (tag.path, build_feed(entries, settings, NOW, path=tag.path, title=tag.tag))
        for tag in tag_feeds(feeds)]
    digest = [render_digest_day(env, DigestDay(
        day=NOW.date(), id=digest_day_id(settings, NOW.date()), heading=_text(3000), count=2,
        link="https://veille.example/digest/x.html", published=NOW, updated=NOW,
        summary=_text(3050), content_html="<p>" + _text(3100) + "</p>"), settings)]
    written: dict[str, str] = {}
    write_feeds(env, written.__setitem__, settings, feeds, states, documents, digest, NOW)
    assert len(documents) == 1 + 3 + 3  # every tag its own feed
    return written


def _parse(text: str) -> etree._Element:
    # Encoded as written to disk: a lone surrogate left in the text would fail here.
    return etree.fromstring(text.encode("utf-8"), etree.XMLParser(recover=False))


def test_every_xml_output_is_well_formed(outputs: dict[str, str]) -> None:
    xml = [name for name in outputs if name.endswith((".xml", ".opml"))]
    assert len(xml) == 7 * 2 + 2  # Atom and RSS of each feed, digest.xml, feeds.opml
    for name in xml:
        root = _parse(outputs[name])
        assert root.tag in ("{http://www.w3.org/2005/Atom}feed", "rss", "opml"), name
        if name.endswith("atom.xml") or name == "digest.xml":
            assert ATOM.validate(etree.ElementTree(root)), (name, ATOM.error_log)


def test_every_json_feed_is_valid(outputs: dict[str, str]) -> None:
    documents = [name for name in outputs if name.endswith("feed.json")]
    assert len(documents) == 7
    for name in documents:
        outputs[name].encode("utf-8")
        document = json.loads(outputs[name])
        jsonschema.validate(document, JSON_FEED)
        for item in document["items"]:
            for text in (item["title"], item["summary"], item["authors"][0]["name"],
                         item["_source"]["title"], *item["tags"]):
                assert "<script" not in text and "</script" not in text
            assert "language" not in item  # made of odd text: not a language tag
            assert "url" not in item and "image" not in item
            assert [a["url"] for a in item["attachments"]] == ["https://blog.example/a.mp3"]
            assert item["attachments"][0]["mime_type"] == "application/octet-stream"


def test_rss_text_fields_show_no_markup_to_an_html_reader(outputs: dict[str, str]) -> None:
    channel = _parse(outputs["rss.xml"]).find("channel")
    assert channel is not None
    fields = ["title", "{http://purl.org/dc/elements/1.1/}creator", "source", "category"]
    for item in channel.iter("item"):
        for field in fields:
            for element in item.iter(field):
                assert "<script" not in (element.text or ""), (field, element.text)
                assert "alert(1)" in (element.text or "") or field == "category"


def test_the_odd_text_is_kept_where_xml_allows_it(outputs: dict[str, str]) -> None:
    atom = _parse(outputs["atom.xml"])
    title = atom.findtext("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}title")
    assert title is not None
    # Atom's type="text" is exact: the markup is text, and so are the characters XML allows.
    assert "<script>alert(1)</script>" in title
    for character in "\u2028\u2029\ufeff\u200b\u202e\U0001fffe\U0010ffff\ue000\t":
        assert character in title, hex(ord(character))
    for character in "\x00\x01\x0b\ud800\ufffe\uffff":
        assert character not in title


def test_opml_export_of_odd_names_reads_back(outputs: dict[str, str]) -> None:
    feeds = read_opml(outputs["feeds.opml"].encode("utf-8"))
    assert len(feeds) == 3
    assert all(feed.url == "https://blog.example/feed" for feed in feeds)
    assert all("C++" in feed.tags and "C#" in feed.tags for feed in feeds)


def test_write_opml_alone_drops_only_what_xml_forbids() -> None:
    name = "Blog\x0c du\x00 CM \u2028 ☃ \U0001f600"
    text = write_opml("Veille\x1b", [FeedConfig(name=name, url="https://a.example/f")], {}, NOW)
    root = _parse(text)
    assert root.findtext("head/title") == "Veille"
    outline = root.find("body/outline")
    assert outline is not None
    assert outline.get("text") == "Blog du CM \u2028 ☃ \U0001f600"


def test_opml_with_folders_nested_a_thousand_deep_is_read(tmp_path: Path) -> None:
    depth = 1000
    document = ('<opml version="2.0"><body>'
                + "".join(f'<outline text="dossier {i}">' for i in range(depth))
                + '<outline text="Profond" xmlUrl="https://deep.example/feed"/>'
                + "</outline>" * depth
                + '<outline text="Surface" xmlUrl="https://top.example/feed"/></body></opml>')
    feeds = read_opml(document.encode("utf-8"))
    assert [feed.name for feed in feeds] == ["Profond", "Surface"]
    assert feeds[0].tags == tuple(f"dossier {i}" for i in range(depth))
    assert feeds[1].tags == ()
