"""Pages and merged feeds rendered from a real store, then validated and re-read."""

from __future__ import annotations

import json
import random
import re
import shutil
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import feedparser
import jsonschema
import pytest
import sqlalchemy as sa
from lxml import etree

from aggregator.config.load import Config
from aggregator.poll.fetch import make_session
from aggregator.poll.run import update_feeds
from aggregator.publish import render as render_module
from aggregator.publish import state as state_module
from aggregator.publish.environment import templates_dir
from aggregator.publish.feeds import DigestEntry
from aggregator.publish.output import write_file
from aggregator.publish.render import RenderReport, render_site
from aggregator.publish.state import DIGEST_CACHE
from aggregator.store import Store
from aggregator.store.schema import EntryRow, FeedRow
from tests.conftest import DATA, FeedServer, Site, poll_and_render
from tests.conftest import SITE_NOW as NOW
from tests.conftest import SITE_SOURCES as SOURCES
from tests.test_digest import _sentence

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
                 "favicon.svg", "404.html",
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
    # The page's French typography: no-break spaces inside « » and before "!".
    assert ("«\u00a0Je m’y retrouve totalement\u202f!\u00a0»"
            in site.text("digest/2013-02-05.html"))
    # And from the UTF-8 Atom feed: ’ and é in the page excerpt (cut before "mœurs" there),
    # œ and ’ in every merged feed.
    assert "j’avais à faire comprendre mon métier" in site.text("digest/2013-12-12.html")
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
    # The stored excerpt (60 words) cut to about five lines of a phone, at a word's end.
    assert 150 <= len(excerpt.group(1)) <= 211 and excerpt.group(1).endswith("…")
    assert excerpt.group(1).startswith("Il y a bien longtemps, je ")
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
        assert f'<link rel="icon" type="image/svg+xml" href="{prefix}favicon.svg">' in page
        assert "<script" not in page
        assert not re.search(r'<(link|script)[^>]+(href|src)="https?://', page)
        # The articles' own pictures are all a page fetches elsewhere: lazily, no referrer.
        for image in re.findall(r"<img [^>]*>", page):
            assert 'loading="lazy"' in image and 'referrerpolicy="no-referrer"' in image


def test_the_404_page_is_in_the_sites_language_with_links_from_its_root_path(
    site: Site, feed_server: FeedServer, make_config: Any
) -> None:
    page = site.text("404.html")
    assert '<html lang="fr">' in page and "<h1>Page introuvable</h1>" in page
    assert '<link rel="stylesheet" href="/style.css">' in page
    assert '<link rel="icon" type="image/svg+xml" href="/favicon.svg">' in page
    assert 'href="/archive.html"' in page
    assert 'class="archive"' not in page  # no month beside it: it belongs to no day
    # Published under a path, in English: its links start there.
    feeds = [{"name": "Vis ma vie de CM", "url": feed_server.serve_file("vis-ma-vie.atom")}]
    config = make_config(feeds, base_url="https://example.org/veille/", language="en",
                         output_dir=str(site.root.parent / "english"))
    english = (poll_and_render(config) / "404.html").read_text("utf-8")
    assert "<h1>Page not found</h1>" in english
    assert '<link rel="stylesheet" href="/veille/style.css">' in english


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
    # The entries were saved within LATE_SAVES of the last render, so their days are
    # rendered again; and the index, style, favicon, 404 page, search page, atom/rss/json,
    # digest.xml, feeds.opml, 3 tags × 3 feeds and the 8 months' archives (Atom and JSON
    # Feed: the days changed, so were their months), all the same.
    assert (report.full, report.rendered_days, report.days) == (False, 8, 8)
    assert report.unchanged == report.rendered_days + 10 + 3 * 3 + 8 * 2
    assert site.text("atom.xml") == atom
    full = render_site(site.store, site.config.settings, site.config.feeds, NOW, full=True)
    assert (full.full, full.rendered_days, full.written) == (True, 8, 0)
    # ...and archive.html, search.html, the 3 tag pages and the 4 blog pages, which only a
    # full render (or a change of theirs) renders again.
    assert full.unchanged == full.days + 11 + 3 * 3 + 3 + 4 + 8 * 2


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
    # Entries saved just before the last render may have been committed after it:
    # their days are rendered once more (the same bytes), then left alone.
    assert (report.full, report.rendered_days) == (False, 8)
    assert day.stat().st_mtime_ns == before
    assert "Mis à jour le samedi 21 novembre 2026 à 19:00." in site.text("index.html")
    report = render_site(site.store, site.config.settings, site.config.feeds,
                         NOW.replace(hour=19))
    assert (report.written, report.full, report.rendered_days) == (1, False, 0)


# Incremental renders: after each change, the pages an incremental render leaves are
# byte for byte those of a full render of the same database into another folder.

def _post(guid: str, title: str, moment: datetime, text: str, link: str | None = None) -> str:
    link = link or f"https://carnet.example/{guid}"
    return (f"<item><title>{escape(title)}</title><link>{escape(link)}</link>"
            f"<guid>{guid}</guid><pubDate>{moment:%a, %d %b %Y %H:%M:%S +0000}</pubDate>"
            f"<description>{escape(text)}</description></item>")


def _channel(title: str, posts: list[str]) -> bytes:
    return (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
            f"<title>{title}</title><link>https://{title.lower()}.example/</link>"
            f"<description>{title}</description>{''.join(posts)}</channel></rss>").encode()


def _text(seed: int) -> str:
    rng = random.Random(seed)
    return "<p>" + " ".join(_sentence(rng, 40) for _ in range(3)) + "</p>"


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@dataclass
class Scenario:
    """Real fixture feeds and two feeds the test edits, polled and rendered hour by hour."""

    server: FeedServer
    make_config: Any
    tmp_path: Path
    carnet: dict[str, str]
    miroir: dict[str, str]
    filters: dict[str, Any] | None = None
    title: str = "Veille de test"
    hour: int = 0
    stores: list[Store] = field(default_factory=list)

    def open(self) -> Store:
        """The store renders read; full renders read their own, as another process would."""
        url = self.config().settings.database
        self.stores = [Store.open(url), Store.open(url)]
        return self.stores[0]

    def close(self) -> None:
        for store in self.stores:
            store.close()

    def config(self) -> Config:
        self.server.set("/carnet.rss", _channel("Carnet", list(self.carnet.values())))
        self.server.set("/miroir.rss", _channel("Miroir", list(self.miroir.values())))
        feeds = [{"name": name, "url": self.server.serve_file(file), "tags": tags}
                 for name, (file, tags) in SOURCES.items()]
        feeds += [{"name": "Carnet", "url": self.server.url("/carnet.rss"), "tags": ["carnet"]},
                  {"name": "Miroir", "url": self.server.url("/miroir.rss")}]
        extra = {"filters": self.filters} if self.filters else {}
        return self.make_config(feeds, title=self.title, **extra)  # type: ignore[no-any-return]

    def step(self, store: Store, compare: bool = True) -> RenderReport:
        """Poll, render incrementally, render fully elsewhere; the two must be equal."""
        self.hour += 1
        now = NOW + timedelta(hours=self.hour)
        config = self.config()
        update_feeds(store, make_session(), config, now, force=True)
        report = render_site(store, config.settings, config.feeds, now)
        if not compare:
            return report
        full = replace(config.settings, output_dir=self.tmp_path / "full")
        render_site(self.stores[1], full, config.feeds, now, full=True)
        incremental, complete = _tree(config.settings.output_dir), _tree(full.output_dir)
        assert sorted(incremental) == sorted(complete)
        differing = [name for name in complete if incremental[name] != complete[name]]
        assert not differing, differing
        return report

    def page(self, day: str) -> str:
        return (self.tmp_path / "public" / "digest" / f"{day}.html").read_text("utf-8")

    def has_page(self, day: str) -> bool:
        return (self.tmp_path / "public" / "digest" / f"{day}.html").is_file()


JUNE = datetime(2016, 6, 20, 8, 0, tzinfo=UTC)


def test_the_digest_feed_keeps_its_newest_days_within_its_size(
    feed_server: FeedServer, make_config: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    carnet = {f"c{n}": _post(f"c{n}", f"Carnet numéro {n}", JUNE + timedelta(days=n),
                             _text(n)) for n in (1, 2, 3)}
    scenario = Scenario(feed_server, make_config, tmp_path, carnet, {})
    store = scenario.open()

    def digest_days() -> list[str]:
        parsed = feedparser.parse((tmp_path / "public" / "digest.xml").read_bytes())
        return [entry.link.rsplit("/", 1)[-1] for entry in parsed.entries]

    try:
        scenario.step(store)
        everything = digest_days()
        assert everything[:3] == ["2016-06-23.html", "2016-06-22.html", "2016-06-21.html"]
        root = tmp_path / "public"
        state = state_module.read_state(root)
        assert state is not None
        sizes = sorted(len(entry.xml)
                       for entry in state_module.read_digest_cache(root, state).values())
        # Room for two days: the third newest goes, in the full and incremental renders.
        monkeypatch.setattr(render_module, "DIGEST_CHARACTERS", sizes[-1] + sizes[-2])
        carnet["c4"] = _post("c4", "Carnet numéro 4", JUNE + timedelta(days=4), _text(4))
        scenario.step(store)
        kept = digest_days()
        assert 1 <= len(kept) < len(everything) and kept[0] == "2016-06-24.html"
        monkeypatch.setattr(render_module, "DIGEST_CHARACTERS", 1)  # the newest day only
        carnet["c5"] = _post("c5", "Carnet numéro 5", JUNE + timedelta(days=5), _text(5))
        scenario.step(store)
        assert digest_days() == ["2016-06-25.html"]
    finally:
        scenario.close()


def test_a_folder_rendered_long_ago_renders_in_full_and_old_moves_are_forgotten(
    feed_server: FeedServer, make_config: Any, tmp_path: Path
) -> None:
    carnet = {"c1": _post("c1", "Carnet numéro 1", JUNE, _text(1))}
    scenario = Scenario(feed_server, make_config, tmp_path, carnet, {})
    store = scenario.open()

    def moves() -> int:
        with store.engine.connect() as connection:
            return int(connection.execute(sa.text("SELECT count(*) FROM entry_moves")).scalar_one())

    try:
        assert scenario.step(store).full
        carnet["c1"] = _post("c1", "Carnet numéro 1", JUNE - timedelta(days=2), _text(1))
        assert not scenario.step(store).full  # re-dated earlier: the day it left is noted
        assert moves() == 1
        scenario.hour += 24 * 8  # a week and a day without a render: moves may be gone
        assert scenario.step(store).full
        assert moves() == 1
        scenario.hour += 24 * 6  # two weeks after the move, no render needs it
        assert not scenario.step(store).full
        assert moves() == 0
    finally:
        scenario.close()


def test_incremental_renders_equal_full_renders_through_changes(
    feed_server: FeedServer, make_config: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    carnet = {f"c{n}": _post(f"c{n}", f"Carnet numéro {n}", JUNE + timedelta(days=days),
                             _text(n))
              for n, days in [(1, 0), (2, 2), (3, 5)]}
    scenario = Scenario(feed_server, make_config, tmp_path, carnet, {})
    store = scenario.open()
    try:
        first = scenario.step(store)
        assert first.full and first.days == 11
        # A new entry on a day that has a page.
        carnet["c4"] = _post("c4", "Tournesol du jour", JUNE + timedelta(days=5, hours=5),
                             _text(4))
        report = scenario.step(store)
        assert not report.full and "Tournesol du jour" in scenario.page("2016-06-25")
        # A new day between two others: it and its neighbours are rendered.
        carnet["c5"] = _post("c5", "Un jour de plus", JUNE + timedelta(days=3), _text(5))
        assert not scenario.step(store).full
        assert 'rel="next" href="../digest/2016-06-23.html"' in scenario.page("2016-06-22")
        # Re-dated: c3 to an earlier day that has a page (the feed corrects its date)...
        carnet["c3"] = _post("c3", "Carnet numéro 3", JUNE + timedelta(days=3, hours=4),
                             _text(3))
        assert not scenario.step(store).full
        assert "Carnet numéro 3" in scenario.page("2016-06-23")
        assert "Carnet numéro 3" not in scenario.page("2016-06-25")
        # ... and c2 edited and moved later, leaving its day empty.
        carnet["c2"] = _post("c2", "Carnet numéro 2, revu", JUNE + timedelta(days=4),
                             _text(2) + "<p>Ajout.</p>")
        assert not scenario.step(store).full
        assert not scenario.has_page("2016-06-22") and scenario.has_page("2016-06-24")
        # A copy of a four-year-old article: its old page lists the copy.
        old = "https://mon-metier-web.example/2012/04/je-suis-community-manager-et-toi/"
        scenario.miroir["m1"] = _post("m1", "Je suis community manager et toi ?",
                                      JUNE + timedelta(days=6), _text(11),
                                      link=old + "?utm_source=miroir")
        assert not scenario.step(store).full
        assert re.search(r"Aussi publié sur\xa0:\s*<a [^>]+>Miroir</a>",
                         scenario.page("2012-04-17"))
        assert not scenario.has_page("2016-06-26")
        # An earlier copy of c1: it becomes the shown copy, the article moves a day back.
        scenario.miroir["m2"] = _post("m2", "Carnet numéro 1", JUNE - timedelta(days=1),
                                      _text(1), link="https://carnet.example/c1")
        assert not scenario.step(store).full
        assert "Carnet numéro 1" in scenario.page("2016-06-19")
        assert not scenario.has_page("2016-06-20")
        # A filter empties a day: something every page depends on changed.
        scenario.filters = {"exclude": ["tournesol"]}
        report = scenario.step(store)
        assert report.full and not scenario.has_page("2016-06-25")
        # So does the title, and so does a template.
        scenario.title = "Veille renommée"
        assert scenario.step(store).full
        assert scenario.step(store).full is False
        templates = tmp_path / "templates"
        shutil.copytree(templates_dir(), templates)
        (templates / "day.html").write_text(
            (templates / "day.html").read_text("utf-8").replace("{% block main %}",
                                                                "{% block main %}\n<!-- -->"),
            "utf-8")
        monkeypatch.setattr("aggregator.publish.environment.templates_dir", lambda: templates)
        report = scenario.step(store)
        assert report.full and "<!-- -->" in scenario.page("2016-06-19")
    finally:
        scenario.close()


def test_one_new_entry_renders_a_few_pages_of_hundreds(
    feed_server: FeedServer, make_config: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = datetime(2015, 1, 1, 9, 0, tzinfo=UTC)
    carnet = {f"d{n}": _post(f"d{n}", f"Billet {n}", start + timedelta(days=n), _text(100 + n))
              for n in range(240)}  # one a day: 240 days over nine months
    scenario = Scenario(feed_server, make_config, tmp_path, carnet, {})
    store = scenario.open()
    try:
        assert scenario.step(store, compare=False).days == 240 + 8
        # The first poll's saves are within LATE_SAVES of the render: rendered once more.
        assert scenario.step(store, compare=False).rendered_days == 248
        page = tmp_path / "public" / "digest" / "2015-03-01.html"
        before = page.stat().st_mtime_ns

        def whole_table() -> list[datetime]:
            raise AssertionError("an incremental render read every entry's date")

        monkeypatch.setattr(store, "entry_dates", whole_table)
        newest = start + timedelta(days=239)  # 28 August 2015
        carnet["n1"] = _post("n1", "Le même jour", newest + timedelta(hours=2), _text(1))
        report = scenario.step(store, compare=False)
        assert (report.full, report.rendered_days) == (False, 1)
        # A new day, alone in its month: its page and its two neighbours'.
        carnet["n2"] = _post("n2", "Un autre mois", newest + timedelta(days=5), _text(2))
        report = scenario.step(store)
        assert (report.full, report.rendered_days) == (False, 3)
        assert page.stat().st_mtime_ns == before
    finally:
        scenario.close()


def test_digest_feed_reuses_the_entries_of_unchanged_days(
    feed_server: FeedServer, make_config: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    carnet = {f"c{n}": _post(f"c{n}", f"Carnet numéro {n}", JUNE + timedelta(days=n), _text(n))
              for n in range(4)}
    scenario = Scenario(feed_server, make_config, tmp_path, carnet, {})
    store = scenario.open()
    built: list[str] = []
    digest_day = render_module._digest_day

    def counted(*args: Any, **kwargs: Any) -> DigestEntry:
        day = digest_day(*args, **kwargs)
        built.append(day.day.isoformat())
        return day

    monkeypatch.setattr(render_module, "_digest_day", counted)
    cache = tmp_path / "public" / DIGEST_CACHE
    try:
        assert scenario.step(store).full
        scenario.step(store)  # the first poll's saves are within LATE_SAVES: all again
        built.clear()
        # An edit on 21 June: only that day's digest entry is built again (the
        # latest day's page is built for the index, its digest entry reused).
        carnet["c1"] = _post("c1", "Carnet numéro 1, revu", JUNE + timedelta(days=1),
                             _text(1))
        report = scenario.step(store)
        assert (report.full, report.rendered_days) == (False, 1)
        # The incremental render, then the full one it is compared with (every day).
        incremental, full = built[:1], built[1:]
        assert incremental == ["2016-06-21"] and len(full) == report.days
        assert "Carnet numéro 1, revu" in (tmp_path / "public" / "digest.xml").read_text()
        assert sorted(p.name for p in cache.iterdir()) == sorted(
            [f"{day}.xml" for day in json.loads((cache / "index.json").read_text())["updated"]]
            + ["index.json"])
        # What another render left (one stopped before it wrote its state), an unreadable
        # index or a missing day is not used: every day's entry is built again.
        index = json.loads((cache / "index.json").read_text("utf-8"))
        for spoil in (
            lambda: (cache / "index.json").write_text(
                json.dumps({**index, "rendered_at": "2016-06-01T00:00:00+00:00"})),
            lambda: (cache / "index.json").write_text("{"),
            lambda: (cache / "2016-06-20.xml").unlink(),
        ):
            spoil()
            built.clear()
            report = scenario.step(store)
            assert not report.full and len(built) == 2 * report.days  # with the full render's
    finally:
        scenario.close()


# Dates at the edges of the calendar, as an older version stored them from feeds that
# said "0001-01-01" or "9999-12-31": written straight into the database.

EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)


def _insert_entries(store: Store, rows: list[dict[str, Any]]) -> None:
    with store.engine.begin() as connection:
        feed_id = connection.execute(sa.select(FeedRow.id).where(
            FeedRow.name == "Hostile")).scalar_one()
        connection.execute(sa.insert(EntryRow), [
            {"feed_id": feed_id, "identity": row["title"], "signature": "s", "link": None,
             "article_id": None,
             "first_seen": NOW, "changed": NOW, "content": "", "summary": "",
             "excerpt": "", "is_canonical": True, "shingle_count": 0, **row}
            for row in rows])


def test_entries_at_the_edges_of_the_calendar_never_stop_a_render(
    site: Site, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with site.store.engine.connect() as connection:
        article = connection.execute(sa.select(EntryRow.id, EntryRow.article_id).where(
            EntryRow.title == "Vis ma Vie de Community Manager #2")).one()
    _insert_entries(site.store, [
        {"title": "An un", "dated": EARLIEST},
        {"title": "Fin des temps", "dated": LATEST},
        {"title": "Presque an un", "dated": datetime(1, 6, 15, 10, tzinfo=UTC)},
        {"title": "Presque la fin", "dated": datetime(9999, 12, 30, 12, tzinfo=UTC)},
        {"title": "Copie d’avant les temps", "dated": EARLIEST, "is_canonical": False,
         "article_id": article.article_id or article.id, "link": "https://vieux.example/"},
    ])
    with caplog.at_level("WARNING", logger="aggregator.publish.digest"):
        assert not site.render().full  # the rows changed now: an incremental render
        render_site(site.store, site.config.settings, site.config.feeds, NOW, full=True)
    assert any("2 entries are filed at the edge of the calendar" in r.getMessage()
               for r in caplog.records)
    digest = site.root / "digest"
    assert "Presque an un" in (digest / "0001-06-15.html").read_text("utf-8")
    assert "Presque la fin" in (digest / "9999-12-30.html").read_text("utf-8")
    assert sorted(p.name for p in digest.iterdir())[0] == "0001-06-15.html"
    pages = "".join(p.read_text("utf-8") for p in digest.iterdir())
    assert "An un<" not in pages and "Fin des temps" not in pages
    # The copy dated at the edge is listed under its article, dated in UTC.
    assert re.search(r'<a href="https://vieux.example/">Hostile</a> '
                     r'<span class="when">\(1 janv\. 1\)</span>',
                     site.text("digest/2013-12-12.html"))
    # In a zone west of UTC the first moment has no local time at all.
    west = replace(site.config.settings, timezone="America/Los_Angeles",
                   output_dir=tmp_path / "west")
    report = render_site(site.store, west, site.config.feeds, NOW)
    assert report.full and (west.output_dir / "digest" / "9999-12-30.html").is_file()


def test_a_crowded_day_is_shown_in_pages_and_every_entry_is_on_one(
    feed_server: FeedServer, make_config: Any, tmp_path: Path
) -> None:
    carnet = {f"c{n}": _post(f"c{n}", f"Carnet numéro {n}", JUNE + timedelta(minutes=n),
                             _text(n)) for n in range(250)}
    miroir = {f"m{n}": _post(f"m{n}", f"Miroir numéro {n}", JUNE + timedelta(minutes=n),
                             _text(1000 + n)) for n in range(30)}
    scenario = Scenario(feed_server, make_config, tmp_path, carnet, miroir)
    store = scenario.open()
    day = "2016-06-20"

    def titles(page: str) -> list[str]:
        return re.findall(r'<h4 id="article-\d+"><a href="[^"]+">'
                          r'((?:Carnet|Miroir) numéro \d+)</a>',
                          page)

    try:
        scenario.step(store)  # and the full render of the same database: the same files
        pages = [scenario.page(name) for name in (day, f"{day}-2", f"{day}-3")]
        assert not scenario.has_page(f"{day}-4")
        # Tagged blogs first, each in time order, untagged last; each entry on one page.
        expected = ([f"Carnet numéro {n}" for n in range(250)]
                    + [f"Miroir numéro {n}" for n in range(30)])
        assert [title for page in pages for title in titles(page)] == expected
        assert [len(titles(page)) for page in pages] == [100, 100, 80]
        assert all('<p class="summary">280 articles, 2 blogs</p>' in page for page in pages)
        assert "Page 3 sur 3\xa0: articles 201 à 280" in pages[2]
        assert f'<a href="../digest/{day}-2.html">← Page précédente</a>' in pages[2]
        assert f'<a href="../digest/{day}-2.html">Page suivante →</a>' in pages[0]
        index = (tmp_path / "public" / "index.html").read_text("utf-8")
        assert titles(index) == expected[:100]
        assert f'<a href="digest/{day}-3.html">3</a>' in index
        # A hundred entries move to the day before (their feed corrects their dates):
        # the day's third page goes.
        for n in range(100):
            carnet[f"c{n}"] = _post(f"c{n}", f"Carnet numéro {n}",
                                    JUNE - timedelta(days=1, minutes=-n), _text(n))
        assert not scenario.step(store).full
        assert not scenario.has_page(f"{day}-3") and not scenario.has_page("2016-06-19-2")
        left = titles(scenario.page(day)) + titles(scenario.page(f"{day}-2"))
        assert left == expected[100:]
        assert titles(scenario.page("2016-06-19")) == expected[:100]
    finally:
        scenario.close()


def test_empty_home_page_says_whether_the_feeds_were_polled(
    feed_server: FeedServer, make_config: Any, refused_url: str
) -> None:
    empty = feed_server.set("/empty.rss", b'<?xml version="1.0"?><rss version="2.0"><channel>'
                            b"<title>Vide</title><link>http://x.test/</link></channel></rss>",
                            content_type="application/rss+xml")
    config = make_config([{"name": "vide", "url": empty}, {"name": "refus", "url": refused_url}],
                         language="en")
    index = config.settings.output_dir / "index.html"
    store = Store.open(config.settings.database)
    try:
        store.sync_feeds(config.feeds)
        render_site(store, config.settings, config.feeds, NOW)
    finally:
        store.close()
    assert "No article has been fetched yet. Run <code>aggregator fetch</code>" in (
        index.read_text("utf-8"))

    poll_and_render(config)
    page = index.read_text("utf-8")
    assert ("The feeds have been polled but no article is stored yet: 1 of 2 feeds failed. "
            "Run <code>aggregator status</code> to see why.") in page
    assert "aggregator fetch" not in page


def test_the_archive_counts_each_months_days_and_articles(site: Site) -> None:
    archive = site.text("archive.html")
    months = re.findall(r'<h2 id="month-[^"]+">([^<]+) <span class="count">([^<]+)</span>',
                        archive)
    assert months[:5] == [("Juin 2016", "1 jour · 1 article"),
                          ("Décembre 2013", "1 jour · 1 article"),
                          ("Février 2013", "1 jour · 1 article"),
                          ("Janvier 2013", "1 jour · 1 article"),
                          ("Octobre 2012", "1 jour · 2 articles")]
    assert sum(int(count.split("·")[1].split()[0]) for _, count in months) == ARTICLES
    # Each day's count is kept for the next render, which rewrites the archive when one
    # changes (test_incremental_renders_equal_full_renders_through_changes compares it).
    state = json.loads((site.root / ".render-state.json").read_text("utf-8"))
    assert len(state["articles"]) == len(state["days"]) == 8


def test_a_cards_excerpt_is_cut_without_a_stray_full_stop_before_its_ellipsis() -> None:
    from aggregator.publish.environment import make_environment
    template = make_environment().from_string("{{ text | shorten(200) }}")
    sentence = "Je propose de poursuivre en message privé pour les détails personnels. "
    long = sentence * 2 + "x" * 120 + " " + sentence
    assert template.render(text=sentence * 2) == sentence * 2  # short: whole
    assert template.render(text="y" * 205) == "y" * 205  # a twentieth over: left whole
    cut = template.render(text=long)
    assert len(cut) <= 200 and cut.endswith("x…")
    at_a_stop = template.render(text="a " * 57 + sentence + "z" * 100)  # a space at 184
    assert at_a_stop.endswith("personnels…") and ".…" not in at_a_stop
