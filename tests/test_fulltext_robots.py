"""robots.txt for article pages kept across a daemon's runs of the page queue: asked for
once per host, again once its lifetime is over (RFC 9309), a bounded number of hosts."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest

from aggregator.fulltext.background import BackgroundPages
from aggregator.fulltext.robots import ROBOTS_LIFETIME, ROBOTS_RETRY, RobotsCache, read_robots
from aggregator.models import FetchResult
from aggregator.poll.fetch import make_session
from aggregator.poll.run import update_feeds
from aggregator.store import Store
from tests.conftest import FeedServer
from tests.test_fulltext import NOW, article_page, paragraphs_of, rss, teaser

RULES = b"User-agent: *\nDisallow: /prive/\n"
PATHS = ["/", "/2016/billet.html", "/prive/x"]


def test_a_daemons_runs_ask_for_robots_txt_once_a_lifetime(
        feed_server: FeedServer, make_config: Any) -> None:
    feed_server.set("/robots.txt", RULES, content_type="text/plain")
    text = paragraphs_of("post-isabelle.txt")
    items: list[tuple[str, str, str, datetime]] = []

    def publish(number: int, when: datetime) -> str:
        """One more post on the blog: its page, and the feed with it on top."""
        path = f"/2016/billet-{number}.html"
        feed_server.set(path, article_page(f"Billet {number}", [f"Billet {number}.", *text]),
                        content_type="text/html")
        items.insert(0, (f"Billet {number}", feed_server.url(path), teaser(text), when))
        return feed_server.set("/feed.xml", rss(items))

    config = make_config([{"name": "Blog", "url": publish(0, NOW - timedelta(days=1))}])
    store = Store.open(config.settings.database)
    pages = BackgroundPages(store, make_session(), threading.Event())
    asked = []
    try:
        # Three ticks of one daemon, each with a new post whose page is due.
        for number, now in enumerate((NOW, NOW + timedelta(hours=2),
                                      NOW + ROBOTS_LIFETIME + timedelta(hours=1))):
            if number:
                publish(number, now - timedelta(minutes=5))
            update_feeds(store, make_session(), config, now, force=True, pages=False)
            run = pages.start(config, now)
            assert run is not None
            report = run.result()
            assert report is not None and report.fetched == 1
            asked.append(len(feed_server.hits("/robots.txt")))
    finally:
        pages.shutdown()
        store.close()
    assert asked == [1, 1, 2]
    assert [len(feed_server.hits(f"/2016/billet-{n}.html")) for n in range(3)] == [1, 1, 1]


def _answer(status: int | None, content: bytes | None = None) -> FetchResult:
    return FetchResult("http://h/robots.txt", "http://h/robots.txt", status, content)


@pytest.mark.parametrize(("status", "content", "allowed", "lifetime"), [
    (200, RULES, ["/", "/2016/billet.html"], ROBOTS_LIFETIME),  # the file: its rules
    (404, b"<h1>Introuvable</h1>", PATHS, ROBOTS_LIFETIME),  # no file: all allowed
    (401, None, PATHS, ROBOTS_LIFETIME),
    (503, b"<h1>Indisponible</h1>", [], ROBOTS_RETRY),  # not read: nothing, for an hour
    (None, None, [], ROBOTS_RETRY),
    (200, None, [], ROBOTS_RETRY),  # an answer without the file is not one
    (302, None, [], ROBOTS_RETRY),  # redirects past the bound
])
def test_what_a_robots_txt_fetch_allows_and_for_how_long(
        status: int | None, content: bytes | None, allowed: list[str],
        lifetime: timedelta) -> None:
    rules, holds = read_robots(_answer(status, content))
    assert [p for p in PATHS if rules.can_fetch("aggregator", f"http://h{p}")] == allowed
    assert holds == lifetime


def test_a_file_not_read_forbids_all_for_an_hour_not_a_day() -> None:
    answers = [_answer(None), _answer(503), _answer(200, RULES)]
    asked: list[str] = []

    def get(url: str) -> FetchResult:
        asked.append(url)
        return answers[len(asked) - 1]

    robots = RobotsCache()
    page = "http://h.example/2016/billet.html"
    assert not robots.allows(page, NOW, get)
    assert not robots.allows(page, NOW + ROBOTS_RETRY / 2, get)
    assert not robots.allows(page, NOW + ROBOTS_RETRY, get)  # asked again: a 503
    assert robots.allows(page, NOW + 2 * ROBOTS_RETRY, get)
    assert not robots.allows("http://h.example/prive/x", NOW + ROBOTS_LIFETIME, get)
    assert asked == ["http://h.example/robots.txt"] * 3


def test_the_least_recently_asked_host_goes_first() -> None:
    asked: list[str] = []

    def get(url: str) -> FetchResult:
        asked.append(url)
        return _answer(404)

    robots = RobotsCache(hosts=2)
    for host in ("a", "b", "a", "c", "a", "b"):
        assert robots.allows(f"http://{host}.example/page", NOW, get)
    # c pushed b out (a was asked after b); b then pushed c out.
    assert [url.split(".")[0].removeprefix("http://") for url in asked] == ["a", "b", "c", "b"]
