"""Tag and blog pages: their models (publish/follow.py), then rendered from a real store."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import feedparser
import lxml.html
import pytest
from lxml import etree

from aggregator.config.load import Config, FeedConfig, Settings
from aggregator.models import FeedState, StoredEntry
from aggregator.poll.fetch import make_session
from aggregator.poll.run import update_feeds
from aggregator.publish import follow
from aggregator.publish.digest import own_categories
from aggregator.publish.feeds import tag_feeds
from aggregator.publish.render import render_site
from aggregator.store import Store
from aggregator.store.reads import Blog, EntryRef
from tests.conftest import DATA, FeedServer

# The browser tests' fixtures (a served folder, axe-core), found by pytest under these names.
from tests.test_browser import CHROMIUM, audit, axe_script, serve  # noqa: F401

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def settings() -> Settings:
    return Settings(database="sqlite://", output_dir=Path("public"), language="fr",
                    timezone="Europe/Paris")


def stored(title: str, blog: str, dated: datetime, tags: tuple[str, ...] = (),
           categories: tuple[str, ...] = ()) -> StoredEntry:
    return StoredEntry(
        feed_name=blog, feed_title=blog, feed_url=f"https://{blog}.example/feed",
        site_url=f"https://{blog}.example/", tags=tags, identity=title, title=title,
        link=f"https://{blog}.example/{title}", author=None, published=dated, updated=None,
        first_seen=dated, dated=dated, changed=dated, content="", summary="", excerpt="",
        categories=categories)


FEEDS = [FeedConfig("Alpha", "https://alpha.example/feed", ("veille",)),
         FeedConfig("Bêta", "https://beta.example/feed", ("veille", "outils")),
         FeedConfig("beta", "https://beta2.example/feed", ("outils",))]


def links() -> follow.FollowLinks:
    return follow.follow_links(tag_feeds(FEEDS), FEEDS)


def test_each_tag_and_blog_has_its_own_page() -> None:
    found = links()
    assert found.tags == {"veille": "tags/veille/index.html",
                          "outils": "tags/outils/index.html"}
    assert found.tag_feeds["outils"] == "tags/outils/"
    # Two blogs whose names give the same slug get two folders.
    assert found.blogs["Bêta"] == "blogs/beta/index.html"
    assert found.blogs["beta"].startswith("blogs/beta-") and found.blogs["beta"] != "blogs/beta"


def test_a_tag_page_groups_its_articles_by_day_newest_first() -> None:
    entries = [stored("Trois", "Bêta", NOW - timedelta(hours=1), ("veille", "outils")),
               stored("Deux", "Alpha", NOW - timedelta(hours=2), ("veille",)),
               stored("Un", "Alpha", NOW - timedelta(days=2), ("veille",))]
    page = follow.build_tag_page("veille", FEEDS, entries, links(), settings())
    assert [(d.link.day.isoformat(), [e.title for e in d.entries]) for d in page.days] == [
        ("2026-11-21", ["Trois", "Deux"]), ("2026-11-19", ["Un"])]
    assert [(b.name, b.path, b.count) for b in page.blogs] == [
        ("Alpha", "blogs/alpha/index.html", 2), ("Bêta", "blogs/beta/index.html", 1)]
    assert (page.count, page.cut, page.feed_path) == (3, False, "tags/veille/")
    many = [stored(f"n{i}", "Alpha", NOW - timedelta(minutes=i), ("veille",))
            for i in range(follow.TAG_ENTRIES + 1)]
    busy = follow.build_tag_page("veille", FEEDS, many, links(), settings())
    assert busy.cut and sum(len(d.entries) for d in busy.days) == follow.TAG_ENTRIES


def test_a_blog_health_says_since_when_and_why_not_when_last_polled() -> None:
    feed = FEEDS[0]
    tz = ZoneInfo("Europe/Paris")
    ok = FeedState("Alpha", feed.url, last_polled=NOW)
    assert follow.blog_health(feed, ok, tz, "fr") == follow.BlogHealth("ok")
    assert follow.blog_health(feed, None, tz, "fr").word == "never polled"
    assert follow.blog_health(replace(feed, enabled=False), ok, tz, "fr").word == "disabled"
    failing = replace(ok, failures=3, last_error="HTTP 500", failing_since=NOW - timedelta(days=2))
    assert follow.blog_health(feed, failing, tz, "fr") == follow.BlogHealth(
        "failing", since="19 novembre 2026", error="HTTP 500")
    moved = replace(ok, moved_to="https://new.example/feed", moved_at=NOW)
    assert follow.blog_health(feed, moved, tz, "en") == follow.BlogHealth(
        "moved", since="November 21, 2026", moved_to="https://new.example/feed")


def test_a_blog_page_links_only_web_addresses() -> None:
    state = FeedState("Alpha", FEEDS[0].url, title="Alpha, le blog",
                      site_url="javascript:alert(1)", last_polled=NOW)
    page = follow.build_blog_page(FEEDS[0], state, [], links(), settings())
    assert (page.title, page.site_url, page.feed_url) == (
        "Alpha, le blog", None, "https://alpha.example/feed")
    fine = follow.build_blog_page(FEEDS[0], replace(state, site_url="https://alpha.example/"),
                                  [], links(), settings())
    assert (fine.site_url, fine.days, fine.count) == ("https://alpha.example/", (), 0)


def ref(number: int, blog: str, dated: datetime) -> EntryRef:
    feed = next(f for f in FEEDS if f.name == blog)
    return EntryRef(number, Blog(blog, blog, feed.url, None, feed.tags), dated)


def stamps(refs: list[EntryRef], states: dict[str, FeedState],
           start: datetime = NOW - timedelta(days=29)) -> dict[str, str]:
    plans = follow.plan_pages(refs, FEEDS, states, links(), start, "site", settings())
    return {plan.path: plan.stamp for plan in plans}


def test_a_page_stamp_moves_with_its_articles_health_and_window_only() -> None:
    refs = [ref(1, "Alpha", NOW - timedelta(days=1)), ref(2, "beta", NOW)]
    states = {"Alpha": FeedState("Alpha", FEEDS[0].url, last_polled=NOW)}
    before = stamps(refs, states)
    assert len(before) == 5
    # Polled again with nothing new: no page changes.
    polled = {"Alpha": replace(states["Alpha"], last_polled=NOW + timedelta(hours=1),
                               next_poll=NOW + timedelta(hours=2))}
    assert stamps(refs, polled) == before
    # An article of "beta" changed: its blog's page and its tag's, not the others.
    edited = stamps([refs[0], ref(2, "beta", NOW + timedelta(minutes=5))], states)
    assert {path for path in before if edited[path] != before[path]} == {
        "tags/outils/index.html", links().blogs["beta"]}
    failing = {"Alpha": replace(states["Alpha"], failures=1, last_error="HTTP 500",
                                failing_since=NOW)}
    assert {p for p, s in stamps(refs, failing).items() if s != before[p]} == {
        "blogs/alpha/index.html"}
    # A new day: the window moved, every page shows other days.
    later = stamps(refs, states, start=NOW - timedelta(days=28))
    assert all(later[path] != before[path] for path in before)


def test_an_article_own_categories_leave_out_its_blog_tags() -> None:
    entry = stored("T", "Alpha", NOW, ("Veille", "outils"), ("veille", "IA", "Outils", "RGPD"))
    assert own_categories(entry) == ("IA", "RGPD")


# Rendered from a real store: three blogs polled from a loopback server, one failing.
def _rss(name: str, items: list[tuple[str, datetime, tuple[str, ...]]]) -> bytes:
    body = "".join(
        f"<item><title>{escape(title)}</title><link>https://{name}.example/{number}</link>"
        f"<guid>https://{name}.example/?p={number}</guid>"
        f"<pubDate>{when.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>"
        + "".join(f"<category>{escape(c)}</category>" for c in categories)
        + f"<description>Texte de {escape(title)}.</description></item>"
        for number, (title, when, categories) in enumerate(items))
    return (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
            f"<title>{name}</title><link>https://{name}.example/</link>"
            f"<description>Blog</description>{body}</channel></rss>").encode()


ITEMS = {
    "alpha": [("Alpha hier", NOW - timedelta(days=1), ("Modération", "veille")),
              ("Alpha avant-hier", NOW - timedelta(days=3), ()),
              ("Alpha il y a longtemps", NOW - timedelta(days=40), ())],
    "beta": [("Bêta hier", NOW - timedelta(days=1, hours=2), ("Outils IA",))],
    "gamma": [("Gamma récent", NOW - timedelta(days=2), ())],
}


@pytest.fixture
def follow_site(feed_server: FeedServer, make_config: Any,
                refused_url: str) -> Any:
    def feeds(tags: dict[str, list[str]]) -> list[dict[str, Any]]:
        listed = [{"name": name.capitalize(), "url": feed_server.url(f"/{name}.rss"),
                   "tags": tags[name]} for name in ITEMS if name in tags]
        return [*listed, {"name": "Panne", "url": refused_url, "tags": ["outils"]}]

    for name, items in ITEMS.items():
        feed_server.set(f"/{name}.rss", _rss(name, items))
    config = make_config(feeds({"alpha": ["veille"], "beta": ["veille", "outils"],
                                "gamma": ["outils"]}))
    store = Store.open(config.settings.database)
    update_feeds(store, make_session(), config, NOW)
    render_site(store, config.settings, config.feeds, NOW)
    yield config, store, feeds
    store.close()


def text(config: Config, name: str) -> str:
    return (config.settings.output_dir / name).read_text("utf-8")


def test_a_tag_page_lists_its_feeds_articles_of_the_last_30_days_by_day(
        follow_site: Any) -> None:
    config, _store, _feeds = follow_site
    page = lxml.html.fromstring(text(config, "tags/veille/index.html"))
    titles = [h.text_content() for h in page.xpath("//article[@class='entry']/h3")]
    assert titles == ["Alpha hier", "Bêta hier", "Alpha avant-hier"]
    days = [h.text_content().split(" ")[:3] for h in page.xpath("//section[@class='topic']/h2")]
    assert days == [["Vendredi", "20", "novembre"], ["Mercredi", "18", "novembre"]]
    assert [a.get("href") for a in page.xpath("//section[@class='blogs-of']//li/a[1]")] == [
        "../../blogs/alpha/index.html", "../../blogs/beta/index.html"]
    assert page.xpath("//a[@href='../../tags/veille/atom.xml']")
    outils = text(config, "tags/outils/index.html")
    assert "Gamma récent" in outils and "Alpha hier" not in outils


def test_a_blog_page_shows_its_health_and_feed_address(follow_site: Any) -> None:
    config, _store, _feeds = follow_site
    alpha = lxml.html.fromstring(text(config, "blogs/alpha/index.html"))
    facts = alpha.xpath("//dl[@class='blog-facts']")[0].text_content()
    assert "Interrogé normalement." in facts
    assert config.feeds[0].url in facts and "https://alpha.example/" in facts
    assert [h.text_content() for h in alpha.xpath("//article[@class='entry']/h3")] == [
        "Alpha hier", "Alpha avant-hier"]
    broken = lxml.html.fromstring(text(config, "blogs/panne/index.html"))
    health = broken.xpath("//dd[contains(@class, 'health-failing')]")[0].text_content()
    assert health.startswith("En échec depuis le 21 novembre 2026") and "Il est réessayé" in health
    assert "Aucun article ces 30 derniers jours." in broken.text_content()


def test_tag_chips_blog_names_and_categories_link_where_they_should(
        follow_site: Any) -> None:
    config, _store, _feeds = follow_site
    day = lxml.html.fromstring(text(config, "digest/2026-11-20.html"))
    entry = next(a for a in day.xpath("//article[@class='entry']")
                 if "Alpha hier" in a.text_content())
    # On a day page the blog's tags are beside its name, once; the card keeps its own.
    chips = entry.xpath(".//ul[@class='tags']/li")
    assert [(li.get("class"), li.text_content()) for li in chips] == [("category", "Modération")]
    [blog_tags] = entry.xpath("preceding-sibling::ul[@class='tags']")
    assert blog_tags.xpath(".//a")[0].get("href") == "../tags/veille/index.html"
    assert [li.text_content() for li in blog_tags.xpath("li")] == ["veille"]
    assert entry.xpath(".//span[@class='source']/a")[0].get("href") == "../blogs/alpha/index.html"
    assert day.xpath("//section[@class='blog']/h3/a[@href='../blogs/beta/index.html']")


def test_every_relative_link_of_the_output_leads_to_a_file(follow_site: Any) -> None:
    config, _store, _feeds = follow_site
    root = config.settings.output_dir
    pages = sorted(root.rglob("*.html"))
    assert root / "blogs/panne/index.html" in pages
    checked = 0
    for page in pages:
        for _element, _attribute, link, _position in lxml.html.parse(page).getroot().iterlinks():
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or not parts.path:
                continue
            base = root if parts.path.startswith("/") else page.parent
            target = base / unquote(parts.path).lstrip("/")
            assert (target / "index.html" if link.endswith("/") else target).is_file(), (
                page.relative_to(root), link)
            checked += 1
    assert checked > 100


def test_categories_are_carried_in_the_output_feeds(follow_site: Any) -> None:
    config, _store, _feeds = follow_site
    root = config.settings.output_dir
    schema = etree.RelaxNG(etree.parse(str(DATA / "schemas" / "atom-rfc4287.rng")))
    atom = etree.parse(str(root / "atom.xml"))
    assert schema.validate(atom), schema.error_log
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entry = next(e for e in atom.findall("a:entry", ns)
                 if e.findtext("a:title", namespaces=ns) == "Alpha hier")
    assert [c.get("term") for c in entry.findall("a:category", ns)] == ["veille", "Modération"]
    rss = feedparser.parse((root / "rss.xml").read_bytes())
    item = next(i for i in rss.entries if i.title == "Bêta hier")
    assert [t.term for t in item.tags] == ["veille", "outils", "Outils IA"]
    document = json.loads((root / "tags/outils/feed.json").read_text("utf-8"))
    assert {i["title"]: i.get("tags") for i in document["items"]}["Bêta hier"] == [
        "veille", "outils", "Outils IA"]


def test_only_changed_tag_and_blog_pages_are_rendered_again(
        follow_site: Any, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    config, store, _feeds = follow_site
    built: list[str] = []
    tag_page, blog_page = follow.build_tag_page, follow.build_blog_page
    monkeypatch.setattr(follow, "build_tag_page",
                        lambda tag, *a: built.append(tag) or tag_page(tag, *a))
    monkeypatch.setattr(follow, "build_blog_page",
                        lambda feed, *a: built.append(feed.name) or blog_page(feed, *a))
    later = NOW + timedelta(hours=2)
    render_site(store, config.settings, config.feeds, later)
    assert built == []
    feed_server.set("/gamma.rss", _rss("gamma", [
        *ITEMS["gamma"], ("Gamma nouveau", later - timedelta(minutes=30), ())]))
    update_feeds(store, make_session(), config, later, force=True)
    render_site(store, config.settings, config.feeds, later)
    assert sorted(built) == ["Gamma", "outils"]
    assert "Gamma nouveau" in text(config, "tags/outils/index.html")


def test_a_tag_or_blog_gone_from_feeds_yaml_loses_its_page(
        follow_site: Any, make_config: Any) -> None:
    config, store, feeds = follow_site
    root = config.settings.output_dir
    assert (root / "tags/veille/index.html").is_file()
    smaller = make_config(feeds({"alpha": ["outils"], "gamma": ["outils"]}))
    render_site(store, smaller.settings, smaller.feeds, NOW)
    assert not (root / "tags/veille").exists()
    assert not (root / "blogs/beta").exists()
    assert "Alpha hier" in text(config, "tags/outils/index.html")
    assert (root / "blogs/alpha/index.html").is_file()


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("page", ["tags/veille/index.html", "blogs/panne/index.html"])
def test_tag_and_blog_pages_pass_axe(follow_site: Any, request: pytest.FixtureRequest,
                                     page: str, width: int, theme: str,
                                     tmp_path: Path) -> None:
    config, _store, _feeds = follow_site
    served = request.getfixturevalue("serve")(config.settings.output_dir, page, [])
    audit(served, request.getfixturevalue("axe_script"), tmp_path, width, theme)


def test_a_full_render_renders_every_tag_and_blog_page(
        follow_site: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    config, store, _feeds = follow_site
    built: list[str] = []
    blog_page = follow.build_blog_page
    monkeypatch.setattr(follow, "build_blog_page",
                        lambda feed, *a: built.append(feed.name) or blog_page(feed, *a))
    render_site(store, config.settings, config.feeds, NOW, full=True)
    assert sorted(built) == ["Alpha", "Beta", "Gamma", "Panne"]
