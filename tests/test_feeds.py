"""The feeds we publish beyond the merged one: per tag, the daily digest; media, filters."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import feedparser
import jsonschema
from lxml import etree

from aggregator.poll.fetch import make_session
from aggregator.poll.run import update_feeds
from aggregator.publish.render import render_site
from aggregator.store import Store
from tests.conftest import DATA, SITE_NOW, FeedServer, Site, poll_and_render

ATOM = etree.RelaxNG(etree.parse(str(DATA / "schemas" / "atom-rfc4287.rng")))
JSON_FEED = json.loads((DATA / "schemas" / "jsonfeed-1.1.schema.json").read_text("utf-8"))
TAGS = {"community-management": "community management", "humour": "humour",
        "metier": "métier"}


def valid_atom(path: Path) -> Any:
    document = etree.parse(str(path))
    assert ATOM.validate(document), ATOM.error_log
    return document


def test_per_tag_feeds_hold_only_their_blogs(site: Site) -> None:
    assert sorted(p.name for p in (site.root / "tags").iterdir()) == sorted(TAGS)
    for slug, tag in TAGS.items():
        folder = site.root / "tags" / slug
        valid_atom(folder / "atom.xml")
        jsonschema.validate(json.loads((folder / "feed.json").read_text("utf-8")), JSON_FEED)
        for name in ("atom.xml", "rss.xml"):
            parsed = feedparser.parse((folder / name).read_bytes())
            assert not parsed.bozo, parsed.get("bozo_exception")
            assert parsed.feed.title == f"{site.config.settings.title} — {tag}"
            assert parsed.entries
            assert all(tag in [t.term for t in e.tags] for e in parsed.entries)
    humour = feedparser.parse((site.root / "tags/humour/atom.xml").read_bytes())
    assert {e.title for e in humour.entries} == {"Vis ma Vie de Community Manager #2"}


def test_digest_feed_has_one_entry_a_day(site: Site) -> None:
    document = valid_atom(site.root / "digest.xml")
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert document.getroot().get("{http://www.w3.org/XML/1998/namespace}lang") == "fr"
    parsed = feedparser.parse((site.root / "digest.xml").read_bytes())
    days = sorted(p.stem for p in (site.root / "digest").glob("*.html"))
    assert len(parsed.entries) == len(days) == 8
    assert parsed.feed.title == f"{site.config.settings.title} — résumé du jour"
    latest = parsed.entries[0]
    assert latest.title == "Jeudi 9 juin 2016 — 1 article"
    assert latest.link == site.config.settings.base_url + "digest/2016-06-09.html"
    assert "«\xa0Le métier qui n’existe pas\xa0»" in latest.content[0].value
    assert 'href="https://metier-numerique.example/' in latest.content[0].value
    assert "Lire ce résumé sur le site" in latest.content[0].value
    # Stable ids, in the order of days, newest first.
    ids = [e.findtext("a:id", namespaces=ns) for e in document.findall("a:entry", ns)]
    assert len(set(ids)) == 8 and all(i.startswith("urn:uuid:") for i in ids)
    again = site.render()
    assert again.written == 0


def test_pages_advertise_every_feed(site: Site) -> None:
    for name, root in (("index.html", ""), ("digest/2013-12-12.html", "../")):
        page = site.text(name)
        links = re.findall(r'<link rel="alternate" type="([^"]+)" title="[^"]*" href="([^"]+)"',
                           page)
        hrefs = {href for _, href in links}
        assert {f"{root}atom.xml", f"{root}rss.xml", f"{root}feed.json",
                f"{root}digest.xml"} <= hrefs
        assert {f"{root}tags/{slug}/atom.xml" for slug in TAGS} <= hrefs


def test_removed_tag_loses_its_feeds(site: Site) -> None:
    config = site.config
    feeds = tuple(f if f.name != "Vis ma vie de CM" else type(f)(name=f.name, url=f.url)
                  for f in config.feeds)
    render_site(site.store, config.settings, feeds, SITE_NOW)
    assert not (site.root / "tags" / "humour").exists()
    assert (site.root / "tags" / "metier" / "atom.xml").is_file()


PODCAST = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>
<title>Le podcast des CM\x0c</title><link>https://podcast.example/</link><language>fr</language>
<item><title>\xc3\x89pisode 1 : la mod\xc3\xa9ration</title><guid>ep1</guid>
<link>https://podcast.example/ep1</link><pubDate>Tue, 05 Nov 2024 10:00:00 +0100</pubDate>
<description>On parle de mod\xc3\xa9ration des commentaires.</description>
<enclosure url="/audio/ep1.mp3" length="12345678" type="audio/mpeg"/>
<media:thumbnail url="https://podcast.example/ep1.jpg"/></item>
<item><title>Hors-s\xc3\xa9rie : partenariat</title><guid>hs1</guid>
<link>https://podcast.example/hs1</link><pubDate>Wed, 06 Nov 2024 10:00:00 +0100</pubDate>
<category>Partenariat</category><description>Un \xc3\xa9pisode sponsoris\xc3\xa9.</description>
</item></channel></rss>"""


def _podcast_site(feed_server: FeedServer, make_config: Any, **settings: Any) -> Any:
    url = feed_server.set("/podcast.rss", PODCAST)
    config = make_config([{"name": "Podcast CM", "url": url, "tags": ["podcast"]}],
                         **settings)
    store = Store.open(config.settings.database)
    update_feeds(store, make_session(), config, SITE_NOW)
    render_site(store, config.settings, config.feeds, SITE_NOW)
    return config, store


def test_enclosures_reach_pages_and_feeds(feed_server: FeedServer, make_config: Any) -> None:
    config, store = _podcast_site(feed_server, make_config)
    store.close()
    root = config.settings.output_dir
    mp3 = "https://podcast.example/audio/ep1.mp3"
    page = (root / "digest" / "2024-11-05.html").read_text("utf-8")
    assert f'<audio class="media" controls preload="none" src="{mp3}">' in page
    atom = feedparser.parse((root / "atom.xml").read_bytes())
    episode = next(e for e in atom.entries if e.title.startswith("Épisode"))
    assert [(e.href, e.type, e.length) for e in episode.enclosures] == [
        (mp3, "audio/mpeg", "12345678")]
    rss = feedparser.parse((root / "rss.xml").read_bytes())
    assert next(e for e in rss.entries if e.title.startswith("Épisode")).enclosures[0].href == mp3
    items = json.loads((root / "feed.json").read_text("utf-8"))["items"]
    item = next(i for i in items if i["title"].startswith("Épisode"))
    assert item["attachments"] == [{"url": mp3, "mime_type": "audio/mpeg",
                                    "size_in_bytes": 12345678}]
    assert (item["image"], item["language"]) == ("https://podcast.example/ep1.jpg", "fr")
    # The channel title's form feed never reaches a feed: it would make atom.xml invalid XML.
    valid_atom(root / "atom.xml")
    assert "\x0c" not in (root / "rss.xml").read_text("utf-8")


def test_filters_keep_entries_out_of_pages_and_feeds_until_the_rule_changes(
    feed_server: FeedServer, make_config: Any
) -> None:
    rule = {"exclude": [{"keyword": "partenariat", "in": ["category"]}]}
    config, store = _podcast_site(feed_server, make_config, filters=rule)
    root = config.settings.output_dir
    try:
        titles = [e.title for e in feedparser.parse((root / "atom.xml").read_bytes()).entries]
        assert titles == ["Épisode 1 : la modération"]
        assert not (root / "digest" / "2024-11-06.html").exists()
        assert "Hors-série" not in (root / "tags" / "podcast" / "rss.xml").read_text("utf-8")
        # The rule goes: a render is enough, the entry was kept in the database.
        relaxed = make_config(
            [{"name": "Podcast CM", "url": feed_server.url("/podcast.rss"),
              "tags": ["podcast"]}])
        render_site(store, relaxed.settings, relaxed.feeds, SITE_NOW)
        titles = [e.title for e in feedparser.parse((root / "atom.xml").read_bytes()).entries]
        assert titles == ["Hors-série : partenariat", "Épisode 1 : la modération"]
        assert (root / "digest" / "2024-11-06.html").is_file()
    finally:
        store.close()


def test_tags_alike_as_folders_each_get_their_own(feed_server: FeedServer,
                                                  make_config: Any) -> None:
    # "C++" and "C#" slug alike, a 300-letter tag is longer than a file name may be,
    # and a Cyrillic one has no Latin letter: each gets its folder, its feed, its link.
    long_tag = "veille " * 43
    tags = {"Podcast CM": ("C++", long_tag), "Vis ma vie": ("C#", "Соцсети")}
    config = make_config([
        {"name": "Podcast CM", "url": feed_server.set("/podcast.rss", PODCAST)},
        {"name": "Vis ma vie", "url": feed_server.serve_file("vis-ma-vie.atom")}])
    feeds = [replace(feed, tags=tags[feed.name]) for feed in config.feeds]
    store = Store.open(config.settings.database)
    try:
        update_feeds(store, make_session(), config, SITE_NOW)
        render_site(store, config.settings, feeds, SITE_NOW)
    finally:
        store.close()
    root = config.settings.output_dir
    index = root.joinpath("index.html").read_text("utf-8")
    advertised = {html.unescape(title): href for title, href in re.findall(
        r'<link rel="alternate" type="application/atom\+xml" title="([^"]+)" '
        r'href="(tags/[^"]+)"', index)}
    assert len(advertised) == len(set(advertised.values())) == 4
    for blog, blog_tags in tags.items():
        for tag in blog_tags:
            title = f"{config.settings.title} — {tag}"
            folder = root / advertised[title].removesuffix("atom.xml")
            assert len(folder.name.encode("utf-8")) <= 100
            valid_atom(folder / "atom.xml")
            parsed = feedparser.parse((folder / "atom.xml").read_bytes())
            assert parsed.feed.title == title.strip()
            assert parsed.entries
            assert all(e.link.startswith("https://podcast.example/") == (blog == "Podcast CM")
                       for e in parsed.entries)
    assert advertised[f"{config.settings.title} — Соцсети"] == "tags/соцсети/atom.xml"


MARKUP_AS_TEXT = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<title>&lt;script&gt;alert(1)&lt;/script&gt; Le blog</title><link>https://piege.example/</link>
<language>fran\xc3\xa7ais</language>
<item><title>&lt;script&gt;alert(2)&lt;/script&gt; Astuces</title><guid>a1</guid>
<link>https://piege.example/a1</link><pubDate>Tue, 05 Nov 2024 10:00:00 +0100</pubDate>
<dc:creator>&lt;img src=x onerror=alert(3)&gt; Isa</dc:creator>
<description>Un billet.</description>
<enclosure url="https://piege.example/a.mp3" length="3" type="audio mpeg"/></item>
</channel></rss>"""


def test_markup_written_as_text_is_never_published_as_markup(
    feed_server: FeedServer, make_config: Any
) -> None:
    config = make_config([{"name": "Piège", "url": feed_server.set("/p.rss", MARKUP_AS_TEXT)}])
    root = poll_and_render(config)
    item = etree.parse(str(root / "rss.xml")).find("channel/item")
    assert item is not None
    texts = [item.findtext("title"), item.findtext("source"),
             item.findtext("{http://purl.org/dc/elements/1.1/}creator")]
    assert texts == ["alert(2) Astuces", "alert(1) Le blog", "Isa"]
    assert item.find("enclosure").get("type") == "application/octet-stream"  # type: ignore[union-attr]
    entry = json.loads((root / "feed.json").read_text("utf-8"))["items"][0]
    assert (entry["title"], entry["authors"], entry["_source"]["title"]) == (
        "alert(2) Astuces", [{"name": "Isa"}], "alert(1) Le blog")
    assert "language" not in entry  # "français" is not a language tag
    # Atom says type="text": the title is published exactly, as text.
    atom = valid_atom(root / "atom.xml")
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert atom.findtext("a:entry/a:title", namespaces=ns) == "<script>alert(2)</script> Astuces"
    assert atom.find("a:entry/a:link[@rel='enclosure']", ns).get("type") is None  # type: ignore[union-attr]
