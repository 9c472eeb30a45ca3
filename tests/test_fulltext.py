"""Whole articles from teaser feeds (issue 24): a loopback blog serving a teaser feed and
article pages with their furniture; robots.txt, failures, second polls and copies."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from aggregator.config.load import Config
from aggregator.poll.fetch import make_session
from aggregator.poll.run import update_feeds
from aggregator.publish.status import describe_pages
from aggregator.store import Store
from aggregator.store.schema import EntryRow, FeedRow
from tests.conftest import FeedServer

DATA = Path(__file__).parent / "data" / "fulltext"
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
FURNITURE = ("Related Posts with Thumbnails", "Rendez-vous sur Hellocoton", "6 Comments",
             "Laisser un commentaire", "Ce site utilise des cookies", "Accueil")


def paragraphs_of(name: str) -> list[str]:
    """A sample post's paragraphs (its title and date lines left out)."""
    lines = [line.strip() for line in (DATA / name).read_text("utf-8").splitlines()]
    return [line for line in lines if len(line.split()) > 3][1:]


def article_page(title: str, paragraphs: list[str]) -> bytes:
    """A blog's page around an article: navigation, sidebar, comments, cookie banner."""
    body = "".join(f"<p>{html.escape(p)}</p>\n" for p in paragraphs)
    return f"""<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>{html.escape(title)} | Mon blog</title></head><body>
<div class="cookie-banner">Ce site utilise des cookies pour améliorer votre expérience.
<button>J'accepte</button></div>
<nav><ul><li><a href="/">Accueil</a></li><li><a href="/a-propos">À propos</a></li>
<li><a href="/contact">Contact</a></li></ul></nav>
<main><article><h1>{html.escape(title)}</h1>
<div class="entry-content">{body}</div>
<div class="share">Partager : Facebook Twitter LinkedIn</div>
<div class="related"><h3>Related Posts with Thumbnails</h3><ul>
<li><a href="/autre">Un autre article sur le même thème</a></li></ul></div>
<p class="hellocoton">Rendez-vous sur Hellocoton !</p>
</article>
<section id="comments"><h2>6 Comments</h2>
<div class="comment"><p>Super article, merci pour ce partage plein de vérité !</p></div>
<h3>Laisser un commentaire</h3><form><textarea></textarea></form></section></main>
<aside><h3>Archives</h3><ul><li>juin 2016</li><li>mai 2016</li></ul></aside>
<footer>© 2016 Mon blog. Tous droits réservés.</footer></body></html>""".encode()


def rss(items: list[tuple[str, str, str, datetime]]) -> bytes:
    """An RSS 2.0 feed of (title, link, description HTML, date) items."""
    entries = "".join(
        f"<item><title>{html.escape(title)}</title><link>{link}</link><guid>{link}</guid>"
        f"<pubDate>{date.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>"
        f"<description>{html.escape(text)}</description></item>\n"
        for title, link, text, date in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Blog</title><link>http://example.org/</link>{entries}"
            f"</channel></rss>").encode()


def teaser(paragraphs: list[str]) -> str:
    return f"<p>{html.escape(paragraphs[0])} […]</p><p><a href='#'>Lire la suite</a></p>"


POSTS = {"/2016/06/metier.html": ("Le métier qui n’existe pas", "post-isabelle.txt"),
         "/2012/07/vis-ma-vie.html": ("Vis ma vie de CM", "post-blogger.txt")}


def serve_blog(server: FeedServer, *, pages: bool = True) -> str:
    """The teaser feed and (with `pages`) its article pages; returns the feed's URL."""
    items = []
    for number, (path, (title, name)) in enumerate(POSTS.items()):
        text = paragraphs_of(name)
        if pages:
            server.set(path, article_page(title, text), content_type="text/html")
        items.append((title, server.url(path), teaser(text), NOW - timedelta(days=number + 1)))
    return server.set("/feed.xml", rss(items))


def poll(config: Config, now: datetime = NOW, **options: Any) -> None:
    store = Store.open(config.settings.database)
    try:
        update_feeds(store, make_session(), config, now, **options)
    finally:
        store.close()


def rows(config: Config) -> list[Any]:
    store = Store.open(config.settings.database)
    try:
        with store._session() as session:
            return list(session.execute(
                select(EntryRow.link, EntryRow.content, EntryRow.page_status,
                       EntryRow.page_reason, EntryRow.page_html, EntryRow.article_id,
                       EntryRow.is_canonical, FeedRow.name)
                .join(FeedRow, EntryRow.feed_id == FeedRow.id).order_by(EntryRow.id)))
    finally:
        store.close()


def page_hits(server: FeedServer) -> int:
    return sum(len(server.hits(path)) for path in POSTS)


def test_teaser_feed_gets_whole_articles_without_furniture_and_once(
        feed_server: FeedServer, make_config: Any) -> None:
    config = make_config([{"name": "Blog", "url": serve_blog(feed_server)}])
    poll(config)
    found = rows(config)
    assert [row.page_status for row in found] == ["fetched", "fetched"]
    for row in found:
        title, name = POSTS[row.link.removeprefix(feed_server.base)]
        last = paragraphs_of(name)[-1]
        assert " ".join(last.split()[-4:]) in " ".join(row.page_html.split()), title
        assert not [word for word in FURNITURE if word in row.page_html], title
    assert all(row.page_status == "fetched" for row in found)
    store = Store.open(config.settings.database)
    try:
        feed_text = [entry.summary for entry in store.feed_entries("Blog")]
    finally:
        store.close()
    assert all("Lire la suite" in text for text in feed_text)  # the feed's text kept apart
    assert page_hits(feed_server) == 2
    # A second poll: the feed answers 304, and no page is asked for again.
    poll(config, NOW + timedelta(hours=2), force=True)
    assert page_hits(feed_server) == 2
    store = Store.open(config.settings.database)
    try:
        shown = store.feed_entries("Blog")
        assert all("Lire la suite" not in entry.content for entry in shown)
        assert all(entry.teaser and entry.teaser != entry.excerpt for entry in shown)
        assert "2 fetched" in describe_pages("auto", store.page_counts()["Blog"])
    finally:
        store.close()


def test_robots_txt_forbidding_the_articles_means_no_request(
        feed_server: FeedServer, make_config: Any) -> None:
    feed_server.set("/robots.txt", b"User-agent: *\nDisallow: /2016/\nDisallow: /2012/\n",
                    content_type="text/plain")
    config = make_config([{"name": "Blog", "url": serve_blog(feed_server)}])
    poll(config)
    assert page_hits(feed_server) == 0
    assert [row.page_status for row in rows(config)] == ["robots-forbidden"] * 2
    store = Store.open(config.settings.database)
    try:
        words = describe_pages("auto", store.page_counts()["Blog"])
    finally:
        store.close()
    assert "2 forbidden by robots.txt" in words and "robots.txt forbids" in words


def test_failed_pages_keep_the_feeds_text_and_say_why(
        feed_server: FeedServer, make_config: Any) -> None:
    url = serve_blog(feed_server, pages=False)  # the first page answers 404
    slow, bare = list(POSTS)[1], "/2012/07/vis-ma-vie.html"
    feed_server.set(slow, article_page("Vis ma vie", paragraphs_of("post-blogger.txt")),
                    content_type="text/html", delay=3.0)
    config = make_config([{"name": "Blog", "url": url}], timeout="1s")
    poll(config)
    found = rows(config)
    assert [row.page_status for row in found] == ["failed", "failed"]
    assert "404" in found[0].page_reason and "no answer" in found[1].page_reason
    assert all(row.page_html is None for row in found)
    # A page with no article on it: the feed's text stays too.
    feed_server.set(bare, b"<html><body><nav><a href='/'>Accueil</a></nav></body></html>",
                    content_type="text/html")
    store = Store.open(config.settings.database)
    try:
        from aggregator.fulltext.queue import fetch_pages
        fetch_pages(store, make_session(), config, NOW, forced="Blog")
        entry = next(e for e in store.feed_entries("Blog") if e.link.endswith(bare))
    finally:
        store.close()
    assert "Lire la suite" in (entry.content or entry.summary)
    assert rows(config)[1].page_reason in ("no article found on the page",
                                           "the page gives no more text than the feed")


def _full_feed(server: FeedServer) -> str:
    """The blog's own feed, whole articles, published a day before the mirror's teasers."""
    items = [(title, server.url(path),
              "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs_of(name)),
              NOW - timedelta(days=10 + number))
             for number, (path, (title, name)) in enumerate(POSTS.items())]
    return server.set("/full.xml", rss(items))


def _mirror_feed(server: FeedServer, pages: FeedServer) -> str:
    """Hellocoton-like teasers: other titles, links to the mirror's own article pages."""
    items = []
    for number, (path, (title, name)) in enumerate(POSTS.items()):
        text = paragraphs_of(name)
        pages.set("/mirror" + path, article_page(title, text), content_type="text/html")
        items.append((f"{title} - Hellocoton", pages.url("/mirror" + path), teaser(text),
                      NOW - timedelta(days=2 + number)))
    return server.set("/mirror.xml", rss(items))


@pytest.mark.parametrize("teaser_first", [True, False])
def test_mirror_teasers_are_copies_of_the_whole_articles(
        feed_server: FeedServer, make_config: Any, teaser_first: bool) -> None:
    pages = FeedServer()
    try:
        feeds = [{"name": "Hellocoton", "url": _mirror_feed(feed_server, pages)},
                 {"name": "Blog", "url": _full_feed(feed_server)}]
        config = make_config(feeds if teaser_first else feeds[::-1])
        for feed in config.feeds:
            poll(config, only=feed.name)
    finally:
        pages.close()
    found = rows(config)
    assert len({row.article_id for row in found}) == 2, found
    for row in found:
        assert row.is_canonical == (row.name == "Blog")


def _one_page_blog(server: FeedServer, page: bytes, content_type: str) -> str:
    """A teaser feed of sample 003's post, its article page served as `content_type`."""
    path, (title, name) = next(iter(POSTS.items()))
    server.set(path, page, content_type=content_type)
    return server.set("/feed.xml", rss([(title, server.url(path), teaser(paragraphs_of(name)),
                                         NOW - timedelta(days=1))]))


def test_a_photos_caption_stays_with_its_image(feed_server: FeedServer,
                                               make_config: Any) -> None:
    page = (Path(__file__).parent / "data" / "articles" / "wp-existe.html").read_bytes()
    config = make_config([{"name": "Blog", "url": _one_page_blog(feed_server, page,
                                                                 "text/html; charset=utf-8")}])
    poll(config)
    (row,) = rows(config)
    assert row.page_status == "fetched"
    image = row.page_html.index("le-metier-qui-nexiste-pas-1024x576.jpg")
    caption = row.page_html.index("Le métier qui n’existe pas – Crédit photo izart.fr")
    # Right after its image, before the article's first paragraph.
    assert image < caption < row.page_html.index("Bonjour à toutes et à tous")


def test_windows_1252_bytes_labelled_utf8_read_as_a_feeds_are(
        feed_server: FeedServer, make_config: Any) -> None:
    title, name = "Sécurité : le métier qui n’existe pas", "post-isabelle.txt"
    page = article_page(title, ["Sécurité d’abord, l’été comme l’hiver.",
                                *paragraphs_of(name)]).decode()
    url = _one_page_blog(feed_server, page.encode("cp1252", "xmlcharrefreplace"),
                         "text/html; charset=UTF-8")
    config = make_config([{"name": "Blog", "url": url}])
    poll(config)
    (row,) = rows(config)
    assert row.page_status == "fetched"
    assert "Sécurité d’abord, l’été comme l’hiver." in row.page_html
    assert "\ufffd" not in row.page_html
