"""Pages and merged feeds rendered from a real store, then validated and re-read."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import feedparser
import jsonschema
import pytest
from lxml import etree

from aggregator.render import render_site, write_file
from tests.conftest import DATA, FeedServer, Site, poll_and_render
from tests.conftest import SITE_NOW as NOW
from tests.conftest import SITE_SOURCES as SOURCES

CP1252_TITLE = "«\xa0Le métier qui n’existe pas\xa0»"


ALL_TITLES = {
    "Vos réponses : « Je m’y retrouve totalement ! »",
    "Aux personnes qui ne comprennent pas mon métier",
    "Pourquoi je suis Community Manager ? (mis à jour)",
    "Je suis community manager et toi ?",
    "Social Media, CM, SMO, expert, Facebook, Twitter, Facebook ads",
    "Vis ma Vie de Community Manager #2",
    CP1252_TITLE,
}
# hostile.rss re-publishes "Vis ma vie de CM" with the same date: one article, two copies.
# Same date and same poll: the feed name decides, so "Hostile" shows and the blog is a copy.
ARTICLES = 9


def test_output_folder_has_every_file(site: Site) -> None:
    for name in ("index.html", "atom.xml", "rss.xml", "feed.json", "feeds.opml", "style.css",
                 "digest/2013-12-12.html", "digest/2012-07-13.html", "digest/2016-06-09.html"):
        assert (site.root / name).is_file(), name


def test_atom_is_valid_rfc4287(site: Site) -> None:
    schema = etree.RelaxNG(etree.parse(str(DATA / "schemas" / "atom-rfc4287.rng")))
    document = etree.parse(str(site.root / "atom.xml"))
    assert schema.validate(document), schema.error_log
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = document.findall("a:entry", ns)
    assert len(entries) == ARTICLES
    # RFC 4287 prose rules the schema cannot check: an author for every entry
    # (here at feed level) and an alternate link per entry that has one.
    assert document.find("a:author/a:name", ns) is not None
    source_titles = {entry.findtext("a:source/a:title", namespaces=ns) for entry in entries}
    assert "Isabelle, le numérique à cœur" in source_titles
    assert len(source_titles) == 4
    for entry in entries:
        assert entry.find("a:source/a:link[@rel='self']", ns) is not None
        assert entry.findtext("a:id", namespaces=ns).startswith("urn:uuid:")


def test_json_feed_is_valid(site: Site) -> None:
    schema = json.loads((DATA / "schemas" / "jsonfeed-1.1.schema.json").read_text("utf-8"))
    document = json.loads(site.text("feed.json"))
    jsonschema.validate(document, schema)
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert len(document["items"]) == ARTICLES
    sources = {item["_source"]["feed_url"] for item in document["items"]}
    assert len(sources) == 4


@pytest.mark.parametrize("name", ["atom.xml", "rss.xml", "feed.json"])
def test_merged_feeds_reread_by_feedparser(site: Site, name: str) -> None:
    if name == "feed.json":
        items = json.loads(site.text(name))["items"]
        read = {i["title"] for i in items}
        count = len(items)
    else:
        parsed = feedparser.parse((site.root / name).read_bytes())
        assert not parsed.bozo, parsed.get("bozo_exception")
        read = {e.title for e in parsed.entries}
        count = len(parsed.entries)
    assert count == ARTICLES
    assert read >= ALL_TITLES
    assert 'Vis ma vie de CM en gras & "guillemets"' in read


def test_merged_feed_credits_the_source_blog(site: Site) -> None:
    parsed = feedparser.parse((site.root / "rss.xml").read_bytes())
    entry = next(e for e in parsed.entries if e.title == CP1252_TITLE)
    assert entry.source.title == "Isabelle, le numérique à cœur"
    assert entry.author == "Isabelle"
    atom = feedparser.parse((site.root / "atom.xml").read_bytes())
    entry = next(e for e in atom.entries if e.title == "Vis ma Vie de Community Manager #2")
    assert entry.source.title
    assert entry.link == "https://vismavie.example/2013/12/vis-ma-vie-de-cm-2.html"


def test_a_cross_post_is_shown_once_with_its_other_copy(site: Site) -> None:
    copy_link = "https://vismavie.example/2012/07/vis-ma-vie-de-cm.html"
    atom = feedparser.parse((site.root / "atom.xml").read_bytes())
    [article] = [e for e in atom.entries if e.title.startswith("Vis ma vie de CM")]
    assert article.title == 'Vis ma vie de CM en gras & "guillemets"'
    related = [link for link in article.links if link.rel == "related"]
    assert [(r.href, r.title) for r in related] == [(copy_link, "Vis ma vie de CM")]

    rss = feedparser.parse((site.root / "rss.xml").read_bytes())
    assert sum(e.title.startswith("Vis ma vie de CM") for e in rss.entries) == 1
    items = json.loads(site.text("feed.json"))["items"]
    [item] = [i for i in items if i["title"].startswith("Vis ma vie de CM")]
    assert item["_also_published_on"]["copies"] == [{
        "title": "Vis ma vie de CM", "url": copy_link,
        "date_published": "2012-07-13T08:24:00Z"}]

    page = site.text("digest/2012-07-13.html")
    assert page.count('class="entry"') == 1
    assert re.search(r'Aussi publié sur\xa0:\s*<a href="' + re.escape(copy_link)
                     + r'">Vis ma vie de CM</a> <span class="when">\(13 juil\. 2012\)</span>',
                     page), page


def test_accents_survive_into_every_output(site: Site) -> None:
    day = site.text("digest/2016-06-09.html")
    for name, text in [("page", day), ("atom", site.text("atom.xml")),
                       ("rss", site.text("rss.xml"))]:
        assert CP1252_TITLE in text, name
        assert "cœur" in text, name
        assert "n’existe" in text, name
    document = json.loads(site.text("feed.json"))
    item = next(i for i in document["items"] if i["title"] == CP1252_TITLE)
    assert item["_source"]["title"] == "Isabelle, le numérique à cœur"
    assert "cœur" in item["summary"] and "n’ai pas de regret" in item["content_html"]
    assert "« Je m’y retrouve totalement ! »" in site.text("digest/2013-02-05.html")
    # And from the UTF-8 Atom feed: œ and ’ in the page excerpt and in every merged feed.
    assert "les mœurs se sont développées" in site.text("digest/2013-12-12.html")
    for name in ("atom.xml", "rss.xml", "feed.json"):
        assert "les mœurs se sont développées" in site.text(name), name
        assert "j’avais à faire comprendre" in site.text(name), name


def test_day_page_lists_entries_with_source_author_time_and_excerpt(site: Site) -> None:
    page = site.text("digest/2013-12-12.html")
    assert "<h1>Jeudi 12 décembre 2013</h1>" in page
    assert 'href="https://vismavie.example/2013/12/vis-ma-vie-de-cm-2.html"' in page
    assert ">Vis ma Vie de Community Manager #2</a>" in page
    assert "Chifoumy" in page
    assert '<time datetime="2013-12-12T21:47:00+01:00">21:47</time>' in page
    excerpt = re.search(r'<p class="excerpt">(.*?)</p>', page, re.S)
    assert excerpt, page
    words = excerpt.group(1).split(" ")  # no-break spaces inside « » do not cut words
    assert len(words) == 60 and words[-1].endswith("…")
    assert "mœurs" in excerpt.group(1)
    assert page.count('class="entry"') == 1


def test_days_are_cut_in_the_configured_time_zone(
    feed_server: FeedServer, make_config: Any
) -> None:
    # 23:30 UTC on 31 March 2024 is 01:30 on 1 April in Paris (summer time began that day).
    body = ("<rss version='2.0'><channel><title>T</title><item><title>Tard</title>"
            "<guid>t1</guid><pubDate>Sun, 31 Mar 2024 23:30:00 +0000</pubDate></item>"
            "<item><title>Tôt</title><guid>t2</guid>"
            "<pubDate>Sat, 30 Mar 2024 22:59:00 +0000</pubDate></item></channel></rss>")
    url = feed_server.set("/tz", body.encode())
    root = poll_and_render(make_config([{"name": "t", "url": url}]))
    assert sorted(p.name for p in (root / "digest").iterdir()) == [
        "2024-03-30.html", "2024-04-01.html"]
    assert "Tard" in (root / "digest/2024-04-01.html").read_text("utf-8")
    assert "23:59" in (root / "digest/2024-03-30.html").read_text("utf-8")


def test_undated_entry_is_filed_when_first_seen(
    feed_server: FeedServer, make_config: Any
) -> None:
    url = feed_server.serve_file("rss091.xml")
    root = poll_and_render(make_config([{"name": "old", "url": url}]))
    page = (root / "digest/2026-11-21.html").read_text("utf-8")
    assert page.count('class="entry"') == 2
    assert "Samedi 21 novembre 2026" in page


def test_pages_are_escaped_and_sanitized(site: Site) -> None:
    outputs = [site.text(n) for n in ("index.html", "atom.xml", "rss.xml", "feed.json")]
    outputs += [p.read_text("utf-8") for p in (site.root / "digest").glob("*.html")]
    joined = "\n".join(outputs)
    for bad in ("<script", "alert(", "javascript:", "onerror", "<iframe", "<b>gras"):
        assert bad not in joined, bad
    assert "Vis ma vie de CM en gras &amp; &#34;guillemets&#34;" in joined


def test_pages_link_the_merged_feeds_and_need_nothing_external(site: Site) -> None:
    for name in ["index.html", "digest/2013-12-12.html"]:
        page = site.text(name)
        prefix = "" if name == "index.html" else "../"
        assert '<link rel="alternate" type="application/atom+xml"' in page
        assert f'href="{prefix}atom.xml"' in page
        assert f'href="{prefix}rss.xml"' in page
        assert f'href="{prefix}feed.json"' in page
        assert f'<link rel="stylesheet" href="{prefix}style.css">' in page
        assert "<script" not in page
        assert not re.search(r'<(link|img|script)[^>]+(href|src)="https?://', page)


def test_index_shows_latest_day_and_navigation(site: Site) -> None:
    index = site.text("index.html")
    assert "<h1>Jeudi 9 juin 2016</h1>" in index
    assert 'href="digest/2013-12-12.html"' in index
    day = site.text("digest/2013-12-12.html")
    assert 'rel="prev" href="../digest/2013-02-05.html"' in day
    assert 'rel="next" href="../digest/2016-06-09.html"' in day


def test_merged_feed_holds_the_newest_entries(site: Site) -> None:
    config = site.config
    limited = type(config.settings)(**{**config.settings.__dict__, "feed_entries": 3})
    render_site(site.store, limited, config.feeds, NOW)
    parsed = feedparser.parse((site.root / "atom.xml").read_bytes())
    assert [e.title for e in parsed.entries] == [
        CP1252_TITLE,
        "Vis ma Vie de Community Manager #2",
        "Vos réponses : « Je m’y retrouve totalement ! »",
    ]


def test_render_twice_writes_nothing_new(site: Site) -> None:
    atom = site.text("atom.xml")
    report = site.render()
    assert report.written == 0
    # day pages, index, archive, style, atom/rss/json, digest.xml, feeds.opml,
    # 3 tags × 3 feeds
    assert report.unchanged == report.days + 8 + 3 * 3
    assert site.text("atom.xml") == atom


def test_opml_lists_every_feed(site: Site) -> None:
    document = etree.parse(str(site.root / "feeds.opml"))
    outlines = document.findall(".//outline")
    assert {o.get("text") for o in outlines} == set(SOURCES)
    vis = next(o for o in outlines if o.get("text") == "Vis ma vie de CM")
    assert vis.get("category") == "humour,community management"
    assert vis.get("xmlUrl").endswith("/vis-ma-vie.atom")


def test_write_file_is_atomic_and_skips_identical(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "page.html"
    assert write_file(target, b"one")
    assert not write_file(target, b"one")
    assert write_file(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["page.html"]


def test_a_later_render_rewrites_only_the_index(site: Site) -> None:
    day = site.root / "digest" / "2013-12-12.html"
    before = day.stat().st_mtime_ns
    report = render_site(site.store, site.config.settings, site.config.feeds,
                         NOW.replace(hour=18))
    assert report.written == 1
    assert day.stat().st_mtime_ns == before
    assert "Mis à jour le samedi 21 novembre 2026 à 19:00." in site.text("index.html")
